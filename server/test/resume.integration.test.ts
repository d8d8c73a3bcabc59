import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, Message } from '../../shared/protocol.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { cid, startServer, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

/** A room of `n` messages, committed straight to the store as another writer would. */
async function seeded(n: number) {
  const store = new MemoryStore();
  const drafts = Array.from({ length: n }, (_, i) => ({ id: `m${i}`, clientId: `seed-${i}-xxxx`, author: 'seed', authorId: 'u-seed', text: `m${i + 1}`, ts: i, kind: 'message' as const }));
  const { log } = await store.commit('r', drafts, 'the-epoch');
  const s = await startServer({ store });
  servers.push(s);
  return { s, epoch: log.epoch };
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * One table of resume cases, served by the same room code whichever carrier
 * asks: a socket `join { since, epoch }`, the REST join with the same body,
 * and a REST read `?after=&epoch=`.
 * Each: the client's position, and what it must get (seqs, recovered).
 */
const CASES: Array<{ what: string; since?: number; epoch?: 'same' | 'foreign'; seqs: number[]; recovered: boolean }> = [
  { what: 'nothing held: the latest page', seqs: range(1071, 1120), recovered: true },
  { what: 'same epoch, a few behind: exactly what follows', since: 1100, epoch: 'same', seqs: range(1101, 1120), recovered: true },
  { what: 'no epoch given: treated as the same log', since: 1115, seqs: range(1116, 1120), recovered: true },
  { what: 'up to date: nothing', since: 1120, epoch: 'same', seqs: [], recovered: true },
  { what: 'a foreign epoch: the latest page, not recovered', since: 1100, epoch: 'foreign', seqs: range(1071, 1120), recovered: false },
  { what: 'a seq beyond the end: the latest page, not recovered', since: 5000, epoch: 'same', seqs: range(1071, 1120), recovered: false },
  { what: 'more than the replay limit behind: the latest page, not recovered', since: 100, epoch: 'same', seqs: range(1071, 1120), recovered: false },
  { what: 'exactly the replay limit behind: replayed', since: 120, epoch: 'same', seqs: range(121, 1120), recovered: true },
];

describe('resume: one rule for join and REST reads', () => {
  it.each(CASES)('$what', async ({ since, epoch: which, seqs, recovered }) => {
    const { s, epoch } = await seeded(1120);
    const epochArg = which === 'same' ? epoch : which === 'foreign' ? 'some-other-epoch' : undefined;

    const socket = await s.client('resumer');
    const j = ok(await socket.emitWithAck('join', { room: 'r', ...(since === undefined ? {} : { since }), ...(epochArg ? { epoch: epochArg } : {}) }));
    expect({ seqs: j.messages.map((m) => m.seq), recovered: j.recovered, lastSeq: j.lastSeq }).toEqual({ seqs, recovered, lastSeq: 1120 });

    // The REST join answers what the socket join answers, whole replay included.
    const { token } = await s.session('poller');
    const joinRes = await fetch(`${s.url}/api/rooms/r/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...(since === undefined ? {} : { since }), ...(epochArg ? { epoch: epochArg } : {}) }),
    });
    expect(joinRes.status).toBe(200);
    const rj = (await joinRes.json()) as typeof j;
    expect({ seqs: rj.messages.map((m) => m.seq), recovered: rj.recovered, lastSeq: rj.lastSeq, epoch: rj.epoch }).toEqual({
      seqs,
      recovered,
      lastSeq: 1120,
      epoch: j.epoch,
    });
    expect(rj).toMatchObject({ lastRead: 0, protocol: j.protocol });

    // The REST read pages at most 200 per answer and says how far the log goes;
    // a poller follows `lastSeq` (a replay larger than a page takes several reads).
    const q = new URLSearchParams({ limit: since === undefined || !recovered ? '50' : '200' });
    if (since !== undefined) q.set('after', String(since));
    if (epochArg) q.set('epoch', epochArg);
    const res = await fetch(`${s.url}/api/rooms/r/messages?${q}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { messages: Message[]; recovered: boolean; lastSeq: number; epoch: string };
    expect({ seqs: page.messages.map((m) => m.seq), recovered: page.recovered, lastSeq: page.lastSeq, epoch: page.epoch }).toEqual({
      seqs: seqs.slice(0, 200),
      recovered,
      lastSeq: 1120,
      epoch,
    });
  });

  it("a REST join makes the poller present to the room's members and answers its read position; a stranger to a private room gets 404", async () => {
    const { s } = await seeded(5);
    const member = await s.client('member');
    ok(await member.emitWithAck('join', { room: 'r' }));
    const presence = new Promise<{ members: string[] }>((resolve) => member.on('presence', resolve));
    const { token } = await s.session('poller');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const first = await fetch(`${s.url}/api/rooms/r/join`, { method: 'POST', headers: auth, body: '{}' });
    expect(await first.json()).toMatchObject({ lastSeq: 5, lastRead: 0, members: ['member', 'poller'] });
    expect((await presence).members).toEqual(['member', 'poller']);
    expect((await fetch(`${s.url}/api/rooms/r/read`, { method: 'POST', headers: auth, body: JSON.stringify({ seq: 4 }) })).status).toBe(200);
    const again = await fetch(`${s.url}/api/rooms/r/join`, { method: 'POST', headers: auth, body: JSON.stringify({ since: 5 }) });
    expect(await again.json()).toMatchObject({ messages: [], recovered: true, lastRead: 4 });

    const owner = await s.client('owner');
    const secret = ok(await owner.emitWithAck('createRoom', { title: 'Secret' }));
    const stranger = await fetch(`${s.url}/api/rooms/${secret.room}/join`, { method: 'POST', headers: auth, body: '{}' });
    expect(stranger.status).toBe(404);
    const bad = await fetch(`${s.url}/api/rooms/r/join`, { method: 'POST', headers: auth, body: JSON.stringify({ since: -1 }) });
    expect(bad.status).toBe(400);
  });

  it('a room that stored nothing answers from seq 0 under an epoch that its first message keeps', async () => {
    const store = new MemoryStore();
    const s = await startServer({ store });
    servers.push(s);
    const a = await s.client('alice');
    const j = ok(await a.emitWithAck('join', { room: 'fresh' }));
    expect(j).toMatchObject({ lastSeq: 0, messages: [], recovered: true });
    expect(await store.roomLog('fresh')).toBeUndefined();
    ok(await a.emitWithAck('send', { room: 'fresh', text: 'first', clientId: cid() }));
    expect((await store.roomLog('fresh'))?.epoch).toBe(j.epoch);
    // A client that held nothing (since 0) replays from the start whatever epoch it had.
    const again = ok(await a.emitWithAck('join', { room: 'fresh', since: 0, epoch: 'whatever' }));
    expect(again).toMatchObject({ recovered: true, messages: [{ seq: 1, text: 'first' }] });
  });
});

describe('failures are logged and counted', () => {
  it('a failing store: the client is answered unavailable, one log line names room and kind (not the text), and the counter moves', async () => {
    const store = new MemoryStore();
    const lines: Array<Record<string, unknown>> = [];
    const s = await startServer({ store, onLog: (l) => lines.push(l) });
    servers.push(s);
    const a = await s.client('alice');
    store.failCommits = new Error('disk on fire');
    const res = await a.emitWithAck('send', { room: 'r', text: 'secret words', clientId: cid() });
    expect(res.ok ? 'ok' : res.error.code).toBe('unavailable');
    store.failCommits = undefined;
    store.failReads = new Error('read error');
    const read = await a.emitWithAck('history', { room: 'r', before: 10 });
    expect(read.ok ? 'ok' : read.error.code).toBe('unavailable');
    store.failReads = undefined;

    const failures = lines.filter((l) => l.msg === 'store call failed; clients were answered unavailable');
    expect(failures.map((l) => [l.room, l.kind])).toEqual([
      ['r', 'commit'],
      ['r', 'read'],
    ]);
    expect((failures[0]?.err as { message?: string }).message).toBe('disk on fire');
    expect(JSON.stringify(lines)).not.toContain('secret words');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/fiberchat_failures_total\{kind="commit"\} 1\b/);
    expect(metrics).toMatch(/fiberchat_failures_total\{kind="read"\} 1\b/);
  });
});
