import { Fragment } from 'react';
import type { User } from '../../../shared/protocol.ts';
import type { TagOf } from '../core/name-tags.ts';
import { NameLabel } from './name-label.tsx';

/** "bob is typing…", announced politely to screen readers; names carry their tag when two read the same. */
export function TypingIndicator({ users, tagOf }: { users: readonly User[]; tagOf: TagOf }) {
  return (
    <div className="typing" aria-live="polite">
      <TypingText users={users} tagOf={tagOf} />
    </div>
  );
}

function TypingText({ users, tagOf }: { users: readonly User[]; tagOf: TagOf }) {
  if (users.length === 0) return null;
  if (users.length > 2) return <>{users.length} people are typing…</>;
  return (
    <>
      {users.map((u, i) => (
        <Fragment key={u.userId}>
          {i > 0 && ' and '}
          <NameLabel name={u.name} tag={tagOf(u)} />
        </Fragment>
      ))}{' '}
      {users.length === 1 ? 'is' : 'are'} typing…
    </>
  );
}
