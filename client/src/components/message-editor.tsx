import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { LIMITS } from '../../../shared/protocol.ts';
import { useChatClient } from '../hooks/use-chat.ts';

/** Back to the composer once an edit is saved or cancelled. */
function focusComposer(): void {
  document.getElementById('composer-text')?.focus();
}

/**
 * Edits one of the user's messages in place: Enter saves, Shift+Enter starts
 * a new line, Escape cancels. Saving unchanged text just closes the editor.
 */
export function MessageEditor({ room, seq, text }: { room: string; seq: number; text: string }) {
  const client = useChatClient();
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const cancel = () => {
    client.actions.cancelEdit(room);
    focusComposer();
  };
  const save = async () => {
    if (saving) return;
    if (draft.trim() === text.trim()) return cancel();
    if (draft.trim() === '') return setError('A message cannot be empty; delete it instead.');
    setSaving(true);
    const res = await client.actions.edit(room, seq, draft);
    setSaving(false);
    if (res.ok) focusComposer();
    else setError(res.message);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      cancel();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    }
  };

  return (
    <div className="msg-editor">
      <label className="visually-hidden" htmlFor={`edit-${seq}`}>
        Edit message
      </label>
      <textarea
        id={`edit-${seq}`}
        ref={box}
        className="composer-input msg-editor-input"
        value={draft}
        rows={Math.min(8, Math.max(2, draft.split('\n').length))}
        maxLength={LIMITS.textMaxChars * 2}
        onChange={(e) => {
          setDraft(e.target.value);
          if (error) setError(null);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        aria-describedby={`edit-hint-${seq}${error ? ` edit-error-${seq}` : ''}`}
      />
      <p id={`edit-hint-${seq}`} className="msg-editor-hint">
        Enter saves · Escape cancels
      </p>
      {error && (
        <p id={`edit-error-${seq}`} className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="msg-editor-actions">
        <button type="button" className="button small primary" onClick={() => void save()} aria-disabled={saving || undefined}>
          Save
        </button>
        <button type="button" className="button small ghost" onClick={cancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
