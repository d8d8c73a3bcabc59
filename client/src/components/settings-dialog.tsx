import { useEffect, useRef, useState } from 'react';
import { THEMES, type Theme } from '../core/preferences.ts';
import { useChatSnapshot } from '../hooks/use-chat.ts';
import { usePreferenceStore, usePreferences } from '../hooks/use-preferences.ts';
import { AccountSettings } from './account-settings.tsx';

const THEME_LABELS: Record<Theme, string> = { system: 'Match the system', light: 'Light', dark: 'Dark' };

/**
 * Settings: the account (see AccountSettings), then those of this browser:
 * the theme (dark follows the system's
 * preference unless chosen), desktop notifications and the alert sound.
 * Turning notifications on is the only thing that asks the browser for its
 * permission; both are off until then.
 */
export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const { prefs, notifier } = usePreferenceStore();
  const current = usePreferences();
  const dialog = useRef<HTMLDialogElement>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { session } = useChatSnapshot();

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    return () => {
      if (el.open) el.close();
      if (before?.isConnected) before.focus();
    };
  }, []);

  const toggleNotifications = async (on: boolean) => {
    setNotice(null);
    if (!on) return prefs.update({ notify: false });
    const result = await notifier.enableNotifications();
    if (result === 'denied') setNotice("Notifications are blocked for this site. Allow them in the browser's site settings, then try again.");
    if (result === 'unsupported') setNotice("This browser can't show notifications.");
  };

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog settings-dialog"
      aria-labelledby="settings-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id="settings-title" className="dialog-title">
        Settings
      </h2>
      {session && <AccountSettings session={session} />}
      <fieldset className="settings-group">
        <legend>Theme</legend>
        {THEMES.map((t) => (
          <label key={t} className="check-row">
            <input type="radio" name="theme" value={t} checked={current.theme === t} onChange={() => prefs.update({ theme: t })} />
            {THEME_LABELS[t]}
          </label>
        ))}
      </fieldset>
      <fieldset className="settings-group">
        <legend>Mentions and direct messages</legend>
        <label className="check-row">
          <input type="checkbox" checked={current.notify} onChange={(e) => void toggleNotifications(e.target.checked)} aria-describedby="notify-note" />
          Desktop notifications
        </label>
        <p id="notify-note" className="muted small-note">
          While this tab is hidden. The browser asks for permission when you turn this on.
        </p>
        <label className="check-row">
          <input
            type="checkbox"
            checked={current.sound}
            onChange={(e) => (e.target.checked ? notifier.enableSound() : prefs.update({ sound: false }))}
          />
          Play a sound
        </label>
        {notice && (
          <p className="form-error" role="alert">
            {notice}
          </p>
        )}
      </fieldset>
      <div className="dialog-actions">
        <button type="button" className="button primary" onClick={onClose}>
          Done
        </button>
      </div>
    </dialog>
  );
}
