import { useEffect, useRef } from 'react';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { removeQueryParam } from '../route.ts';

/**
 * Asked when a `?name=` link is opened while signed in under another name.
 * Anyone can send such a link, so it never replaces an identity by itself:
 * the current one stays connected behind this dialog, and only "Switch"
 * creates the new session. A modal `<dialog>` keeps focus inside it; focus
 * starts on "Stay" (the choice that loses nothing), Escape means "Stay", and
 * focus goes back where it was once the question is answered.
 */
export function SwitchIdentityDialog({ current, wanted }: { current: string; wanted: string }) {
  const client = useChatClient();
  const { login } = useChatSnapshot();
  const dialog = useRef<HTMLDialogElement>(null);
  const stayButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    stayButton.current?.focus();
    return () => {
      if (el.open) el.close();
      // Back to where the user was (the composer, usually), if it is still on the page.
      if (before?.isConnected) before.focus();
      else document.getElementById('composer-text')?.focus();
    };
  }, []);

  // While the new session is being created, the buttons say so but keep focus
  // (a disabled button would drop it to the page behind).
  const stay = () => {
    if (login.pending) return;
    client.cancelSwitch();
    removeQueryParam('name');
  };
  const switchIdentity = async () => {
    if (login.pending) return;
    await client.confirmSwitch();
    if (client.getSnapshot().pendingSwitch === null) removeQueryParam('name');
  };

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="switch-title"
      aria-describedby="switch-question switch-note"
      aria-busy={login.pending || undefined}
      onCancel={(e) => {
        // Escape: the same as "Stay" (never a silent dismissal that leaves the question open).
        e.preventDefault();
        stay();
      }}
    >
      <h2 id="switch-title" className="dialog-title">
        Switch identity?
      </h2>
      <p id="switch-question">
        You&apos;re signed in as <bdi className="dialog-name">{current}</bdi>. Switch to <bdi className="dialog-name">{wanted}</bdi>?
      </p>
      <p id="switch-note" className="muted">
        Your messages as <bdi>{current}</bdi> stay, but this browser won&apos;t be able to post as that{' '}
        <bdi>{current}</bdi> again.
      </p>
      {login.error && (
        <p className="form-error" role="alert">
          {login.error}
        </p>
      )}
      <div className="dialog-actions">
        <button ref={stayButton} type="button" className="button primary" onClick={stay} aria-disabled={login.pending || undefined}>
          Stay as <bdi>{current}</bdi>
        </button>
        <button type="button" className="button" onClick={() => void switchIdentity()} aria-disabled={login.pending || undefined}>
          Switch to <bdi>{wanted}</bdi>
        </button>
      </div>
    </dialog>
  );
}
