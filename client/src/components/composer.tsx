import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS } from '../../../shared/protocol.ts';
import { useChatClient } from '../hooks/use-chat.ts';

/**
 * The message box. Enter sends, Shift+Enter starts a new line. Typing works
 * while disconnected: messages queue and go out on reconnect.
 */
export function Composer({ room }: { room: string }) {
  const client = useChatClient();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const res = client.send(room, text);
    if (res.ok) {
      setText('');
      setError(null);
    } else if (text.trim() !== '') {
      setError(res.message);
    }
    box.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME composition must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="composer-text">
        Message
      </label>
      <textarea
        id="composer-text"
        ref={box}
        className="composer-input"
        rows={Math.min(6, Math.max(1, text.split('\n').length))}
        placeholder={`Message #${room}`}
        value={text}
        autoFocus
        // A hard stop well past the limit (which counts code points, not UTF-16 units);
        // anything in between gets a clear message instead of silent truncation.
        maxLength={LIMITS.textMaxChars * 2}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
          if (e.target.value.trim() !== '') client.notifyTyping(room);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'composer-error composer-hint' : 'composer-hint'}
      />
      <button type="submit" className="button primary composer-send">
        Send
      </button>
      <p id="composer-hint" className="visually-hidden">
        Enter sends; Shift+Enter adds a new line.
      </p>
      {error && (
        <p id="composer-error" className="form-error composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
