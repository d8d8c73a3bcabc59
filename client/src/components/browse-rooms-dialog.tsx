import { useEffect, useId, useRef, useState } from 'react';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { navigate, roomPath } from '../route.ts';

/** The directory is asked again this long after the last keystroke. */
const SEARCH_DEBOUNCE_MS = 250;

type Listing = Array<{ room: string; members: number; lastSeq: number; lastActivity?: number | undefined }>;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "5 minutes ago", "yesterday": the largest unit that fits. */
export function lastActiveText(ts: number, now: number): string {
  const s = Math.round((ts - now) / 1000);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) if (Math.abs(s) >= size) return relative.format(Math.round(s / size), unit);
  return 'just now';
}

/**
 * "Browse rooms": the public rooms (the `directory` command), busiest first,
 * each with who is there and when it was last active; a search box narrows
 * them by name, and choosing one opens it. A modal `<dialog>`: focus starts
 * in the search box, Escape closes, focus returns to where it was.
 */
export function BrowseRoomsDialog({ onClose }: { onClose: () => void }) {
  const client = useChatClient();
  const online = useChatSnapshot().connection.status === 'online';
  const dialog = useRef<HTMLDialogElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const [q, setQ] = useState('');
  const [result, setResult] = useState<{ q: string; rooms: Listing; at: number } | { q: string; error: string } | null>(null);
  const titleId = useId();

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    search.current?.focus();
    return () => {
      if (el.open) el.close();
      if (before?.isConnected) before.focus();
    };
  }, []);

  useEffect(() => {
    if (!online) return;
    let live = true;
    const timer = setTimeout(
      () =>
        void client.browseRooms(q).then((res) => {
          if (!live) return;
          setResult(res.ok ? { q, rooms: res.rooms, at: Date.now() } : { q, error: res.message });
        }),
      q === '' ? 0 : SEARCH_DEBOUNCE_MS,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, q, online]);

  const open = (room: string) => {
    onClose();
    navigate(roomPath(room));
  };

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog browse-dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId} className="dialog-title">
        Browse rooms
      </h2>
      <label className="field-label" htmlFor="browse-search">
        Search rooms
      </label>
      <input
        id="browse-search"
        ref={search}
        type="search"
        className="text-input"
        value={q}
        maxLength={64}
        placeholder="e.g. design"
        autoComplete="off"
        onChange={(e) => setQ(e.target.value)}
      />
      <div className="browse-results" aria-live="polite" aria-busy={result?.q !== q || undefined}>
        {!online ? (
          <p className="muted">Not connected. The list shows once the connection is back.</p>
        ) : result === null ? (
          <p className="muted">Loading rooms…</p>
        ) : 'error' in result ? (
          <p className="form-error">{result.error}</p>
        ) : result.rooms.length === 0 ? (
          <p className="muted">{q.trim() === '' ? 'No public rooms yet.' : 'No room matches that name.'}</p>
        ) : (
          <ul className="browse-list" aria-label="Public rooms">
            {result.rooms.map((r) => (
              <li key={r.room}>
                <button type="button" className="browse-room" onClick={() => open(r.room)}>
                  <span className="browse-name">
                    <span aria-hidden="true" className="room-hash">
                      #
                    </span>
                    {r.room}
                  </span>
                  <span className="browse-meta">
                    {r.members} online
                    {r.lastActivity !== undefined && <> · active {lastActiveText(r.lastActivity, result.at)}</>}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
