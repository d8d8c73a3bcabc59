/** Who is in the room now. */
export function MemberList({ members, me }: { members: readonly string[]; me: string | null }) {
  const sorted = [...new Set(members)].sort((a, b) => a.localeCompare(b));
  return (
    <section className="panel-section" aria-labelledby="members-title">
      <h2 id="members-title" className="panel-title">
        People here
      </h2>
      {sorted.length === 0 ? (
        <p className="muted">Nobody else yet.</p>
      ) : (
        <ul className="member-list">
          {sorted.map((name) => (
            <li key={name} className="member">
              <span className="avatar" aria-hidden="true">
                {initial(name)}
              </span>
              <span className="member-name">{name}</span>
              {name === me && <span className="you-tag">you</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function initial(name: string): string {
  return (Array.from(name.trim())[0] ?? '?').toUpperCase();
}
