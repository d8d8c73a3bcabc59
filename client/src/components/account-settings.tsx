import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { passwordProblem } from '../../../shared/protocol.ts';
import { httpAccountApi, type AccountApi, type ApiResult, type AccountInfo, type SessionList } from '../core/account-api.ts';
import type { Session } from '../core/session.ts';
import { useChatClient } from '../hooks/use-chat.ts';

const when = (ms: number) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * The account part of Settings. A guest can keep their name (a password or
 * a passkey makes the guest an account, same userId). An account changes
 * its password, adds and removes passkeys, sees its sessions and ends any
 * of them. Everyone can download their data and delete it.
 */
export function AccountSettings({ session }: { session: Session }) {
  const api = useMemo(() => httpAccountApi(window.location.origin, session.token), [session.token]);
  const [info, setInfo] = useState<AccountInfo | null>(null);
  const [sessions, setSessions] = useState<SessionList | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(() => Promise.all([api.account(), api.sessions()]), [api]);
  const apply = useCallback(([a, s]: Awaited<ReturnType<typeof load>>) => {
    if (a.ok) setInfo(a.value);
    if (s.ok) setSessions(s.value);
    setProblem(a.ok ? (s.ok ? null : s.message) : a.message);
  }, []);
  const reload = useCallback(async () => apply(await load()), [apply, load]);
  useEffect(() => {
    let live = true;
    void load().then((r) => live && apply(r));
    return () => {
      live = false;
    };
  }, [load, apply]);

  if (!info) {
    return (
      <section className="settings-group" aria-label="Account">
        <h3 className="settings-heading">Account</h3>
        <p className={problem ? 'form-error' : 'muted'} role={problem ? 'alert' : undefined}>
          {problem ?? 'Loading…'}
        </p>
      </section>
    );
  }
  return (
    <>
      <section className="settings-group" aria-labelledby="account-heading">
        <h3 id="account-heading" className="settings-heading">
          Account
        </h3>
        {info.registered ? (
          <>
            <p className="muted">
              Signed in as <strong>{info.name}</strong>
              {info.createdAt !== undefined && <>, an account since {when(info.createdAt)}</>}.
            </p>
            <PasswordForm api={api} hasPassword={info.hasPassword} onChanged={reload} />
          </>
        ) : (
          <ClaimForm name={info.name} onClaimed={() => void reload()} />
        )}
        <Passkeys api={api} info={info} onChanged={reload} session={session} />
      </section>
      {info.registered && sessions && <Sessions api={api} sessions={sessions} onChanged={reload} />}
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      <YourData api={api} name={info.name} />
    </>
  );
}

/** A guest keeps their name with a password: the server makes them an account under the same userId. */
function ClaimForm({ name, onClaimed }: { name: string; onClaimed: () => void }) {
  const client = useChatClient();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const bad = passwordProblem(password.normalize('NFKC'));
    if (bad !== undefined) return setError(bad);
    setBusy(true);
    const refused = await client.claimName(password);
    setBusy(false);
    setError(refused);
    if (refused === null) onClaimed();
  };

  return (
    <form className="settings-form" onSubmit={(e) => void submit(e)} aria-label="Keep your name" noValidate>
      <p className="muted">
        You are a guest. Set a password to keep the name <strong>{name}</strong>, with your rooms and messages, and to sign in on other devices.
      </p>
      {/* Password managers file the new password under this name. */}
      <input type="text" name="username" autoComplete="username" value={name} readOnly hidden />
      <label className="field-label" htmlFor="claim-password">
        New password
      </label>
      <input
        id="claim-password"
        className="text-input"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => {
          setPassword(e.target.value);
          setError(null);
        }}
        aria-describedby="claim-hint"
      />
      <p id="claim-hint" className="field-hint">
        At least 8 characters.
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="button primary" type="submit" disabled={busy}>
        Keep my name
      </button>
    </form>
  );
}

function PasswordForm({ api, hasPassword, onChanged }: { api: AccountApi; hasPassword: boolean; onChanged: () => Promise<void> }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (hasPassword && current === '') return setResult({ ok: false, text: 'Enter your current password.' });
    const bad = passwordProblem(next.normalize('NFKC'));
    if (bad !== undefined) return setResult({ ok: false, text: bad });
    setBusy(true);
    const r = await api.changePassword(hasPassword ? current : undefined, next);
    setBusy(false);
    if (!r.ok) return setResult({ ok: false, text: r.message });
    setCurrent('');
    setNext('');
    setResult({ ok: true, text: 'Password changed. Your other sessions were signed out.' });
    await onChanged();
  };

  return (
    <form className="settings-form" onSubmit={(e) => void submit(e)} aria-label={hasPassword ? 'Change password' : 'Set a password'} noValidate>
      {hasPassword && (
        <>
          <label className="field-label" htmlFor="current-password">
            Current password
          </label>
          <input id="current-password" className="text-input" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </>
      )}
      <label className="field-label" htmlFor="new-password">
        New password
      </label>
      <input id="new-password" className="text-input" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      {result && (
        <p className={result.ok ? 'muted' : 'form-error'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
      <button className="button" type="submit" disabled={busy}>
        {hasPassword ? 'Change password' : 'Set password'}
      </button>
    </form>
  );
}

function Passkeys({ api, info, session, onChanged }: { api: AccountApi; info: AccountInfo; session: Session; onChanged: () => Promise<void> }) {
  const client = useChatClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const add = async () => {
    setBusy(true);
    setError(null);
    const r = await api.addPasskey();
    setBusy(false);
    if (!r.ok) return setError(r.message);
    // A guest's first passkey made them an account: the stored session says so from now on.
    if (!session.registered) client.replaced({ ...session, registered: true });
    await onChanged();
  };
  const remove = async (id: string) => {
    const r = await api.removePasskey(id);
    if (!r.ok) return setError(r.message);
    await onChanged();
  };

  return (
    <div className="settings-form" role="group" aria-labelledby="passkeys-heading">
      <h4 id="passkeys-heading" className="settings-subheading">
        Passkeys
      </h4>
      {info.passkeys.length === 0 ? (
        <p className="muted">{info.registered ? 'No passkeys yet.' : 'Or keep your name with a passkey: your device signs you in, no password needed.'}</p>
      ) : (
        <ul className="settings-list" aria-label="Your passkeys">
          {info.passkeys.map((p) => (
            <li key={p.id} className="settings-item">
              <span>
                <span className="settings-item-title">{p.label}</span>
                <span className="muted small">
                  Added {when(p.createdAt)}
                  {p.lastUsedAt !== undefined && <>, last used {when(p.lastUsedAt)}</>}
                </span>
              </span>
              <button className="button small" type="button" onClick={() => void remove(p.id)} aria-label={`Remove passkey ${p.label}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="button" type="button" disabled={busy} onClick={() => void add()}>
        Add a passkey
      </button>
    </div>
  );
}

function Sessions({ api, sessions, onChanged }: { api: AccountApi; sessions: SessionList; onChanged: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const others = sessions.filter((s) => !s.current);
  const run = async (call: Promise<ApiResult<null>>) => {
    const r = await call;
    setError(r.ok ? null : r.message);
    await onChanged();
  };
  const ordered = [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);

  return (
    <section className="settings-group" aria-labelledby="sessions-heading">
      <h3 id="sessions-heading" className="settings-heading">
        Where you are signed in
      </h3>
      <ul className="settings-list" aria-label="Sessions">
        {ordered.map((s) => (
          <li key={s.id} className="settings-item" data-session={s.id}>
            <span>
              <span className="settings-item-title">
                {s.device ?? 'Unknown device'}
                {s.current && <span className="badge"> This device</span>}
              </span>
              <span className="muted small">
                {s.current ? 'Active now' : `Last seen ${when(s.lastSeenAt)}`}
                {s.address && <> · {s.address}</>}
              </span>
            </span>
            {!s.current && (
              <button className="button small" type="button" onClick={() => void run(api.endSession(s.id))} aria-label={`Sign out ${s.device ?? 'this session'}`}>
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {others.length > 0 && (
        <button className="button" type="button" onClick={() => void run(api.endOtherSessions())}>
          Sign out all other sessions
        </button>
      )}
    </section>
  );
}

/** The export as a file download, and deleting the account (typing the name confirms). */
function YourData({ api, name }: { api: AccountApi; name: string }) {
  const client = useChatClient();
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);

  const download = async () => {
    setBusy(true);
    const r = await api.exportAll();
    setBusy(false);
    if (!r.ok) return setError(r.message);
    const url = URL.createObjectURL(new Blob([JSON.stringify(r.value, null, 2)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `fiberchat-${name}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const remove = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await api.deleteAccount(confirm);
    setBusy(false);
    if (!r.ok) return setError(r.message);
    client.signOut({ notice: 'Your account was deleted.', ended: true });
  };

  return (
    <section className="settings-group" aria-labelledby="data-heading">
      <h3 id="data-heading" className="settings-heading">
        Your data
      </h3>
      <button className="button" type="button" disabled={busy} onClick={() => void download()}>
        Download my data
      </button>
      <form className="settings-form" onSubmit={(e) => void remove(e)} aria-label="Delete account">
        <label className="field-label" htmlFor="delete-confirm">
          Delete my account: type <strong>{name}</strong> to confirm
        </label>
        <input id="delete-confirm" className="text-input" autoComplete="off" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        <button className="button danger" type="submit" disabled={busy || confirm.trim() === ''}>
          Delete account
        </button>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
