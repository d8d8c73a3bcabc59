/**
 * Builds the ChatClient the page uses: browser storage, same-origin HTTP, and
 * a transport of whichever kind the connection machine asks for.
 */
import { AjaxTransport } from './ajax-transport.ts';
import { ChatClient } from './chat-client.ts';
import { httpSessionApi } from './session.ts';
import { SocketTransport } from './socket-transport.ts';
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

export function createBrowserClient(preference: TransportPreference): ChatClient {
  const url = window.location.origin;
  return new ChatClient({
    storage: browserStorage('localStorage'),
    tabStorage: browserStorage('sessionStorage'),
    sessionApi: httpSessionApi(url),
    transportFactory: transportFactory(preference, url),
    preference,
  });
}
