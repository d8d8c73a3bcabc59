import { useEffect, useState, type FormEvent } from 'react';
import { ROOM_PATTERN } from '../../../shared/protocol.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { LOBBY, navigate, roomPath } from '../route.ts';

/** Go to a room by name, or back to one visited before. */
export function RoomSwitcher({ current }: { current: string }) {
  const { rooms, connection } = useChatSnapshot();
  const state = rooms[current];
  const online = useOnlineCounts(current, connection.status === 'online' && state?.status === 'joined', state?.members.length ?? 0);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const known = [...new Set([LOBBY, ...Object.keys(rooms)])].sort((a, b) =>
    a === LOBBY ? -1 : b === LOBBY ? 1 : a.localeCompare(b),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const room = name.trim().toLowerCase().replace(/^#/, '');
    if (!ROOM_PATTERN.test(room)) {
      setError('Use lowercase letters, digits, “-” and “_”.');
      return;
    }
    setError(null);
    setName('');
    navigate(roomPath(room));
  };

  return (
    <section className="panel-section" aria-labelledby="rooms-title">
      <h2 id="rooms-title" className="panel-title">
        Rooms
      </h2>
      <nav aria-labelledby="rooms-title">
        <ul className="room-links">
          {known.map((room) => (
            <li key={room}>
              <a
                href={roomPath(room)}
                aria-current={room === current ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(roomPath(room));
                }}
              >
                <span aria-hidden="true">#</span>
                {room}
                {online[room] !== undefined && <span className="room-online"> · {online[room]} online</span>}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <form className="room-form" onSubmit={submit}>
        <label className="field-label" htmlFor="room-name">
          Room name
        </label>
        <div className="inline-field">
          <input
            id="room-name"
            className="text-input"
            value={name}
            maxLength={64}
            placeholder="e.g. design"
            onChange={(e) => setName(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'room-name-error' : undefined}
          />
          <button type="submit" className="button">
            Go
          </button>
        </div>
        {error && (
          <p id="room-name-error" className="form-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

/**
 * How many people are in each room this connection is in (the `rooms`
 * command), asked again when the open room, the connection or the open
 * room's presence changes.
 */
function useOnlineCounts(current: string, connected: boolean, present: number): Record<string, number> {
  const client = useChatClient();
  const [counts, setCounts] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!connected) return;
    let live = true;
    void client.listRooms().then((rooms) => {
      if (live && rooms) setCounts(Object.fromEntries(rooms.map((r) => [r.room, r.members])));
    });
    return () => {
      live = false;
    };
  }, [client, current, connected, present]);
  return counts;
}
