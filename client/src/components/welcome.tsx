import { useState, type KeyboardEvent } from 'react';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { AccountForm } from './account-forms.tsx';
import { NicknameForm } from './nickname-form.tsx';

const TABS = [
  { id: 'guest', label: 'Guest' },
  { id: 'sign-in', label: 'Sign in' },
  { id: 'create', label: 'Create account' },
] as const;
type Tab = (typeof TABS)[number]['id'];

/**
 * The first screen, three ways in: as a guest (a nickname, at once), signing
 * in to an account, or creating one. Tabs follow the WAI-ARIA tabs pattern
 * (arrow keys move between them). Says why, when the user was signed out
 * without asking.
 */
export function Welcome() {
  const client = useChatClient();
  const { signedOut } = useChatSnapshot();
  const [tab, setTab] = useState<Tab>('guest');

  const choose = (t: Tab) => {
    setTab(t);
    client.clearLoginError();
  };
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    e.preventDefault();
    const next = TABS[(i + step + TABS.length) % TABS.length]?.id ?? 'guest';
    choose(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <main className="welcome">
      <div className="welcome-card">
        <h1 className="brand">Fiberchat</h1>
        {signedOut && (
          <p className="notice" role="status">
            {signedOut}
          </p>
        )}
        <div className="tabs" role="tablist" aria-label="How to join" onKeyDown={onKey}>
          {TABS.map((t) => (
            <button
              key={t.id}
              id={`tab-${t.id}`}
              type="button"
              role="tab"
              className="tab"
              aria-selected={tab === t.id}
              aria-controls={`panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              onClick={() => choose(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
        <div id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
          {tab === 'guest' ? <NicknameForm /> : <AccountForm key={tab} mode={tab} />}
        </div>
      </div>
    </main>
  );
}
