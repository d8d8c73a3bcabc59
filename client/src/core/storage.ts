/**
 * The slice of the Web Storage API the core needs, injected so unit tests run
 * without a DOM and a browser with storage disabled still chats (in memory).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A Map-backed storage for tests and for browsers that refuse localStorage. */
export function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

/** Wraps a storage so quota or privacy-mode errors degrade to "not saved" instead of breaking the chat. */
export function safeStorage(inner: KeyValueStorage): KeyValueStorage {
  return {
    getItem(k) {
      try {
        return inner.getItem(k);
      } catch {
        return null;
      }
    },
    setItem(k, v) {
      try {
        inner.setItem(k, v);
      } catch {
        // Quota exceeded or storage disabled: keep working for this page's life.
      }
    },
    removeItem(k) {
      try {
        inner.removeItem(k);
      } catch {
        // Same as above.
      }
    },
  };
}

/** Storage keys, versioned so a format change never misreads old data. */
export const STORAGE_KEYS = {
  session: 'fiberchat.session.v1',
  lastName: 'fiberchat.last-name.v1',
  outbox: 'fiberchat.outbox.v1',
} as const;
