import { useEffect, useState } from 'react';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { LOBBY, replacePath, roomPath } from '../route.ts';

/**
 * `/invite/<token>`: joins the private room the link opens, then shows it
 * (the address becomes the room's, so a reload does not use the link again).
 * A revoked or unknown link says so.
 */
export function AcceptInvite({ token }: { token: string }) {
  const client = useChatClient();
  const online = useChatSnapshot().connection.status === 'online';
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!online) return;
    let live = true;
    void client.actions.acceptInvite(token).then((r) => {
      if (!live) return;
      if (r.ok) replacePath(roomPath(r.room));
      else setError(r.message);
    });
    return () => {
      live = false;
    };
  }, [client, token, online]);

  return (
    <main className="welcome">
      <div className="welcome-card">
        <h1 className="brand">Fiberchat</h1>
        {error ? (
          <>
            <p className="form-error" role="alert">
              {error}
            </p>
            <a className="button primary" href={roomPath(LOBBY)}>
              Go to #{LOBBY}
            </a>
          </>
        ) : (
          <p role="status">Opening the invitation…</p>
        )}
      </div>
    </main>
  );
}
