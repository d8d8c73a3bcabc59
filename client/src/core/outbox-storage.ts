/**
 * Where the outbox is kept between page loads. Tabs share localStorage, so a
 * single key would let one tab's write wipe another tab's queued messages.
 * Instead each tab writes only its own key (`…outbox.v2.<tab id>`, the id
 * kept in sessionStorage so a reload finds it again) and, on load, adopts
 * what every key holds: sending a message another tab also holds is safe,
 * because the server stores one message per clientId. A message that leaves
 * the outbox (acked, or discarded) is removed from every key, so nothing is
 * sent again on the next load.
 */
import { newClientId } from './client-id.ts';
import { parseOutbox, serializeOutbox, type OutboxEntry } from './outbox.ts';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';

export class OutboxStorage {
  private tabId: string;

  constructor(
    private readonly local: KeyValueStorage,
    private readonly session: KeyValueStorage,
    private readonly newId: () => string = newClientId,
  ) {
    this.tabId = session.getItem(STORAGE_KEYS.tabId) ?? this.freshTabId();
  }

  private freshTabId(): string {
    const id = this.newId();
    this.session.setItem(STORAGE_KEYS.tabId, id);
    return id;
  }

  /** This tab's key. */
  get key(): string {
    return STORAGE_KEYS.outboxPrefix + this.tabId;
  }

  private outboxKeys(): string[] {
    return this.local.keys().filter((k) => k.startsWith(STORAGE_KEYS.outboxPrefix) || k === STORAGE_KEYS.legacyOutbox);
  }

  /** This tab's queue plus every other tab's, oldest first, each clientId once. */
  load(): OutboxEntry[] {
    const byId = new Map<string, OutboxEntry>();
    // Our own key first, so our copy (with its state) wins over an adopted one.
    for (const key of [this.key, ...this.outboxKeys().filter((k) => k !== this.key)]) {
      for (const e of parseOutbox(this.local.getItem(key))) if (!byId.has(e.clientId)) byId.set(e.clientId, e);
    }
    const all = [...byId.values()].sort((a, b) => a.createdAt - b.createdAt);
    this.save(all);
    // The single shared key of older versions is now merged into ours.
    this.local.removeItem(STORAGE_KEYS.legacyOutbox);
    return all;
  }

  /** Writes this tab's queue. */
  save(entries: readonly OutboxEntry[]): void {
    if (entries.length === 0) this.local.removeItem(this.key);
    else this.local.setItem(this.key, serializeOutbox(entries));
  }

  /** These messages left the outbox for good: no tab's key may resend them on a later load. */
  forget(clientIds: ReadonlySet<string>): void {
    if (clientIds.size === 0) return;
    for (const key of this.outboxKeys()) {
      if (key === this.key) continue;
      const entries = parseOutbox(this.local.getItem(key));
      const left = entries.filter((e) => !clientIds.has(e.clientId));
      if (left.length === entries.length) continue;
      if (left.length === 0) this.local.removeItem(key);
      else this.local.setItem(key, serializeOutbox(left));
    }
  }

  /**
   * Another tab wrote `key`. If it is ours, that tab was duplicated from this
   * one (sessionStorage is copied with it): take a fresh id and rewrite our
   * queue there, so the two stop overwriting each other.
   */
  foreignWrite(key: string | null, entries: readonly OutboxEntry[]): void {
    if (key !== this.key) return;
    this.tabId = this.freshTabId();
    this.save(entries);
  }
}
