import { afterEach, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type Ack, type JoinOk, type Message, type SendOk } from '../../shared/protocol.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { cid, collect, startServer, unlimitedSends, type ChatSocket, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

/** Emits with an untyped payload, as a hostile or buggy client would. */
function raw(socket: ChatSocket, event: string, ...args: unknown[]): Promise<Ack<Record<string, unknown>>> {
  return (socket as unknown as { timeout(ms: number): { emitWithAck(e: string, ...a: unknown[]): Promise<Ack<Record<string, unknown>>> } })
    .timeout(5000)
    .emitWithAck(event, ...args);
}

function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

function code(a: Ack<unknown>): string {
  return a.ok ? 'ok' : a.error.code;
}

describe('socket.io edge', () => {
  it('join, send, ack with seq, broadcast to every subscriber, presence', async () => {
    const s = await server({ env: { PRESENCE_GRACE_MS: '300' } });
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    const j = ok(await alice.emitWithAck('join', { room: 'lobby' }));
    expect(j).toMatchObject({ room: 'lobby', lastSeq: 0, messages: [], members: ['alice'], recovered: true });
    const bobPresence = collect(bob, 'presence');
    const bobBatches = collect(bob, 'messages');
    expect(ok(await bob.emitWithAck('join', { room: 'lobby' })).members).toEqual(['alice', 'bob']);
    const ack = ok(await alice.emitWithAck('send', { room: 'lobby', text: '  hello bob  ', clientId: cid() }));
    expect(ack.seq).toBe(1);
    await expect.poll(() => bobBatches.length).toBe(1);
    const m = bobBatches[0]?.messages[0] as Message;
    expect(m).toMatchObject({ room: 'lobby', seq: 1, author: 'alice', authorId: alice.session.userId, text: 'hello bob', id: ack.id, ts: ack.ts });
    await expect.poll(() => bobPresence.at(-1)?.members).toEqual(['alice', 'bob']);
    const seenBefore = bobPresence.length;
    alice.disconnect();
    // Listed through the grace period (a reconnect would not flap), then gone.
    await expect.poll(() => bobPresence.at(-1)?.members).toEqual(['bob']);
    expect(bobPresence.slice(seenBefore).map((p) => p.members)).toEqual([['bob']]);
  });

  it('a retried clientId is stored once and answered with the original seq', async () => {
    const s = await server();
    const a = await s.client('alice');
    const clientId = cid();
    const first = ok(await a.emitWithAck('send', { room: 'r', text: 'once', clientId }));
    const again = ok(await a.emitWithAck('send', { room: 'r', text: 'once', clientId }));
    expect(again.seq).toBe(first.seq);
    expect(again.id).toBe(first.id);
    expect(await s.store.readAfter('r', 0, 10)).toHaveLength(1);
  });

  it('with ROOM_MAX_TURN=1 serves one send per turn: one message per packet, seq still gap-free', async () => {
    const s = await server({ env: { ROOM_MAX_TURN: '1', MAX_IN_FLIGHT: '64' } });
    const a = await s.client('alice');
    const b = await s.client('bob');
    ok(await a.emitWithAck('join', { room: 'lobby' }));
    ok(await b.emitWithAck('join', { room: 'lobby' }));
    const batches = collect(b, 'messages');
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.emitWithAck('send', { room: 'lobby', text: `m${i}`, clientId: cid() })),
    );
    const seqs = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(acks.map((x) => ok(x).seq).sort((x, y) => x - y)).toEqual(seqs);
    await expect.poll(() => batches.length).toBe(20);
    expect(batches.map((p) => p.messages.length)).toEqual(seqs.map(() => 1));
    expect(batches.map((p) => p.messages[0]?.seq)).toEqual(seqs);
  });

  it('answers a join before any live message of the room, and a send before the broadcast carrying it', async () => {
    const s = await server({ store: 'sqlite', env: { ...unlimitedSends() } });
    const pub = await s.client('pub');
    ok(await pub.emitWithAck('join', { room: 'busy' }));
    // The publisher's own view: each ack before the broadcast with its seq.
    const pubEvents: string[] = [];
    pub.on('messages', (e) => pubEvents.push(...e.messages.map((m) => `m${m.seq}`)));
    let publishing = true;
    const flood = (async () => {
      while (publishing) {
        await Promise.all(
          Array.from(
            { length: 8 },
            () =>
              // A callback, not emitWithAck: a promise continuation would run
              // after handlers of packets that arrived in the same read.
              new Promise<void>((resolve) =>
                pub.emit('send', { room: 'busy', text: 'x', clientId: cid() }, (a: Ack<SendOk>) => {
                  pubEvents.push(`a${ok(a).seq}`);
                  resolve();
                }),
              ),
          ),
        );
      }
    })();
    // Joiners arrive while messages are being committed and broadcast.
    for (let i = 0; i < 15; i++) {
      const sub = await s.client(`sub${i}`);
      const events: Array<'ack' | number> = [];
      sub.on('messages', (e) => events.push(...e.messages.map((m) => m.seq)));
      const j = await new Promise<JoinOk>((resolve) =>
        sub.emit('join', { room: 'busy' }, (a: Ack<JoinOk>) => {
          events.push('ack');
          resolve(ok(a));
        }),
      );
      await expect.poll(() => events.length).toBeGreaterThan(1);
      expect(events[0]).toBe('ack');
      // Live messages continue exactly where the answer ended.
      expect(events[1]).toBe(j.lastSeq + 1);
      sub.disconnect();
    }
    publishing = false;
    await flood;
    const at = (e: string) => pubEvents.indexOf(e);
    const acked = pubEvents.filter((e) => e.startsWith('a'));
    expect(acked.length).toBeGreaterThan(100);
    await expect.poll(() => acked.every((a) => at(`m${a.slice(1)}`) >= 0)).toBe(true);
    for (const a of acked) expect(at(a)).toBeLessThan(at(`m${a.slice(1)}`));
  });

  it('pages history backwards for scrollback', async () => {
    const s = await server({ env: { ...unlimitedSends() } });
    const a = await s.client('alice');
    for (let i = 1; i <= 120; i++) ok(await a.emitWithAck('send', { room: 'r', text: `m${i}`, clientId: cid() }));
    const j = ok(await a.emitWithAck('join', { room: 'r' }));
    expect(j.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
    const page = ok(await a.emitWithAck('history', { room: 'r', before: 71, limit: 60 }));
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 60 }, (_, i) => 11 + i));
    const last = ok(await a.emitWithAck('history', { room: 'r', before: 11 }));
    expect(last.messages.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 1 + i));
  });

  it('resumes with since: exactly the missed messages, then the live stream', async () => {
    const s = await server();
    const a = await s.client('alice');
    const b = await s.client('bob');
    const first = ok(await b.emitWithAck('join', { room: 'r' }));
    b.disconnect();
    for (let i = 0; i < 5; i++) ok(await a.emitWithAck('send', { room: 'r', text: `missed ${i}`, clientId: cid() }));
    const b2 = await s.client('bob');
    const live = collect(b2, 'messages');
    const resumed = ok(await b2.emitWithAck('join', { room: 'r', since: first.lastSeq, epoch: first.epoch }));
    expect(resumed.recovered).toBe(true);
    expect(resumed.messages.map((m) => m.text)).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
    ok(await a.emitWithAck('send', { room: 'r', text: 'live', clientId: cid() }));
    await expect.poll(() => live.flatMap((e) => e.messages.map((m) => m.seq))).toEqual([6]);
    const wrongEpoch = ok(await b2.emitWithAck('join', { room: 'r', since: 2, epoch: 'not-this-one' }));
    expect(wrongEpoch.recovered).toBe(false);
  });

  it('answers every kind of bad input with a typed error and changes nothing', async () => {
    const s = await server();
    const a = await s.client('alice');
    const cases: Array<[string, unknown[], string]> = [
      ['join', [{ room: 'Bad Room' }], 'bad_request'],
      ['join', [{ room: '' }], 'bad_request'],
      ['join', [{ room: 'a'.repeat(65) }], 'bad_request'],
      ['join', [{ room: 'ok', extra: 1 }], 'bad_request'],
      ['join', [{ room: 'ok', since: -1 }], 'bad_request'],
      ['join', [null], 'bad_request'],
      ['join', ['lobby'], 'bad_request'],
      ['join', [], 'bad_request'],
      ['send', [{ room: 'ok', text: '   ', clientId: cid() }], 'bad_request'],
      ['send', [{ room: 'ok', text: 'x', clientId: 'short' }], 'bad_request'],
      ['send', [{ room: 'ok', text: 'a\u0000b', clientId: cid() }], 'bad_request'],
      ['send', [{ room: 'ok', text: 42, clientId: cid() }], 'bad_request'],
      ['send', [{ room: 'ok', text: 'x'.repeat(4001), clientId: cid() }], 'too_large'],
      ['send', [{ room: 'ok', text: '😀'.repeat(4001), clientId: cid() }], 'too_large'],
      ['history', [{ room: 'ok', before: 10, limit: 201 }], 'bad_request'],
      ['history', [{ room: 'ok', before: 'x' }], 'bad_request'],
      ['leave', [{ room: 'never-joined' }], 'not_found'],
      ['no-such-event', [{}], 'not_found'],
    ];
    for (const [event, args, expected] of cases) {
      const res = await raw(a, event, ...args);
      expect({ event, args, code: code(res) }).toEqual({ event, args, code: expected });
      if (!res.ok) expect(res.error.message.length).toBeGreaterThan(0);
    }
    // 4000 characters (astral ones count once) is fine.
    expect(code(await raw(a, 'send', { room: 'ok', text: '😀'.repeat(4000), clientId: cid() }))).toBe('ok');
    expect(await s.store.readAfter('ok', 0, 10)).toHaveLength(1);
  });

  it('rate-limits sends per identity across connections, with a retry hint', async () => {
    const s = await server({ env: { SEND_RATE: '1', SEND_BURST: '3' } });
    const a = await s.client('alice');
    const same = connect(s.url, { auth: { token: a.session.token }, transports: ['websocket'], forceNew: true, reconnection: false }) as ChatSocket;
    await new Promise((r) => same.once('connect', () => r(undefined)));
    const results: Array<Ack<SendOk>> = [];
    for (let i = 0; i < 3; i++) results.push(await a.emitWithAck('send', { room: 'r', text: `${i}`, clientId: cid() }));
    results.push(await same.emitWithAck('send', { room: 'r', text: 'other tab', clientId: cid() }));
    expect(results.map(code)).toEqual(['ok', 'ok', 'ok', 'rate_limited']);
    const limited = results[3] as Extract<Ack<SendOk>, { ok: false }>;
    expect(limited.error.retryAfterMs).toBeGreaterThan(0);
    same.disconnect();
  });

  it('rate-limits sends per connection too', async () => {
    const s = await server({ env: { SEND_RATE: '1', SEND_BURST: '2' } });
    const a = await s.client('alice');
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(code(await a.emitWithAck('send', { room: 'r', text: `${i}`, clientId: cid() })));
    expect(codes).toEqual(['ok', 'ok', 'rate_limited']);
  });

  it('rate-limits joins per connection and per identity', async () => {
    const s = await server({ env: { JOIN_RATE: '1', JOIN_BURST: '2' } });
    const a = await s.client('alice');
    const other = await s.client('bob');
    const tab2 = connect(s.url, { auth: { token: a.session.token }, transports: ['websocket'], forceNew: true, reconnection: false }) as ChatSocket;
    await new Promise((r) => tab2.once('connect', () => r(undefined)));
    expect(code(await a.emitWithAck('join', { room: 'a' }))).toBe('ok');
    expect(code(await tab2.emitWithAck('join', { room: 'b' }))).toBe('ok');
    expect(code(await tab2.emitWithAck('join', { room: 'c' }))).toBe('rate_limited'); // alice's identity is spent
    expect(code(await other.emitWithAck('join', { room: 'c' }))).toBe('ok'); // bob's is not
    tab2.disconnect();
  });

  it('rate-limits joins per connection', async () => {
    const s = await server({ env: { JOIN_RATE: '1', JOIN_BURST: '2' } });
    const a = await s.client('alice');
    const codes = [];
    for (const room of ['a', 'b', 'c']) codes.push(code(await a.emitWithAck('join', { room })));
    expect(codes).toEqual(['ok', 'ok', 'rate_limited']);
  });

  it('refuses a connection past the per-connection room limit with forbidden', async () => {
    const s = await server({ env: { JOIN_RATE: '10000', JOIN_BURST: '10000' } });
    const a = await s.client('alice');
    for (let i = 0; i < 100; i++) ok(await a.emitWithAck('join', { room: `room-${i}` }));
    expect(code(await a.emitWithAck('join', { room: 'one-too-many' }))).toBe('forbidden');
    expect(code(await a.emitWithAck('join', { room: 'room-5' }))).toBe('ok'); // rejoining is fine
  });

  it('answers unavailable when the store cannot commit, and the retry stores it once', async () => {
    const store = new MemoryStore();
    const s = await server({ store });
    const a = await s.client('alice');
    store.failCommits = new Error('disk on fire');
    const clientId = cid();
    const res = await a.emitWithAck('send', { room: 'r', text: 'precious', clientId });
    expect(code(res)).toBe('unavailable');
    store.failCommits = undefined;
    expect(ok(await a.emitWithAck('send', { room: 'r', text: 'precious', clientId })).seq).toBe(1);
  });

  it('refuses a handshake without a valid token', async () => {
    const s = await server();
    for (const auth of [{}, { token: 'nope' }, { token: 'a.b' }, { token: 'x'.repeat(5000) }]) {
      const socket = connect(s.url, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
      const err = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
      expect(err.message).toBe('unauthorized');
      socket.disconnect();
    }
  });

  it('answers ping without touching any room', async () => {
    const s = await server();
    const a = await s.client('alice');
    const pong = ok(await a.emitWithAck('ping', {}));
    expect(pong.ts).toBeGreaterThan(0);
    expect(ok(await a.emitWithAck('ping', undefined)).ts).toBeGreaterThan(0);
    expect(code(await raw(a, 'ping', { extra: 1 }))).toBe('bad_request');
    expect(s.app.rooms.size).toBe(0);
  });

  it('ends a connection whose session expired at its next request', async () => {
    let skewMs = 0;
    const s = await server({ env: { SESSION_TTL_HOURS: '1' }, now: () => Date.now() + skewMs });
    const a = await s.client('alice');
    ok(await a.emitWithAck('join', { room: 'r' }));
    const bye = collect(a, 'bye');
    skewMs = 2 * 3_600_000; // the server's clock moves two hours on
    const res = await a.emitWithAck('send', { room: 'r', text: 'too late', clientId: cid() });
    expect(code(res)).toBe('unauthorized');
    await expect.poll(() => bye.map((b) => b.reason)).toEqual(['session_expired']);
    await expect.poll(() => a.connected).toBe(false);
    expect(await s.store.readAfter('r', 0, 10)).toEqual([]);
  });

  it('serves the same events over HTTP long-polling', async () => {
    const s = await server();
    const a = await s.client('alice', { transports: ['polling'] });
    const b = await s.client('bob', { transports: ['polling'] });
    ok(await b.emitWithAck('join', { room: 'r' }));
    const got = collect(b, 'messages');
    ok(await a.emitWithAck('send', { room: 'r', text: 'over polling', clientId: cid() }));
    await expect.poll(() => got.flatMap((e) => e.messages.map((m) => m.text))).toEqual(['over polling']);
  });
});

describe('raw frames against the live server', () => {
  /** A hand-driven engine.io/socket.io v4 WebSocket session. */
  async function rawSession(s: TestServer) {
    const { token } = await s.session('raw');
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    ws.on('message', (d, isBinary) => {
      const f = isBinary ? '<binary>' : d.toString();
      if (f === '2') ws.send('3'); // answer pings
      frames.push(f);
    });
    await new Promise((r) => ws.once('open', r));
    await expect.poll(() => frames.some((f) => f.startsWith('0{'))).toBe(true);
    ws.send(`40${JSON.stringify({ token })}`);
    await expect.poll(() => frames.some((f) => f.startsWith('40{'))).toBe(true);
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    return { ws, frames, closed };
  }

  it('survives malformed packets and keeps serving the same and other clients', async () => {
    const s = await server();
    const { ws, frames } = await rawSession(s);
    for (const junk of ['42', '42[', '42["send"', '42{"a":1}', '42[1,2,3]', '42["send",null]', '421["send"]', '4', '9', '42["send",{"room":"r","text":"x","clientId":"abcdefgh","__proto__":{"x":1}}]']) {
      ws.send(junk);
    }
    ws.send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    // A well-formed request on a clean session still gets its ack.
    const other = await s.client('other');
    const ack = ok(await other.emitWithAck('send', { room: 'r', text: 'still alive', clientId: cid() }));
    expect(ack.seq).toBeGreaterThanOrEqual(1);
    expect(frames.every((f) => !f.includes('still alive'))).toBe(true);
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers a raw request with ack id, and a missing payload with bad_request', async () => {
    const s = await server();
    const { ws, frames } = await rawSession(s);
    ws.send('427["join",{"room":"raw-room"}]');
    ws.send('428["send"]');
    await expect.poll(() => frames.find((f) => f.startsWith('437['))).toContain('"ok":true');
    await expect.poll(() => frames.find((f) => f.startsWith('438['))).toContain('"code":"bad_request"');
  });

  it('closes a connection that sends an oversized packet, without hurting others', async () => {
    const s = await server();
    const { ws, closed } = await rawSession(s);
    ws.send(`42["send",{"room":"r","text":"${'x'.repeat(70 * 1024)}","clientId":"abcdefgh"}]`);
    expect(await closed).toBeGreaterThan(0);
    const other = await s.client('other');
    ok(await other.emitWithAck('join', { room: 'r' }));
    expect(await s.store.readAfter('r', 0, 10)).toEqual([]);
  });
});

describe('REST edge', () => {
  async function json(res: Response) {
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('creates sessions and refuses bad names', async () => {
    const s = await server();
    const post = (body: string) => fetch(`${s.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const good = await json(await post('{"name":"  Zoë  "}'));
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ name: 'Zoë' });
    for (const bad of ['{"name":""}', '{"name":"   "}', `{"name":"${'n'.repeat(33)}"}`, '{"name":"a\\u0007b"}', '{}', 'not json', '[]']) {
      const r = await json(await post(bad));
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
      expect(r.body).toMatchObject({ error: { code: 'bad_request' } });
    }
  });

  it('posts and reads messages with a bearer token, in the same log as the sockets', async () => {
    const s = await server();
    const { token } = await s.session('bot');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const sock = await s.client('watcher');
    ok(await sock.emitWithAck('join', { room: 'r' }));
    const live = collect(sock, 'messages');
    const clientId = cid();
    const posted = await json(await fetch(`${s.url}/api/rooms/r/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'from rest', clientId }) }));
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ seq: 1 });
    const again = await json(await fetch(`${s.url}/api/rooms/r/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'from rest', clientId }) }));
    expect(again.body).toMatchObject({ seq: 1, duplicate: true });
    await expect.poll(() => live.flatMap((e) => e.messages.map((m) => m.text))).toEqual(['from rest']);
    const read = await json(await fetch(`${s.url}/api/rooms/r/messages?after=0&limit=10`, { headers: auth }));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ room: 'r', lastSeq: 1 });
    expect(read.body.epoch).toEqual(expect.any(String));
    expect((read.body.messages as Message[]).map((m) => m.text)).toEqual(['from rest']);
    const before = await json(await fetch(`${s.url}/api/rooms/r/messages?before=2&limit=1`, { headers: auth }));
    expect((before.body.messages as Message[]).map((m) => m.seq)).toEqual([1]);
  });

  it('maps every failure to a status code and a typed body', async () => {
    const s = await server();
    const { token } = await s.session('bot');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/api/rooms/r/messages', {}, 401, 'unauthorized'],
      ['/api/rooms/r/messages', { headers: { authorization: 'Bearer forged.token' } }, 401, 'unauthorized'],
      ['/api/rooms/BAD/messages', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages?after=-1', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages?after=1&before=5', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages?limit=1000', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages?after=1e3', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages?after=0x10', { headers: auth }, 400, 'bad_request'],
      ['/api/rooms/r/messages', { method: 'POST', headers: auth, body: JSON.stringify({ room: 'other', text: 'x', clientId: cid() }) }, 400, 'bad_request'],
      ['/api/rooms/r/messages', { method: 'POST', headers: { authorization: auth.authorization, 'content-type': 'text/plain' }, body: 'hello' }, 400, 'bad_request'],
      ['/api/rooms/r/typing', { method: 'POST', headers: auth, body: '{}' }, 404, 'not_found'],
      ['/api/rooms/r/messages', { method: 'POST', headers: auth, body: '{"text":"x"}' }, 400, 'bad_request'],
      ['/api/rooms/r/messages', { method: 'POST', headers: auth, body: '{bad json' }, 400, 'bad_request'],
      ['/api/rooms/r/messages', { method: 'POST', headers: auth, body: JSON.stringify({ text: 'x'.repeat(4001), clientId: cid() }) }, 413, 'too_large'],
      ['/api/rooms/r/messages', { method: 'POST', headers: auth, body: JSON.stringify({ text: 'x'.repeat(70_000), clientId: cid() }) }, 413, 'too_large'],
      ['/api/nothing-here', {}, 404, 'not_found'],
    ];
    for (const [path, init, status, errCode] of cases) {
      const res = await fetch(`${s.url}${path}`, init);
      const body = (await res.json()) as { error?: { code: string; message: string } };
      expect({ path, status: res.status, code: body.error?.code }).toEqual({ path, status, code: errCode });
    }
    // Unknown query parameters, such as a cache-buster, are ignored.
    for (const q of ['?evil=1', '?_=1732755000000', '?after=0&_=1']) {
      expect((await fetch(`${s.url}/api/rooms/r/messages${q}`, { headers: auth })).status).toBe(200);
    }
  });

  it('sets the floor under Ajax polling: reads per identity and room, with Retry-After', async () => {
    const s = await server({ env: { READ_RATE: '1', READ_BURST: '2' } });
    const { token } = await s.session('poller');
    const read = (room: string) => fetch(`${s.url}/api/rooms/${room}/messages?after=0`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read('r')).status).toBe(200);
    expect((await read('r')).status).toBe(200);
    const limited = await read('r');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await read('other')).status).toBe(200); // another room has its own budget
  });

  it('rate-limits session creation per address with Retry-After', async () => {
    const s = await server({ env: { SESSION_RATE_PER_MIN: '2', SESSION_BURST: '2' } });
    const post = () => fetch(`${s.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('serves health and Prometheus metrics', async () => {
    const s = await server();
    const a = await s.client('alice');
    ok(await a.emitWithAck('send', { room: 'r', text: 'count me', clientId: cid() }));
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/fiberchat_connections\{transport="websocket"\} 1/);
    expect(text).toMatch(/fiberchat_messages_total 1/);
    expect(text).toMatch(/fiberchat_rooms_active 1/);
    expect(text).toMatch(/nodejs_eventloop_lag_p99_seconds/);
  });
});

describe('persistence and shutdown', () => {
  it('keeps history and epoch across a restart on the same SQLite file', async () => {
    const first = await startServer({ store: 'sqlite' });
    const a = await first.client('alice');
    const j = ok(await a.emitWithAck('join', { room: 'r' }));
    for (let i = 0; i < 3; i++) ok(await a.emitWithAck('send', { room: 'r', text: `m${i}`, clientId: cid() }));
    const dataDir = first.dataDir;
    await first.app.close();
    const second = await server({ store: 'sqlite', dataDir });
    const b = await second.client('bob');
    const j2 = ok(await b.emitWithAck('join', { room: 'r', since: 1, epoch: j.epoch }));
    expect(j2).toMatchObject({ epoch: j.epoch, lastSeq: 3, recovered: true });
    expect(j2.messages.map((m) => m.text)).toEqual(['m1', 'm2']);
  });

  it('on shutdown tells clients to reconnect and commits every accepted message', async () => {
    const s = await startServer({ store: 'sqlite', env: { ...unlimitedSends() } });
    const a = await s.client('alice');
    const bye = collect(a, 'bye');
    const acks: Array<Promise<Ack<SendOk>>> = [];
    for (let i = 0; i < 200; i++) {
      acks.push(
        a
          .timeout(3000)
          .emitWithAck('send', { room: 'r', text: `burst ${i}`, clientId: `burst-${i}-xxxx` })
          .catch(() => ({ ok: false, error: { code: 'unavailable', message: 'no ack' } }) as const),
      );
    }
    // Close while sends are in flight, once the first has been acked.
    await acks[0];
    await s.app.close();
    const settled = await Promise.all(acks);
    expect(bye.at(0)?.reason).toBe('server_shutdown');
    const again = await server({ store: 'sqlite', dataDir: s.dataDir });
    const stored = await again.store.readAfter('r', 0, 1000);
    const storedIds = new Set(stored.map((m) => m.clientId));
    const acked = settled.flatMap((ack, i) => (ack.ok ? [`burst-${i}-xxxx`] : []));
    expect(acked.length).toBeGreaterThan(0);
    // Every acked message is stored; nothing is stored twice; seqs have no gap.
    for (const id of acked) expect(storedIds.has(id)).toBe(true);
    expect(storedIds.size).toBe(stored.length);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    // The mailbox drain committed what was queued: more is stored than was acked before the sockets closed.
    expect(stored.length).toBeGreaterThanOrEqual(acked.length);
  });
});

describe('join and send types', () => {
  it('JoinOk carries every contract field', async () => {
    const s = await server();
    const a = await s.client('alice');
    const j: JoinOk = ok(await a.emitWithAck('join', { room: 'lobby' }));
    expect(Object.keys(j).sort()).toEqual(['epoch', 'lastRead', 'lastSeq', 'members', 'messages', 'ok', 'protocol', 'recovered', 'room', 'standing', 'users']);
    expect(j.protocol).toBe(PROTOCOL_VERSION);
    // A guest in a public room nobody moderates yet: no mute, no rules.
    expect(j.standing).toEqual({ role: 'guest' });
  });
});
