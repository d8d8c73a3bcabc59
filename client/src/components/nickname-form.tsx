import { useState, type FormEvent } from 'react';
import { LIMITS } from '../../../shared/protocol.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';

/** The first screen: pick a nickname, get a session, enter the chat. */
export function NicknameForm() {
  const client = useChatClient();
  const { suggestedName, login } = useChatSnapshot();
  const [name, setName] = useState(suggestedName);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() !== '') void client.signIn(name.trim());
  };

  return (
    <main className="welcome">
      <form className="welcome-card" onSubmit={submit} aria-labelledby="welcome-title">
        <h1 id="welcome-title" className="brand">
          Fiberchat
        </h1>
        <p className="welcome-lead">Pick a nickname to start chatting. No account needed.</p>
        <label className="field-label" htmlFor="nickname">
          Nickname
        </label>
        <input
          id="nickname"
          className="text-input"
          name="nickname"
          autoComplete="nickname"
          autoFocus
          required
          maxLength={LIMITS.nameMaxChars}
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={login.error ? true : undefined}
          aria-describedby={login.error ? 'nickname-error' : undefined}
        />
        {login.error && (
          <p id="nickname-error" className="form-error" role="alert">
            {login.error}
          </p>
        )}
        <button className="button primary" type="submit" disabled={login.pending} aria-busy={login.pending || undefined}>
          Join
        </button>
      </form>
    </main>
  );
}
