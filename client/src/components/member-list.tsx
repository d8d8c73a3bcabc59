import type { User } from '../../../shared/protocol.ts';
import { displayTag } from '../../../shared/protocol.ts';

/**
 * Who is in the room now, one row per user. Two people with the same display
 * name are told apart by a short tag from their user id, and "you" marks only
 * this user's own id.
 */
export function MemberList({ members, me }: { members: readonly User[]; me: string | null }) {
  const shared = sharedNames(members);
  return (
    <section className="panel-section" aria-labelledby="members-title">
      <h2 id="members-title" className="panel-title">
        People here
      </h2>
      {members.length === 0 ? (
        <p className="muted">Nobody else yet.</p>
      ) : (
        <ul className="member-list">
          {members.map((u) => (
            <li key={u.userId} className="member" data-user-id={u.userId}>
              <span className="avatar" aria-hidden="true">
                {initial(u.name)}
              </span>
              <span className="member-name">{u.name}</span>
              {shared.has(u.name) && <span className="member-tag">{displayTag(u.userId)}</span>}
              {u.userId === me && <span className="you-tag">you</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Names that more than one of `users` carries. */
export function sharedNames(users: readonly User[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const u of users) (seen.has(u.name) ? shared : seen).add(u.name);
  return shared;
}

export function initial(name: string): string {
  return (Array.from(name.trim())[0] ?? '?').toUpperCase();
}
