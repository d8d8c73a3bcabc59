import type { User } from '../../../shared/protocol.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { navigate, roomPath } from '../route.ts';

/** Opens (creating on first use) the direct message with `user`. */
export function MessageButton({ user, onError }: { user: User; onError?: (e: string | null) => void }) {
  const client = useChatClient();
  const open = async () => {
    const r = await client.actions.openDm(user.userId);
    if (r.ok) navigate(roomPath(r.room));
    onError?.(r.ok ? null : r.message);
  };
  return (
    <button type="button" className="button ghost small" onClick={() => void open()} aria-label={`Message ${user.name}`}>
      Message
    </button>
  );
}
