import { useEffect, useLayoutEffect, useMemo, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS, type Attachment } from '../../../shared/protocol.ts';
import { sizeText, uploadFile, type UploadHandle, type UploadResult } from '../core/files.ts';
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
  const uploads = useUploads(room, session?.token);
  /** Waiting for uploads to finish before the message goes. */
  const [waiting, setWaiting] = useState(false);

  const state = rooms[room];
  const me = session?.userId ?? null;
  const people = useMemo(() => candidates(usersInView(state ?? emptyRoom(room), null), me), [state, room, me]);
  const query = mentionAt(text, caret);
  const suggestions = query && query.start !== dismissedAt ? suggest(people, query.query) : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, suggestions.length - 1);

  // A message that waited for its files when the page closed was not sent (the files' bytes were the page's):
  // its text comes back, with which files to attach again. Read as the room opens (state adjusted while
  // rendering, as React does for a changed prop); the note is removed once read.
  const noteKey = unsentKey(me, room);
  const [noteRead, setNoteRead] = useState<string | null>(null);
  if (noteRead !== noteKey) {
    setNoteRead(noteKey);
    const left = readUnsent(noteKey);
    if (left) {
      if (left.text !== '' && text === '') {
        setText(left.text);
        setCaret(left.text.length);
      }
      const names = left.files.join(', ');
      setError(
        `Not sent: the page closed while ${left.files.length === 1 ? `${names} was` : `${names} were`} uploading. ${left.text !== '' ? 'Your text is back; attach' : 'Attach'} ${left.files.length === 1 ? 'the file' : 'the files'} again to send.`,
      );
    }
  }
  useEffect(() => {
    localStorage.removeItem(noteKey);
  }, [noteKey]);

  // While files upload (or a message waits for them) leaving the page loses them: the browser asks first,
  // and what they were is kept to say so on the next visit.
  useEffect(() => {
    if (uploads.list.length === 0) return;
    const key = unsentKey(me, room);
    try {
      localStorage.setItem(key, JSON.stringify({ text, files: uploads.list.map((u) => u.name) }));
    } catch {
      // Storage full or off: the browser's own question still warns.
    }
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => {
      window.removeEventListener('beforeunload', warn);
      localStorage.removeItem(key);
    };
  }, [me, room, text, uploads.list]);

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

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (waiting) return;
    let attachments: Attachment[] = [];
    if (uploads.list.length > 0) {
      // The message goes once its files are stored; meanwhile it waits here, its text still editable.
      setWaiting(true);
      const results = await Promise.all(uploads.list.map((u) => u.handle.done));
      setWaiting(false);
      const failed = results.find((r) => !r.ok && !r.cancelled);
      if (failed && !failed.ok) {
        setError(`A file could not be uploaded: ${failed.message}. Remove it to send the rest.`);
        return;
      }
      attachments = results.flatMap((r) => (r.ok ? [r.file] : []));
    }
    const res = client.send(room, text, resolveMentions(text, people, picked.current), attachments);
    if (res.ok) {
      setText('');
      setCaret(0);
      setDismissedAt(null);
      picked.current.clear();
      setError(null);
      uploads.clear();
    } else if (text.trim() !== '' || attachments.length > 0) {
      setError(res.message);
    }
    box.current?.focus();
  };

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...e.clipboardData.files];
    if (files.length === 0) return;
    e.preventDefault();
    uploads.add(files);
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
      void submit();
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
    <form className="composer" onSubmit={(e) => void submit(e)}>
      {uploads.list.length > 0 && (
        <ul className="composer-files" aria-label="Files to send">
          {uploads.list.map((u) => (
            <li key={u.key} className={u.result && !u.result.ok ? 'composer-file failed' : 'composer-file'}>
              <bdi className="composer-file-name">{u.name}</bdi>
              <span className="composer-file-size">{sizeText(u.size)}</span>
              {u.result ? (
                u.result.ok ? (
                  <span className="composer-file-state">ready</span>
                ) : (
                  <span className="composer-file-state form-error">{u.result.message}</span>
                )
              ) : (
                <progress className="composer-file-progress" max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />
              )}
              <button type="button" className="button ghost small" onClick={() => uploads.remove(u.key)} aria-label={`Remove ${u.name}`}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
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
        onPaste={onPaste}
        aria-autocomplete="list"
        aria-controls={open ? 'mention-list' : undefined}
        aria-activedescendant={open ? optionId(activeIndex) : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'composer-error composer-hint' : 'composer-hint'}
      />
      <label className="button ghost composer-attach" title="Attach files">
        <span aria-hidden="true">📎</span>
        <span className="visually-hidden">Attach files</span>
        <input
          type="file"
          multiple
          className="visually-hidden"
          onChange={(e) => {
            uploads.add([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
      </label>
      <button type="submit" className="button primary composer-send" disabled={waiting}>
        {waiting ? 'Uploading…' : 'Send'}
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

/** Where a message waiting for its files is noted while they upload, per user and room. */
function unsentKey(userId: string | null, room: string): string {
  return `fiberchat.unsentFiles.v1.${userId ?? 'anonymous'}.${room}`;
}

function readUnsent(key: string): { text: string; files: string[] } | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null') as { text?: unknown; files?: unknown } | null;
    if (!v || typeof v.text !== 'string' || !Array.isArray(v.files) || v.files.length === 0) return undefined;
    return { text: v.text, files: v.files.filter((f): f is string => typeof f === 'string').slice(0, 10) };
  } catch {
    return undefined;
  }
}

interface PendingUpload {
  key: string;
  name: string;
  size: number;
  progress: number;
  handle: UploadHandle;
  result?: UploadResult;
}

/**
 * The files picked, pasted or dropped for the next message of `room`: each
 * uploads at once, with its progress, and can be removed (cancelling it).
 * Files dropped anywhere on the page go to the open room. A room switch
 * cancels what was not sent.
 */
function useUploads(room: string, token: string | undefined) {
  const [list, setList] = useState<readonly PendingUpload[]>([]);
  const current = useRef(list);
  const next = useRef(0);

  const update = (key: string, change: Partial<PendingUpload>) => setList((l) => l.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const add = (files: readonly File[]) => {
    if (!token) return;
    const added = files.slice(0, Math.max(0, LIMITS.attachmentsPerMessage - current.current.length)).map((f): PendingUpload => {
      const key = `u${next.current++}`;
      const name = f.name || 'pasted file';
      const handle = uploadFile(token, room, f, name, (progress) => update(key, { progress }));
      void handle.done.then((result) => update(key, { result, progress: 1 }));
      return { key, name, size: f.size, progress: 0, handle };
    });
    setList((l) => [...l, ...added]);
  };

  const remove = (key: string) => {
    current.current.find((u) => u.key === key)?.handle.cancel();
    setList((l) => l.filter((u) => u.key !== key));
  };

  // Dropping files anywhere on the conversation attaches them.
  const addRef = useRef(add);
  useLayoutEffect(() => {
    current.current = list;
    addRef.current = add;
  });
  useEffect(() => {
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') === true;
    const over = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      addRef.current([...(e.dataTransfer?.files ?? [])]);
    };
    document.addEventListener('dragover', over);
    document.addEventListener('drop', drop);
    return () => {
      document.removeEventListener('dragover', over);
      document.removeEventListener('drop', drop);
    };
  }, []);

  useEffect(
    () => () => {
      for (const u of current.current) if (!u.result) u.handle.cancel();
      setList([]);
    },
    [room],
  );

  return { list, add, remove, clear: () => setList([]) };
}
