import { describe, expect, it } from 'vitest';
import { newEntry, serializeOutbox, type OutboxEntry } from './outbox.ts';
import { OutboxStorage } from './outbox-storage.ts';
import { STORAGE_KEYS, memoryStorage, type KeyValueStorage } from './storage.ts';

let n = 0;
const ids = () => `tab${String(++n).padStart(5, '0')}`;
const entry = (clientId: string, createdAt: number): OutboxEntry => newEntry(clientId, 'lobby', `text ${clientId}`, createdAt);
const clientIds = (list: readonly OutboxEntry[]) => list.map((e) => e.clientId);

/** Two tabs of one browser: shared localStorage, a sessionStorage each. */
function twoTabs() {
  const local = memoryStorage();
  const a = new OutboxStorage(local, memoryStorage(), ids);
  const b = new OutboxStorage(local, memoryStorage(), ids);
  return { local, a, b };
}

function outboxKeys(local: KeyValueStorage): string[] {
  return local.keys().filter((k) => k.startsWith(STORAGE_KEYS.outboxPrefix));
}

describe('OutboxStorage', () => {
  it('two tabs queueing at once never overwrite each other', () => {
    const { local, a, b } = twoTabs();
    a.save([entry('aaaaaaaa', 1)]);
    b.save([entry('bbbbbbbb', 2)]);
    a.save([entry('aaaaaaaa', 1), entry('aaaaaaa2', 3)]);
    expect(outboxKeys(local)).toHaveLength(2);
    // A third page (or a reload of either) finds everything, oldest first.
    const c = new OutboxStorage(local, memoryStorage(), ids);
    expect(clientIds(c.load())).toEqual(['aaaaaaaa', 'bbbbbbbb', 'aaaaaaa2']);
  });

  it('a reload of the same tab finds its own key again', () => {
    const local = memoryStorage();
    const session = memoryStorage();
    new OutboxStorage(local, session, ids).save([entry('aaaaaaaa', 1)]);
    const again = new OutboxStorage(local, session, ids);
    expect(clientIds(again.load())).toEqual(['aaaaaaaa']);
    expect(outboxKeys(local)).toEqual([again.key]);
  });

  it('a message that left the outbox is removed from every key, so no later load resends it', () => {
    const { local, a, b } = twoTabs();
    a.save([entry('aaaaaaaa', 1), entry('shared00', 2)]);
    expect(clientIds(b.load())).toEqual(['aaaaaaaa', 'shared00']);
    // b sent both; both were acked.
    b.save([]);
    b.forget(new Set(['aaaaaaaa', 'shared00']));
    expect(outboxKeys(local)).toEqual([]);
    expect(new OutboxStorage(local, memoryStorage(), ids).load()).toEqual([]);
  });

  it("its own copy wins over another tab's", () => {
    const { a, b } = twoTabs();
    a.save([{ ...entry('aaaaaaaa', 1), state: 'failed', attempts: 4 }]);
    b.save([entry('aaaaaaaa', 1)]);
    expect(a.load()[0]).toMatchObject({ state: 'failed', attempts: 4 });
  });

  it('migrates the single shared key of older versions', () => {
    const local = memoryStorage();
    local.setItem(STORAGE_KEYS.legacyOutbox, serializeOutbox([entry('oldold00', 1)]));
    const s = new OutboxStorage(local, memoryStorage(), ids);
    expect(clientIds(s.load())).toEqual(['oldold00']);
    expect(local.getItem(STORAGE_KEYS.legacyOutbox)).toBeNull();
    expect(local.getItem(s.key)).toContain('oldold00');
  });

  it('a duplicated tab (same sessionStorage copy) moves to a key of its own when it sees the other write', () => {
    const local = memoryStorage();
    const session = memoryStorage();
    const original = new OutboxStorage(local, session, ids);
    const copySession = memoryStorage();
    copySession.setItem(STORAGE_KEYS.tabId, session.getItem(STORAGE_KEYS.tabId) ?? '');
    const duplicate = new OutboxStorage(local, copySession, ids);
    expect(duplicate.key).toBe(original.key);

    const mine = [entry('aaaaaaaa', 1)];
    original.save(mine);
    duplicate.save([entry('dddddddd', 2)]); // overwrote the shared key…
    original.foreignWrite(duplicate.key, mine); // …and the storage event tells the original
    expect(original.key).not.toBe(duplicate.key);
    expect(clientIds(new OutboxStorage(local, memoryStorage(), ids).load())).toEqual(['aaaaaaaa', 'dddddddd']);
  });

  it('writes by other tabs to other keys are none of its business', () => {
    const { a } = twoTabs();
    const key = a.key;
    a.foreignWrite(`${STORAGE_KEYS.outboxPrefix}someone-else`, []);
    a.foreignWrite(null, []);
    expect(a.key).toBe(key);
  });
});
