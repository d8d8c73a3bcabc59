/**
 * The user's settings for this browser: the colour theme, desktop
 * notifications and the alert sound. Kept in localStorage (every tab of the
 * browser shares them, and a change in one tab reaches the others through
 * the `storage` event), with a subscribe/getSnapshot pair for React.
 *
 * Both alerts are off until the user turns them on: nothing is asked of the
 * browser on a first visit, and the notification permission is requested
 * only by the control that turns notifications on.
 */
import { z } from 'zod';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';

/** `system` follows the operating system (`prefers-color-scheme`). */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

export interface Preferences {
  theme: Theme;
  /** Desktop notifications for mentions and direct messages while the tab is hidden. */
  notify: boolean;
  /** A short sound with each such alert. */
  sound: boolean;
}

export const DEFAULT_PREFERENCES: Preferences = { theme: 'system', notify: false, sound: false };

const Stored = z.object({
  theme: z.enum(THEMES).catch('system'),
  notify: z.boolean().catch(false),
  sound: z.boolean().catch(false),
});

/** Reads stored preferences; anything missing or malformed falls back to the default. */
export function parsePreferences(raw: string | null): Preferences {
  if (raw === null) return DEFAULT_PREFERENCES;
  try {
    const r = Stored.safeParse(JSON.parse(raw));
    return r.success ? r.data : DEFAULT_PREFERENCES;
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

export class PreferenceStore {
  private snapshot: Preferences;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storage: KeyValueStorage) {
    this.snapshot = parsePreferences(storage.getItem(STORAGE_KEYS.preferences));
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  getSnapshot = (): Preferences => this.snapshot;

  update(patch: Partial<Preferences>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.storage.setItem(STORAGE_KEYS.preferences, JSON.stringify(this.snapshot));
    this.notify();
  }

  /** Another tab changed localStorage. */
  storageChanged(key: string | null): void {
    if (key !== null && key !== STORAGE_KEYS.preferences) return;
    const next = parsePreferences(this.storage.getItem(STORAGE_KEYS.preferences));
    if (JSON.stringify(next) === JSON.stringify(this.snapshot)) return;
    this.snapshot = next;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** Puts the theme on the document: `data-theme` for a chosen one, nothing for the system's. */
export function applyTheme(root: HTMLElement, theme: Theme): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
