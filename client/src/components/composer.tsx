import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS } from '../../../shared/protocol.ts';
import { candidates, complete, mentionAt, resolveMentions, suggest, type Suggestion } from '../core/mentions.ts';
import { usersInView } from '../core/name-tags.ts';
import { emptyRoom } from '../core/room-log.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { NameLabel } from './name-label.tsx';

/**
 * The message box. Enter sends, Shift+Enter starts a new line. Typing works
 * while disconnected: messages queue and go out on reconnect.
 *
 * `@` followed by the start of a name offers the people in the room (the
 * combobox pattern on a multi-line textbox, which keeps its textbox role:
 * `aria-autocomplete="list"`, `aria-controls` naming the listbox and
 * `aria-activedescendant` the highlighted option). Arrow keys move, Enter or
 * Tab completes, Escape closes; the message then carries the userIds it
 * mentions.
 */
export function Composer({ room, label = `#${room}` }: { room: string; /** How the room is named to people (a private room's title). */ label?: string }) {
  const client = useChatClient();
  const { rooms, session } = useChatSnapshot();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  /** Where the `@` of a suggestion list closed with Escape stands; it stays closed for that `@`. */
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  /** Who each completed name stands for (a name two people share is told apart this way too). */
  const picked = useRef(new Map<string, string>());
  const pendingCaret = useRef<number | null>(null);

  const state = rooms[room];
  const me = session?.userId ?? null;
  const people = useMemo(() => candidates(usersInView(state ?? emptyRoom(room), null), me), [state, room, me]);
  const query = mentionAt(text, caret);
  const suggestions = query && query.start !== dismissedAt ? suggest(people, query.query) : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, suggestions.length - 1);

  // After switching rooms the next thing to do is usually to write, unless the
  // room was opened to show a message (a search result, a reply's original),
  // which holds the focus then.
  useEffect(() => {
    if (document.activeElement?.closest('.log')) return;
    box.current?.focus();
  }, [room]);

  // A completion moved the caret: put it there once the new text is in the box.
  useLayoutEffect(() => {
    const at = pendingCaret.current;
    if (at === null || !box.current) return;
    pendingCaret.current = null;
    box.current.setSelectionRange(at, at);
  }, [text]);

  const edit = (value: string, at: number) => {
    if (value.trim() === '' && text.trim() !== '') client.stopTyping(room);
    else if (value.trim() !== '') client.notifyTyping(room);
    setText(value);
    setCaret(at);
    setActive(0);
    if (error) setError(null);
  };

  const accept = (s: Suggestion) => {
    if (!query) return;
    const next = complete(text, query, s);
    picked.current.set(s.user.name.toLowerCase(), s.user.userId);
    pendingCaret.current = next.caret;
    edit(next.text, next.caret);
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const res = client.send(room, text, resolveMentions(text, people, picked.current));
    if (res.ok) {
      setText('');
      setCaret(0);
      setDismissedAt(null);
      picked.current.clear();
      setError(null);
    } else if (text.trim() !== '') {
      setError(res.message);
    }
    box.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: a key that confirms an IME composition is the IME's.
    if (e.nativeEvent.isComposing) return;
    if (open) {
      const choice = suggestions[activeIndex];
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((activeIndex + step + suggestions.length) % suggestions.length);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        if (choice) accept(choice);
        return;
      }
      if (e.key === 'Escape') {
        // Closes the list only (not the drawer or a dialog around it).
        e.preventDefault();
        e.stopPropagation();
        setDismissedAt(query?.start ?? null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    } else if (e.key === 'ArrowUp' && text === '' && client.actions.startEdit(room, 'last')) {
      // Up in an empty composer edits the user's last message (the editor takes focus).
      e.preventDefault();
    } else if (e.key === 'Escape' && client.actions.replyFor(room) !== undefined) {
      e.preventDefault();
      client.actions.cancelReply(room);
    }
  };

  const optionId = (i: number) => `mention-option-${i}`;

  return (
    <form className="composer" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="composer-text">
        Message
      </label>
      {open && (
        <ul id="mention-list" className="mention-list" role="listbox" aria-label="People to mention">
          {suggestions.map((s, i) => (
            <li
              key={s.user.userId}
              id={optionId(i)}
              role="option"
              aria-selected={i === activeIndex}
              className={i === activeIndex ? 'mention-option active' : 'mention-option'}
              // Keeps focus in the box: a click picks, it does not move focus away.
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
            >
              <NameLabel name={s.user.name} tag={s.tag} />
            </li>
          ))}
        </ul>
      )}
      <textarea
        id="composer-text"
        ref={box}
        className="composer-input"
        rows={Math.min(6, Math.max(1, text.split('\n').length))}
        placeholder={`Message ${label}`}
        value={text}
        autoFocus
        // A hard stop well past the limit (which counts code points, not UTF-16 units);
        // anything in between gets a clear message instead of silent truncation.
        maxLength={LIMITS.textMaxChars * 2}
        onChange={(e) => edit(e.target.value, e.target.selectionStart)}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        aria-autocomplete="list"
        aria-controls={open ? 'mention-list' : undefined}
        aria-activedescendant={open ? optionId(activeIndex) : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'composer-error composer-hint' : 'composer-hint'}
      />
      <button type="submit" className="button primary composer-send">
        Send
      </button>
      <p id="composer-hint" className="visually-hidden">
        Enter sends; Shift+Enter adds a new line. Type @ and a name to mention someone; Up edits your last message.
      </p>
      {/* Not role=status: the page's one status is the connection line. */}
      <p className="visually-hidden" aria-live="polite">
        {open ? `${suggestions.length} ${suggestions.length === 1 ? 'person matches' : 'people match'}; arrow keys to choose, Enter or Tab to insert.` : ''}
      </p>
      {error && (
        <p id="composer-error" className="form-error composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
