import { Fragment, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { OkOf } from '../../../shared/protocol.ts';
import { parseSearch, type SearchQuery } from '../../../shared/search-query.ts';
import { roomTitle } from '../core/room-info.ts';
import { indexOfSeq } from '../core/log-entries.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { navigate, roomPath } from '../route.ts';

type Result = OkOf<'search'>['results'][number];

/** The search runs again this long after the last keystroke. */
const TYPING_MS = 400;
/** How long opening a result waits for its room to load before bringing the message into view. */
const OPEN_WAIT_MS = 10_000;
const OPEN_POLL_MS = 50;

/** One filter the query holds, as a chip: its label and the text that removes it from the query. */
interface Chip {
  label: string;
  pattern: RegExp;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The query's filters as chips (each removable). */
export function chipsOf(q: SearchQuery): Chip[] {
  const token = (re: string) => new RegExp(`(^|\\s)${re}(?=\\s|$)`, 'giu');
  return [
    ...q.rooms.map((r) => ({ label: `in: #${r}`, pattern: token(`in:#?${escapeRe(r)}`) })),
    ...q.from.map((f) => ({ label: `from: @${f}`, pattern: token(`from:@?${escapeRe(f)}`) })),
    ...(q.hasLink ? [{ label: 'has: link', pattern: token('has:link') }] : []),
    ...(q.before !== undefined ? [{ label: `before: ${new Date(q.before).toISOString().slice(0, 10)}`, pattern: token('before:\\d{4}-\\d{2}-\\d{2}') }] : []),
    ...(q.after !== undefined ? [{ label: `after: ${new Date(q.after - 86_400_000).toISOString().slice(0, 10)}`, pattern: token('after:\\d{4}-\\d{2}-\\d{2}') }] : []),
  ];
}

export function withoutChip(text: string, chip: Chip): string {
  return text.replace(chip.pattern, ' ').replace(/\s+/g, ' ').trim();
}

/** A snippet with its matched ranges marked: text nodes and <mark>s we build, never HTML from the server. */
function Snippet({ text, highlights }: { text: string; highlights: ReadonlyArray<readonly [number, number]> }) {
  const parts: Array<{ text: string; mark: boolean }> = [];
  let at = 0;
  for (const [a, b] of highlights) {
    if (a < at || b > text.length || b <= a) continue;
    if (a > at) parts.push({ text: text.slice(at, a), mark: false });
    parts.push({ text: text.slice(a, b), mark: true });
    at = b;
  }
  if (at < text.length) parts.push({ text: text.slice(at), mark: false });
  return (
    <span className="search-snippet" dir="auto">
      {parts.map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : <Fragment key={i}>{p.text}</Fragment>))}
    </span>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * The search field in the header (Ctrl+K or / focuses it) and its results:
 * grouped by room, matched words highlighted, filters shown as chips, arrow
 * keys to move, Enter to open a result in its conversation. Results follow
 * edits and deletes the client sees while they are shown.
 */
export function SearchBox() {
  const client = useChatClient();
  const snap = useChatSnapshot();
  const input = useRef<HTMLInputElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [answer, setAnswer] = useState<{ q: string; results: Result[]; next?: string | undefined } | { q: string; error: string } | null>(null);
  const [run, setRun] = useState(0);
  const resultsId = useId();
  const parsed = useMemo(() => parseSearch(q), [q]);
  const chips = chipsOf(parsed);

  // Ctrl+K (⌘K) anywhere, or / outside a text field, focuses the search.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target?.closest('input, textarea, [contenteditable="true"]') !== null;
      if (((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') || (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey)) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
        setOpen(true);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!open || q.trim() === '') return;
    let live = true;
    const timer = setTimeout(
      () =>
        void client.actions.search({ q }).then((res) => {
          if (!live) return;
          setAnswer(res.ok ? { q, results: res.results, next: res.next } : { q, error: res.message });
        }),
      run > 0 ? 0 : TYPING_MS,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, q, open, run]);

  // A shown result whose message this client saw edited or deleted: ask again, for its current text.
  const results = answer && 'results' in answer ? answer.results : null;
  const changed = useMemo(() => {
    if (!results) return '';
    return results
      .filter((r) => {
        const held = snap.rooms[r.room];
        const i = held ? indexOfSeq(held.messages, r.seq) : -1;
        const m = i >= 0 ? held?.messages[i] : undefined;
        return m !== undefined && (m.deleted === true || m.text !== r.text);
      })
      .map((r) => r.id)
      .join(' ');
  }, [results, snap.rooms]);
  const shownQ = answer?.q;
  useEffect(() => {
    if (changed === '' || shownQ === undefined) return;
    let live = true;
    void client.actions.search({ q: shownQ }).then((res) => {
      if (live && res.ok) setAnswer({ q: shownQ, results: res.results, next: res.next });
    });
    return () => {
      live = false;
    };
  }, [client, changed, shownQ]);

  /** Removes a filter from the query; focus goes back to the field, to type on. */
  const drop = (c: Chip) => {
    setQ(withoutChip(q, c));
    input.current?.focus();
  };

  const close = () => {
    setOpen(false);
    input.current?.focus();
  };

  const openResult = (r: Result) => {
    setOpen(false);
    navigate(roomPath(r.room));
    // Once the room is loaded, bring the message into view (older pages are read as needed).
    let tries = 0;
    const tryReveal = () => {
      const room = client.getSnapshot().rooms[r.room];
      if (room?.loaded) return void client.actions.reveal(r.room, r.seq);
      if (++tries < OPEN_WAIT_MS / OPEN_POLL_MS) setTimeout(tryReveal, OPEN_POLL_MS);
    };
    tryReveal();
  };

  const more = async () => {
    if (!answer || !('results' in answer) || !answer.next) return;
    const res = await client.actions.search({ q: answer.q, cursor: answer.next });
    if (res.ok) setAnswer({ q: answer.q, results: [...answer.results, ...res.results], next: res.next });
  };

  /** Arrow keys move between the results (and back up to the field); Escape closes. */
  const onKeys = (e: ReactKeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = [...(panel.current?.querySelectorAll<HTMLButtonElement>('.search-result') ?? [])];
    if (buttons.length === 0) return;
    e.preventDefault();
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = e.key === 'ArrowDown' ? Math.min(at + 1, buttons.length - 1) : at - 1;
    if (next < 0) input.current?.focus();
    else buttons[next]?.focus();
  };

  const groups = new Map<string, Result[]>();
  for (const r of results ?? []) groups.set(r.room, [...(groups.get(r.room) ?? []), r]);
  const labelOf = (r: Result) => (r.title !== undefined ? r.title : r.room.startsWith('dm-') ? 'Direct message' : `#${roomTitle(r.room, snap.roomInfo[r.room])}`);
  const showing = open && q.trim() !== '' && answer !== null && answer.q === q;

  return (
    <div
      className="search"
      onKeyDown={onKeys}
      onBlur={(e) => {
        // Focus left the search (Tab, a click elsewhere): the results close.
        if (e.relatedTarget instanceof Node && !e.currentTarget.contains(e.relatedTarget)) setOpen(false);
      }}
    >
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setOpen(true);
          setRun((n) => n + 1);
        }}
      >
        <input
          ref={input}
          type="search"
          className="search-input"
          aria-label="Search messages"
          placeholder="Search (Ctrl+K)"
          maxLength={256}
          value={q}
          aria-controls={resultsId}
          aria-expanded={showing}
          onFocus={() => setOpen(true)}
          onChange={(e) => {
            setQ(e.target.value);
            setOpen(true);
          }}
        />
      </form>
      {open && chips.length > 0 && (
        <ul className="search-chips" aria-label="Filters">
          {chips.map((c) => (
            <li key={c.label} className="search-chip">
              {c.label}
              <button type="button" className="chip-remove" aria-label={`Remove filter ${c.label}`} onClick={() => drop(c)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {showing && (
        <div ref={panel} id={resultsId} className="search-results" role="region" aria-label="Search results">
          {'error' in answer ? (
            <p role="alert">{answer.error}</p>
          ) : answer.results.length === 0 ? (
            <div className="search-empty">
              <p role="status">No messages match.</p>
              {chips.length > 0 && (
                <p>
                  Try without{' '}
                  {chips.map((c) => (
                    <button key={c.label} type="button" className="button small" onClick={() => drop(c)}>
                      {c.label}
                    </button>
                  ))}
                </p>
              )}
            </div>
          ) : (
            <>
              <p className="visually-hidden" role="status">
                {answer.results.length} {answer.results.length === 1 ? 'result' : 'results'}
              </p>
              {[...groups].map(([room, rs]) => (
                <section key={room} className="search-group" aria-label={labelOf(rs[0] as Result)}>
                  <h2 className="search-room">{labelOf(rs[0] as Result)}</h2>
                  <ul>
                    {rs.map((r) => (
                      <li key={r.id}>
                        <button type="button" className="search-result" data-room={r.room} data-seq={r.seq} onClick={() => openResult(r)}>
                          <span className="search-meta">
                            <bdi className="search-author">{r.author}</bdi> <time dateTime={new Date(r.ts).toISOString()}>{timeFormat.format(r.ts)}</time>
                          </span>
                          <Snippet text={r.snippet} highlights={r.highlights} />
                        </button>
                      </li>
                    ))}
                  </ul>
                </section>
              ))}
              {answer.next && (
                <button type="button" className="button small search-more" onClick={() => void more()}>
                  More results
                </button>
              )}
            </>
          )}
        </div>
      )}
    </div>
  );
}
