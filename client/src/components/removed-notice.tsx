import { useEffect } from 'react';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { LOBBY, navigate, roomPath } from '../route.ts';

/**
 * "You were removed from <title>": the room's owner took the user out of a
 * private room. If it is open, the view leaves it for the lobby; the notice
 * stays until dismissed.
 */
export function RemovedNotice({ current }: { current: string }) {
  const client = useChatClient();
  const { removedFrom } = useChatSnapshot();

  useEffect(() => {
    if (removedFrom?.room === current) navigate(roomPath(LOBBY));
  }, [removedFrom, current]);

  if (!removedFrom) return null;
  return (
    <div className="notice" role="alert">
      <span>
        You were removed from <bdi className="dialog-name">{removedFrom.title}</bdi>.
      </span>
      <button type="button" className="button ghost small" onClick={() => client.actions.dismissRemoved()}>
        Dismiss
      </button>
    </div>
  );
}
