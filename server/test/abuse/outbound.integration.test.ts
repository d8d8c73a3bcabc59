/**
 * What one connection can make the server hold for it: commands waiting for
 * an answer (MAX_IN_FLIGHT), answers queued to a client that does not read
 * them (MAX_OUTBOUND_BYTES), and the size of any one page of messages.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS, type Ack, type Message, type SendOk } from '../../../shared/protocol.ts';
import { queuedBytes } from '../../edge/socketio/engine-internals.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import type { Store } from '../../store/store.ts';
import { cid, startServer, type TestServer } from '../harness.ts';
import { refusals, sleep } from './measure.ts';
import { RawEngine } from './net.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}
function ok<T>(a: Ack<T> | undefined): T {
  if (!a?.ok) throw new Error(`expected ok, got ${a ? `${a.error.code}: ${a.error.message}` : 'no answer'}`);
  return a;
}
const codeOf = (a: Ack<unknown> | undefined) => (a === undefined ? 'none' : a.ok ? 'ok' : a.error.code);

/** 4,000 emoji: the longest text there is, 16 KB of UTF-8. */
const LONGEST = '😀'.repeat(LIMITS.textMaxChars);
const wireBytes = (messages: Message[]) => Buffer.byteLength(JSON.stringify(messages));

/** Writes `n` messages into a room's log directly (no fiber is live for it yet). */
async function seed(store: Store, room: string, n: number, text = LONGEST): Promise<void> {
  const drafts = Array.from({ length: n }, (_, i) => ({ id: randomUUID(), kind: 'message' as const, clientId: `seed-${i}-xxxx`, author: 'seeder', authorId: 'u-seeder', text, ts: Date.now() }));
  await store.commit(room, drafts, randomUUID());
}

/** A MemoryStore whose commits wait until `open()`: a stalled disk, so that sends stay in flight. */
class StalledStore extends MemoryStore {
  private release: () => void = () => {};
  private readonly gate = new Promise<void>((r) => (this.release = r));
  override async commit(...args: Parameters<MemoryStore['commit']>) {
    await this.gate;
    return super.commit(...args);
  }
  open(): void {
    this.release();
  }
}

/** A MemoryStore that counts the pages read from it: the work the server did. */
class CountingStore extends MemoryStore {
  pagesRead = 0;
  override readBefore(...args: Parameters<MemoryStore['readBefore']>) {
    this.pagesRead++;
    return super.readBefore(...args);
  }
}

describe('commands in flight', () => {
  it(`refuses commands past MAX_IN_FLIGHT (16) with rate_limited, and frees the slots as answers go out`, async () => {
    const store = new StalledStore();
    const s = await server({ store });
    const a = await s.client('alice');
    const answers: Array<Ack<SendOk> | undefined> = new Array(20).fill(undefined);
    const sent = answers.map((_, i) => a.emitWithAck('send', { room: 'r', text: `m${i}`, clientId: cid() }).then((x) => (answers[i] = x)));
    // The four past the cap are answered at once; the sixteen wait for the store.
    await expect.poll(() => answers.filter((x) => x !== undefined).length).toBe(4);
    expect(answers.map(codeOf)).toEqual([...new Array(16).fill('none'), ...new Array(4).fill('rate_limited')]);
    expect(answers[19]).toMatchObject({ error: { message: 'too many requests waiting for an answer', retryAfterMs: 100 } });
    store.open();
    await Promise.all(sent);
    expect(answers.slice(0, 16).map((x) => ok(x).seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // Every slot came back.
    const again = await Promise.all(Array.from({ length: 16 }, (_, i) => a.emitWithAck('send', { room: 'r', text: `n${i}`, clientId: cid() })));
    expect(again.map(codeOf)).toEqual(new Array(16).fill('ok'));
    expect((await refusals(s.url)).in_flight).toBe(4);
  });
});

describe('a socket that does not read its answers', () => {
  it('is cut once its queue passes MAX_OUTBOUND_BYTES, its queue is freed, and it is served nothing more', async () => {
    const store = new CountingStore();
    // Read budgets lifted: this is about the outbound bound, which must hold on its own.
    const s = await server({
      store,
      env: { READ_RATE: '100000', READ_BURST: '100000', READ_BYTES_RATE: String(2 ** 30), READ_BYTES_BURST: String(2 ** 30) },
    });
    await seed(store, 'big', 40);
    const { token } = await s.session('stalled');
    const raw = new RawEngine(s.url);
    expect(await raw.handshake(token)).toBe('connected');
    const serverSide = () => [...s.app.socketIo.io.sockets.sockets.values()].find((x) => x.data.identity.name === 'stalled');
    const conn = serverSide()?.conn;
    raw.stopReading();
    // 400 pages of 256 KiB (100 MB) asked over about a second, as an attacker would.
    for (let i = 0; i < 400 && serverSide(); i += 8) {
      for (let k = 0; k < 8; k++) raw.emit('history', { room: 'big', before: 1e9, limit: 200 });
      await sleep(20);
    }
    await expect.poll(serverSide, { timeout: 10_000 }).toBeUndefined();
    // It got what the kernel's socket buffers and one MiB hold, a few dozen pages at most.
    expect(store.pagesRead).toBeLessThan(100);
    const served = store.pagesRead;
    // Its backlog is dropped and its TCP socket destroyed: what is left is its `bye`.
    await expect.poll(() => queuedBytes(conn), { timeout: 5_000 }).toBeLessThan(1024);
    raw.emit('history', { room: 'big', before: 1e9, limit: 200 });
    await sleep(200);
    expect(store.pagesRead).toBe(served);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^fiberchat_slow_consumers_total 1$/m);
    raw.destroy();
  }, 30_000);
});

describe('pages are bounded by bytes', () => {
  it('a page of 16 KB messages holds at most 256 KiB, the newest ones, by history, REST read and join alike', async () => {
    const s = await server();
    await seed(s.store, 'big', 60);
    const a = await s.client('alice');
    const { token } = await s.session('bob');
    const rest = async (query: string) =>
      (await (await fetch(`${s.url}/api/rooms/big/messages${query}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { messages: Message[] };
    const pages = {
      history: ok(await a.emitWithAck('history', { room: 'big', before: 1e9, limit: 200 })).messages,
      restBefore: (await rest('?before=1000000&limit=200')).messages,
      restLatest: (await rest('?limit=200')).messages,
      join: ok(await a.emitWithAck('join', { room: 'big' })).messages,
    };
    for (const [name, messages] of Object.entries(pages)) {
      expect.soft(wireBytes(messages), name).toBeLessThanOrEqual(LIMITS.pageMaxBytes);
      expect.soft(messages.length, name).toBeGreaterThan(1);
      // The newest that fit, with no gap.
      expect.soft(messages.map((m) => m.seq), name).toEqual(Array.from({ length: messages.length }, (_, i) => 61 - messages.length + i));
    }
  });

  it('a join whose replay would pass 512 KiB gets the latest page and recovered: false; a smaller one is replayed whole', async () => {
    const s = await server();
    await seed(s.store, 'big', 60);
    const far = await s.client('far');
    const near = await s.client('near');
    // 40 messages of 16 KB behind: about 640 KiB.
    const j1 = ok(await far.emitWithAck('join', { room: 'big', since: 20 }));
    expect(j1.recovered).toBe(false);
    expect(wireBytes(j1.messages)).toBeLessThanOrEqual(LIMITS.pageMaxBytes);
    expect(j1.messages.at(-1)?.seq).toBe(60);
    // 20 behind: about 320 KiB, under the replay bound.
    const j2 = ok(await near.emitWithAck('join', { room: 'big', since: 40 }));
    expect(j2.recovered).toBe(true);
    expect(j2.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
  });
});
