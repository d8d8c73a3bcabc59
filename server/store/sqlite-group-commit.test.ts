import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP_MAX_DRAFTS } from './sqlite-commit.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { CommitResult, Draft } from './store.ts';

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `id-${n}`, clientId: `client-${n}`, author: 'alice', authorId: 'u1', text, ts: 1000 + n, kind: 'message', ...extra };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(groupCommit = true) {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-group-'));
  dirs.push(dir);
  const file = join(dir, 'chat.db');
  // No time bound on a group: what a turn issues is one group however slow the machine.
  const store = new SqliteStore({ file, groupCommit, groupMaxWaitMs: Number.POSITIVE_INFINITY });
  const groups: Array<[number, number]> = [];
  store.observeCommits((rooms, drafts) => groups.push([rooms, drafts]));
  return { store, file, groups };
}

const seqs = (r: CommitResult) => r.results.map((c) => ('message' in c ? c.message.seq : c.refused));
const rooms = (count: number) => Array.from({ length: count }, (_, i) => `room-${i}`);

describe('SqliteStore group commit', () => {
  it('commits the batches of many rooms issued in one turn in one transaction, each with its own seqs', async () => {
    const { store, groups } = open();
    await store.commit('room-0', [draft('before')], 'e');
    groups.length = 0;
    const results = await Promise.all(rooms(40).map((r) => store.commit(r, [draft(`${r} 1`), draft(`${r} 2`)], 'e')));
    expect(groups).toEqual([[40, 80]]);
    expect(results.map(seqs)).toEqual(rooms(40).map((_, i) => (i === 0 ? [2, 3] : [1, 2])));
    for (const r of rooms(40)) expect((await store.readAfter(r, 0, 10)).map((m) => m.text).slice(-2)).toEqual([`${r} 1`, `${r} 2`]);
    await store.close();
  });

  it('keeps the order of one room\'s commits issued in one turn, and answers a retry within the group as a duplicate', async () => {
    const { store, groups } = open();
    const d = draft('once');
    const [a, b] = await Promise.all([store.commit('r', [d, draft('two')], 'e'), store.commit('r', [d, draft('three')], 'e')]);
    expect(groups).toEqual([[2, 4]]);
    expect(seqs(a)).toEqual([1, 2]);
    expect(seqs(b)).toEqual([1, 3]);
    expect(b.results[0]).toMatchObject({ duplicate: true });
    await store.close();
  });

  it('splits a turn\'s commits into groups of at most GROUP_MAX_DRAFTS drafts', async () => {
    const { store, groups } = open();
    const big = (r: string) => Array.from({ length: GROUP_MAX_DRAFTS / 2 }, (_, i) => draft(`${r} ${i}`));
    const results = await Promise.all(['a', 'b', 'c'].map((r) => store.commit(r, big(r), 'e')));
    expect(groups).toEqual([
      [2, GROUP_MAX_DRAFTS],
      [1, GROUP_MAX_DRAFTS / 2],
    ]);
    for (const r of results) expect(r.log.lastSeq).toBe(GROUP_MAX_DRAFTS / 2);
    await store.close();
  });

  it('fails only the room whose statements failed; the others of its group commit', async () => {
    const { store, groups } = open();
    // A draft the schema refuses (no author: NOT NULL), as a bug upstream would make one.
    const broken = draft('broken', { author: null as unknown as string });
    const outcomes = await Promise.allSettled([
      store.commit('a', [draft('a 1')], 'e'),
      store.commit('bad', [draft('fine, but in the same batch'), broken], 'e'),
      store.commit('c', [draft('c 1')], 'e'),
    ]);
    expect(groups).toEqual([[3, 4]]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/NOT NULL/);
    // The failed room's batch is rolled back whole: not even its room row is left.
    expect(await store.roomLog('bad')).toBeUndefined();
    expect(await store.roomLog('a')).toEqual({ epoch: 'e', lastSeq: 1 });
    expect(await store.roomLog('c')).toEqual({ epoch: 'e', lastSeq: 1 });
    await store.close();
  });

  it('rejects every room of a group whose transaction fails to commit, stores none of them, and commits the retries', async () => {
    const { store, file } = open();
    // A check SQLite makes at COMMIT only: a deferred foreign key that a
    // message with this text breaks. Every room's own part succeeds; the
    // transaction as a whole cannot commit.
    const other = new Database(file);
    other.exec(`CREATE TABLE commit_guard (room TEXT REFERENCES rooms (name) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER commit_guard AFTER INSERT ON messages WHEN NEW.text = 'poison'
      BEGIN INSERT INTO commit_guard VALUES ('no such room'); END;`);
    other.close();
    const outcomes = await Promise.allSettled([store.commit('a', [draft('a 1')], 'e'), store.commit('b', [draft('poison')], 'e'), store.commit('c', [draft('c 1')], 'e')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    for (const r of ['a', 'b', 'c']) expect(await store.roomLog(r)).toBeUndefined();
    // The connection is usable again: the same rooms commit on retry.
    const again = await Promise.all([store.commit('a', [draft('a 1')], 'e'), store.commit('c', [draft('c 1')], 'e')]);
    expect(again.map(seqs)).toEqual([[1], [1]]);
    await store.close();
  });

  it('commits what was asked before close', async () => {
    const { store, file } = open();
    const pending = store.commit('r', [draft('last words')], 'e');
    await store.close();
    expect(seqs(await pending)).toEqual([1]);
    const reopened = new SqliteStore({ file });
    expect(await reopened.roomLog('r')).toEqual({ epoch: 'e', lastSeq: 1 });
    await reopened.close();
  });

  it('with group commit off, commits each room in its own transaction', async () => {
    const { store, groups } = open(false);
    await Promise.all(rooms(5).map((r) => store.commit(r, [draft(r)], 'e')));
    expect(groups).toEqual(rooms(5).map(() => [1, 1]));
    await store.close();
  });
});
