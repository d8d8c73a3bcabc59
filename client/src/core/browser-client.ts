/**
 * Builds the ChatClient the page uses: browser storage, same-origin HTTP, and
 * the transport chosen by `?transport=` (or the automatic choice).
 */
import { AjaxTransport } from './ajax-transport.ts';
import { ChatClient } from './chat-client.ts';
import { httpSessionApi } from './session.ts';
import { SocketTransport } from './socket-transport.ts';
import { memoryStorage, safeStorage, type KeyValueStorage } from './storage.ts';
import type { TransportFactory, TransportPreference } from './transport.ts';

/**
 * Maps the user's preference to a factory of fresh transports, one per
 * connection attempt. Once WebSocket had to be abandoned, later attempts start
 * on long-polling straight away (socket.io still upgrades if WebSocket works),
 * so a network that blocks WebSocket does not cost every reconnect a timeout.
 */
export function transportFactory(preference: TransportPreference, url: string): TransportFactory {
  let pollingFirst = false;
  const onFallback = () => {
    pollingFirst = true;
  };
  return (token, listener) => {
    if (preference === 'ajax') return new AjaxTransport({ url, token, listener });
    const mode = preference === 'websocket' ? 'websocket' : preference === 'polling' ? 'polling' : 'auto';
    return new SocketTransport({ url, token, listener, mode, pollingFirst, onFallback });
  };
}

function browserStorage(): KeyValueStorage {
  try {
    return safeStorage(window.localStorage);
  } catch {
    // Storage blocked entirely (some privacy modes): chat still works for this page.
    return memoryStorage();
  }
}

export function createBrowserClient(preference: TransportPreference): ChatClient {
  const url = window.location.origin;
  return new ChatClient({
    storage: browserStorage(),
    sessionApi: httpSessionApi(url),
    transportFactory: transportFactory(preference, url),
  });
}
