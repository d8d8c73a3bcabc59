/**
 * The slice of the Web Storage API the core needs, injected so unit tests run
 * without a DOM and a browser with storage disabled still chats (in memory).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  /** Every key currently stored. */
  keys(): string[];
}

/** A Map-backed storage for tests and for browsers that refuse localStorage. */
export function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
    keys: () => [...map.keys()],
  };
}

/** The browser's Web Storage as a KeyValueStorage. */
export function webStorage(inner: Storage): KeyValueStorage {
  return {
    getItem: (k) => inner.getItem(k),
    setItem: (k, v) => inner.setItem(k, v),
    removeItem: (k) => inner.removeItem(k),
    keys: () => {
      const out: string[] = [];
      for (let i = 0; i < inner.length; i++) {
        const k = inner.key(i);
        if (k !== null) out.push(k);
      }
      return out;
    },
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
    keys() {
      try {
        return inner.keys();
      } catch {
        return [];
      }
    },
  };
}

/** Storage keys, versioned so a format change never misreads old data. */
export const STORAGE_KEYS = {
  /** localStorage: shared by the tabs of a browser. */
  session: 'fiberchat.session.v1',
  lastName: 'fiberchat.last-name.v1',
  /** One outbox per tab: `<prefix><tab id>`. The unversioned-by-tab v1 key is read once for migration. */
  outboxPrefix: 'fiberchat.outbox.v2.',
  legacyOutbox: 'fiberchat.outbox.v1',
  /** Theme, notifications and sound (preferences.ts). */
  preferences: 'fiberchat.preferences.v1',
  /** sessionStorage: this tab only. */
  tabId: 'fiberchat.tab.v1',
  transport: 'fiberchat.transport.v1',
} as const;
