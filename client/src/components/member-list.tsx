import type { User } from '../../../shared/protocol.ts';
import type { TagOf } from '../core/name-tags.ts';
import { hasUserId } from '../core/room-log.ts';
import { NameLabel } from './name-label.tsx';
import { MessageButton } from './message-button.tsx';

/**
 * Who is in the room now, one row per user. Two people whose names read the
 * same are told apart by a short tag from their user id, and "you" marks
 * only this user's own id. "Message" next to someone opens a direct message.
 */
export function MemberList({ members, me, tagOf }: { members: readonly User[]; me: string | null; tagOf: TagOf }) {
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
              <NameLabel className="member-name" name={u.name} tag={tagOf(u)} />
              {u.userId === me && <span className="you-tag">{' you'}</span>}
              {u.userId !== me && me !== null && hasUserId(u) && (
                <span className="member-actions">
                  <MessageButton user={u} />
                </span>
              )}
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
