import { useEffect, useState, type FormEvent } from 'react';
import { ROOM_PATTERN } from '../../../shared/protocol.ts';
import type { MyRoomEntry } from '../core/my-rooms.ts';
import { roomEntryName, roomLabel } from '../core/room-label.ts';
import { countText } from '../core/unread.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { LOBBY, navigate, roomPath } from '../route.ts';
import { BrowseRoomsDialog } from './browse-rooms-dialog.tsx';

interface ListedRoom {
  room: string;
  label: string;
  entry: MyRoomEntry | undefined;
}

/** Lobby first, then public rooms by name, private rooms by title, direct messages by person. */
function listed(current: string, rooms: readonly MyRoomEntry[]): ListedRoom[] {
  const byRoom = new Map(rooms.map((r) => [r.room, r]));
  const names = new Set([LOBBY, ...rooms.map((r) => r.room), current]);
  const rank = (e: MyRoomEntry | undefined) => (e?.visibility === 'dm' ? 2 : e?.visibility === 'private' ? 1 : 0);
  return [...names]
    .map((room) => ({ room, entry: byRoom.get(room), label: roomLabel(room, byRoom.get(room)) }))
    .sort((a, b) =>
      a.room === LOBBY ? -1 : b.room === LOBBY ? 1 : rank(a.entry) - rank(b.entry) || a.label.localeCompare(b.label),
    );
}

/**
 * The user's rooms (they survive a reload: the server keeps the list), each
 * with what is unread in it and a "Leave" button; "Browse rooms" for the
 * public ones, and a field to go to a room by name.
 */
export function RoomSwitcher({ current }: { current: string }) {
  const client = useChatClient();
  const { rooms, connection, myRooms } = useChatSnapshot();
  const state = rooms[current];
  const online = useOnlineCounts(current, connection.status === 'online' && state?.status === 'joined', state?.members.length ?? 0);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [leaveError, setLeaveError] = useState<string | null>(null);
  const [browsing, setBrowsing] = useState(false);

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

  const leave = async (room: string) => {
    setLeaveError(null);
    // Out of the room first: the open room would otherwise be joined, and listed, again.
    if (room === current) navigate(roomPath(LOBBY));
    const failed = await client.partRoom(room);
    if (failed) setLeaveError(failed);
  };

  return (
    <section className="panel-section" aria-labelledby="rooms-title">
      <div className="panel-heading">
        <h2 id="rooms-title" className="panel-title">
          Rooms
        </h2>
        <button type="button" className="button ghost small" onClick={() => setBrowsing(true)}>
          Browse rooms
        </button>
      </div>
      <nav aria-labelledby="rooms-title">
        <ul className="room-links">
          {listed(current, myRooms.rooms).map(({ room, label, entry }) => {
            const unread = entry?.view.unread ?? 0;
            const mentions = entry?.view.mentions ?? 0;
            return (
              <li key={room} className="room-entry">
                <a
                  href={roomPath(room)}
                  aria-current={room === current ? 'page' : undefined}
                  aria-label={roomEntryName(label, unread, mentions, online[room])}
                  className={unread > 0 ? 'has-unread' : undefined}
                  data-room={room}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(roomPath(room));
                  }}
                >
                  <span className="room-link-name">
                    <span className="room-link-label">
                      {label.startsWith('#') ? (
                        <>
                          <span aria-hidden="true" className="room-hash">
                            #
                          </span>
                          <bdi>{label.slice(1)}</bdi>
                        </>
                      ) : (
                        <bdi>{label}</bdi>
                      )}
                    </span>
                    {online[room] !== undefined && (
                      // The separator reads where the line break shows (and keeps this apart from the top bar's "N online").
                      <span className="room-online">
                        <span className="visually-hidden">, </span>
                        {online[room]} online
                      </span>
                    )}
                  </span>
                  {mentions > 0 && (
                    <span className="mention-mark" title={`${mentions} ${mentions === 1 ? 'mention' : 'mentions'}`}>
                      @
                    </span>
                  )}
                  {unread > 0 && <span className="unread-badge">{countText(unread)}</span>}
                </a>
                {room !== LOBBY && entry && (
                  <button type="button" className="button ghost small leave-room" aria-label={`Leave ${label}`} title="Leave room" onClick={() => void leave(room)}>
                    <span aria-hidden="true">×</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      </nav>
      {leaveError && (
        <p className="form-error" role="alert">
          {leaveError}
        </p>
      )}
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
      {browsing && <BrowseRoomsDialog onClose={() => setBrowsing(false)} />}
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
