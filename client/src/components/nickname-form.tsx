import { useRef, useState, type FormEvent } from 'react';
import { LIMITS } from '../../../shared/protocol.ts';
import { checkName } from '../../../shared/text-rules.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';

/**
 * The quickest way in: pick a nickname, get a guest session, enter the chat. The name
 * is checked with the shared name rules before anything is sent, so a
 * refusal is explained at once, in the same words the server would use.
 */
export function NicknameForm() {
  const client = useChatClient();
  const { suggestedName, login } = useChatSnapshot();
  const [name, setName] = useState(suggestedName);
  const [localError, setLocalError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const error = localError ?? login.error;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const check = checkName(name);
    if (!check.ok) {
      setLocalError(check.message);
      input.current?.focus();
      return;
    }
    setLocalError(null);
    void client.signIn(check.value);
  };

  return (
    <>
      {/* noValidate: our own messages (from the shared rules) replace the browser's. */}
      <form className="welcome-form" onSubmit={submit} aria-label="Join as a guest" noValidate>
        <p className="welcome-lead">Pick a nickname to start chatting. No account needed.</p>
        <label className="field-label" htmlFor="nickname">
          Nickname
        </label>
        <input
          id="nickname"
          ref={input}
          className="text-input"
          name="nickname"
          autoComplete="nickname"
          autoFocus
          aria-required="true"
          // The limit counts code points and the field counts UTF-16 units: a hard stop
          // well past it, and the rule's own message for anything in between.
          maxLength={LIMITS.nameMaxChars * 2}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            if (localError) setLocalError(null);
          }}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'nickname-error' : undefined}
        />
        {error && (
          <p id="nickname-error" className="form-error" role="alert">
            {error}
          </p>
        )}
        <button className="button primary" type="submit" disabled={login.pending} aria-busy={login.pending || undefined}>
          Join
        </button>
      </form>
    </>
  );
}
