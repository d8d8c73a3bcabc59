// First: configures zod before any schema parses (see the file).
import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { createBrowserClient } from './core/browser-client.ts';
import { applyTheme } from './core/preferences.ts';
import { parseTransportPreference } from './core/transport.ts';
import { ChatContext } from './hooks/use-chat.ts';
import { PreferencesContext } from './hooks/use-preferences.ts';
import { navigate, removeQueryParam, roomPath } from './route.ts';
import './styles.css';

// One client for the page's life, created outside React: StrictMode mounts
// components twice in development, and that must not open two connections.
const params = new URLSearchParams(window.location.search);
const app = createBrowserClient(parseTransportPreference(params.get('transport')), (room) => navigate(roomPath(room)));
const { client, prefs } = app;
// The theme is on the document before the first render, so a dark page never flashes light.
applyTheme(document.documentElement, prefs.getSnapshot().theme);
prefs.subscribe(() => applyTheme(document.documentElement, prefs.getSnapshot().theme));
client.start({ autoName: params.get('name') ?? undefined });
// `?name=` has done its job; keep it out of the address so links and reloads
// don't carry it. While it asks to switch identity it stays until answered
// (the dialog removes it), so a reload asks again rather than forgetting.
if (client.getSnapshot().pendingSwitch === null) removeQueryParam('name');
if (!navigator.onLine) client.setNetworkAvailable(false);
window.addEventListener('online', () => client.setNetworkAvailable(true));
window.addEventListener('offline', () => client.setNetworkAvailable(false));
// Another tab wrote localStorage (it may share this tab's outbox key after "Duplicate tab").
window.addEventListener('storage', (e) => {
  client.storageChanged(e.key);
  prefs.storageChanged(e.key);
});
// Coming back to a tab that may have been frozen: check the connection before the user types.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') client.checkConnection();
});

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
createRoot(root).render(
  <StrictMode>
    <ChatContext value={client}>
      <PreferencesContext value={app}>
        <App />
      </PreferencesContext>
    </ChatContext>
  </StrictMode>,
);
