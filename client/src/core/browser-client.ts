/**
 * Builds the ChatClient the page uses: browser storage, same-origin HTTP, and
 * a transport of whichever kind the connection machine asks for.
 */
import { AjaxTransport } from './ajax-transport.ts';
import { ChatClient } from './chat-client.ts';
import { Notifier, browserNotifications } from './notifier.ts';
import { PreferenceStore } from './preferences.ts';
import { roomLabel } from './room-label.ts';
import { httpSessionApi } from './session.ts';
import { SocketTransport } from './socket-transport.ts';
import { SseTransport } from './sse-transport.ts';
import { memoryStorage, safeStorage, webStorage, type KeyValueStorage } from './storage.ts';
import type { TransportFactory, TransportPreference } from './transport.ts';

/**
 * Fresh transports, one per connection attempt or probe. In automatic mode a
 * long-polling session may upgrade itself to WebSocket (socket.io's own
 * probe); a forced one stays on what was asked for.
 */
export function transportFactory(preference: TransportPreference, url: string): TransportFactory {
  return (kind, token, listener) => {
    if (kind === 'ajax') return new AjaxTransport({ url, token, listener });
    if (kind === 'sse') return new SseTransport({ url, token, listener });
    return new SocketTransport({ url, token, listener, kind, upgrade: preference === 'auto' });
  };
}

function browserStorage(which: 'localStorage' | 'sessionStorage'): KeyValueStorage {
  try {
    return safeStorage(webStorage(window[which]));
  } catch {
    // Storage blocked entirely (some privacy modes): chat still works for this page.
    return memoryStorage();
  }
}

/** What the page runs on: the chat core, the user's preferences, and the notifier that serves the core's alerts. */
export interface BrowserApp {
  client: ChatClient;
  prefs: PreferenceStore;
  notifier: Notifier;
}

/** `openRoom`: how a clicked notification opens a room (the router lives outside the core). */
export function createBrowserClient(preference: TransportPreference, openRoom: (room: string) => void): BrowserApp {
  const url = window.location.origin;
  const storage = browserStorage('localStorage');
  const prefs = new PreferenceStore(storage);
  let client: ChatClient | null = null;
  const notifier = new Notifier({
    prefs,
    notifications: browserNotifications(),
    audio: typeof AudioContext === 'undefined' ? null : () => new AudioContext(),
    hidden: () => document.visibilityState === 'hidden',
    labelOf: (room) => roomLabel(room, client?.getSnapshot().myRooms.rooms.find((r) => r.room === room)),
    openRoom,
  });
  client = new ChatClient({
    storage,
    tabStorage: browserStorage('sessionStorage'),
    sessionApi: httpSessionApi(url),
    transportFactory: transportFactory(preference, url),
    preference,
    alert: notifier.alert,
  });
  return { client, prefs, notifier };
}
