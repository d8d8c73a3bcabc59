import { useRef, useState, type FormEvent } from 'react';
import { LIMITS, passwordProblem } from '../../../shared/protocol.ts';
import { checkName } from '../../../shared/text-rules.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';

/**
 * Signing in to an account, or creating one: a name and a password, checked
 * with the shared rules before anything is sent (the server says the same
 * words, and also refuses the commonest passwords and names already taken).
 * Signing in also offers a passkey, which needs no name.
 */
export function AccountForm({ mode }: { mode: 'sign-in' | 'create' }) {
  const client = useChatClient();
  const { login, suggestedName } = useChatSnapshot();
  const [name, setName] = useState(suggestedName);
  const [password, setPassword] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const error = localError ?? login.error;
  const create = mode === 'create';
  const id = (what: string) => `${mode}-${what}`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const check = checkName(name);
    if (!check.ok) {
      setLocalError(check.message);
      nameInput.current?.focus();
      return;
    }
    const problem = create ? passwordProblem(password.normalize('NFKC')) : password === '' ? 'Enter your password.' : undefined;
    if (problem !== undefined) {
      setLocalError(problem);
      passwordInput.current?.focus();
      return;
    }
    setLocalError(null);
    void client.signInWithPassword(check.value, password, create);
  };

  return (
    <form className="welcome-form" onSubmit={submit} aria-label={create ? 'Create an account' : 'Sign in'} noValidate>
      <p className="welcome-lead">
        {create ? 'An account keeps your name yours, with the same rooms on every device.' : 'Welcome back. Same rooms, every device.'}
      </p>
      <label className="field-label" htmlFor={id('name')}>
        Name
      </label>
      <input
        id={id('name')}
        ref={nameInput}
        className="text-input"
        name="username"
        autoComplete="username"
        maxLength={LIMITS.nameMaxChars * 2}
        value={name}
        onChange={(e) => {
          setName(e.target.value);
          if (localError) setLocalError(null);
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? id('error') : undefined}
      />
      <label className="field-label" htmlFor={id('password')}>
        Password
      </label>
      <input
        id={id('password')}
        ref={passwordInput}
        className="text-input"
        type="password"
        name="password"
        autoComplete={create ? 'new-password' : 'current-password'}
        value={password}
        onChange={(e) => {
          setPassword(e.target.value);
          if (localError) setLocalError(null);
        }}
        aria-describedby={create ? id('hint') : undefined}
      />
      {create && (
        <p id={id('hint')} className="field-hint">
          At least 8 characters. A few words are easy to remember and hard to guess.
        </p>
      )}
      {error && (
        <p id={id('error')} className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="button primary" type="submit" disabled={login.pending} aria-busy={login.pending || undefined}>
        {create ? 'Create account' : 'Sign in'}
      </button>
      {!create && (
        <button className="button" type="button" disabled={login.pending} onClick={() => void client.signInWithPasskey()}>
          Sign in with a passkey
        </button>
      )}
    </form>
  );
}
