/** React access to the user's preferences and the notifier that asks for the notification permission. */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Notifier } from '../core/notifier.ts';
import type { PreferenceStore, Preferences } from '../core/preferences.ts';

export const PreferencesContext = createContext<{ prefs: PreferenceStore; notifier: Notifier } | null>(null);

export function usePreferenceStore(): { prefs: PreferenceStore; notifier: Notifier } {
  const value = useContext(PreferencesContext);
  if (!value) throw new Error('usePreferenceStore needs a PreferencesContext provider');
  return value;
}

export function usePreferences(): Preferences {
  const { prefs } = usePreferenceStore();
  return useSyncExternalStore(prefs.subscribe, prefs.getSnapshot);
}
