import { afterEach, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol.ts';
import { cid, collect, rawSocketIo, startServer, unlimitedSends, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(env: Record<string, string> = {}) {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}
function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

describe('typing', () => {
  it('is broadcast on start, ended by a sent message, and cleared the moment the connection goes', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    ok(await alice.emitWithAck('join', { room: 'r' }));
    ok(await bob.emitWithAck('join', { room: 'r' }));
    const seen = collect(bob, 'typing');
    ok(await alice.emitWithAck('typing', { room: 'r' }));
    await expect.poll(() => seen.at(-1)?.typing).toEqual(['alice']);
    ok(await alice.emitWithAck('typing', { room: 'r' })); // a renewal is silent
    ok(await alice.emitWithAck('send', { room: 'r', text: 'done typing', clientId: cid() }));
    await expect.poll(() => seen.at(-1)?.typing).toEqual([]);
    expect(seen.map((e) => e.typing)).toEqual([['alice'], []]);
    ok(await alice.emitWithAck('typing', { room: 'r' }));
    await expect.poll(() => seen.at(-1)?.typing).toEqual(['alice']);
    alice.disconnect();
    await expect.poll(() => seen.at(-1)?.typing).toEqual([]);
  });

  it('ends at once when the typist says they stopped (the composer was emptied)', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    ok(await alice.emitWithAck('join', { room: 'r' }));
    ok(await bob.emitWithAck('join', { room: 'r' }));
    const seen = collect(bob, 'typing');
    ok(await alice.emitWithAck('typing', { room: 'r' }));
    await expect.poll(() => seen.at(-1)?.typing).toEqual(['alice']);
    ok(await alice.emitWithAck('typing', { room: 'r', stop: true }));
    await expect.poll(() => seen.at(-1)?.typing).toEqual([]);
  });

  it('refuses typing in a room the connection has not joined', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const res = await alice.emitWithAck('typing', { room: 'elsewhere' });
    expect(res.ok ? 'ok' : res.error.code).toBe('not_found');
  });
});

describe('Ajax pollers', () => {
  it('are present while they poll, and see members and typing in each poll', async () => {
    const s = await server();
    const alice = await s.client('alice');
    ok(await alice.emitWithAck('join', { room: 'r' }));
    const presence = collect(alice, 'presence');
    const { token } = await s.session('pat');
    const poll = async () =>
      (await (await fetch(`${s.url}/api/rooms/r/messages?after=0`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        members: string[];
        typing: string[];
      };
    const first = await poll();
    expect(first.members).toEqual(['alice', 'pat']);
    await expect.poll(() => presence.at(-1)?.members).toEqual(['alice', 'pat']);
    ok(await alice.emitWithAck('typing', { room: 'r' }));
    expect((await poll()).typing).toEqual(['alice']);
    // A read of older pages (no `after`) is not a poll and adds nobody.
    const { token: t2 } = await s.session('reader');
    await fetch(`${s.url}/api/rooms/r/messages?before=1`, { headers: { authorization: `Bearer ${t2}` } });
    expect((await poll()).members).toEqual(['alice', 'pat']);
  });
});

describe('slow consumers', () => {
  async function flood(sender: Awaited<ReturnType<TestServer['client']>>, room: string, bytes: number) {
    const text = 'x'.repeat(4000);
    const acks = [];
    for (let sent = 0; sent < bytes; sent += text.length) acks.push(sender.emitWithAck('send', { room, text, clientId: cid() }));
    await Promise.all(acks);
  }

  it('disconnects a long-polling client that stops polling, and frees its queue', async () => {
    const s = await server({ MAX_OUTBOUND_BYTES: String(64 * 1024), ...unlimitedSends() });
    const { token } = await s.session('sleepy');
    const base = `${s.url}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
    const post = (body: string) => fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    await post(`40${JSON.stringify({ token })}`);
    await fetch(`${base}&sid=${sid}`); // the connect answer
    await post('421["join",{"room":"r"}]');
    await expect.poll(async () => (await (await fetch(`${base}&sid=${sid}`)).text()).includes('431[')).toBe(true);
    expect(s.app.socketIo.io.sockets.sockets.size).toBe(1);
    // From here on the client never polls again.
    const sender = await s.client('flooder');
    await flood(sender, 'r', 256 * 1024);
    await expect.poll(() => s.app.socketIo.io.sockets.sockets.size).toBe(1); // only the flooder is left
    // Its next poll gets only the `bye` and a close packet: the backlog was dropped.
    const later = await fetch(`${base}&sid=${sid}`);
    const body = await later.text();
    expect(body.length).toBeLessThan(1024);
    expect(body).not.toContain('xxxx');
    expect(body).toContain('slow_consumer');
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/fiberchat_slow_consumers_total 1/);
  });

  it('disconnects a raw WebSocket that never reads, without holding its backlog', async () => {
    const s = await server({ MAX_OUTBOUND_BYTES: String(256 * 1024), ...unlimitedSends() });
    const { ws, frames } = await rawSocketIo(s, 'stalled');
    ws.send('421["join",{"room":"r"}]');
    await expect.poll(() => frames.some((f) => f.startsWith('431['))).toBe(true);
    const closed = new Promise((r) => ws.once('close', r));
    // Stop reading: the kernel buffers fill, then the server's queue grows.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const sender = await s.client('flooder');
    const stalled = () => [...s.app.socketIo.io.sockets.sockets.values()].some((x) => x.data.identity.name === 'stalled');
    expect(stalled()).toBe(true);
    // Loopback kernel buffers absorb several MiB before the server's own queue grows.
    for (let round = 0; round < 8 && stalled(); round++) await flood(sender, 'r', 4 * 1024 * 1024);
    await expect.poll(stalled).toBe(false);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
  }, 60_000);
});

describe('rooms', () => {
  it("lists the connection's rooms with their last seq and how many are present", async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    expect(ok(await alice.emitWithAck('rooms', {})).rooms).toEqual([]);
    ok(await alice.emitWithAck('join', { room: 'b-room' }));
    ok(await alice.emitWithAck('join', { room: 'a-room' }));
    ok(await bob.emitWithAck('join', { room: 'a-room' }));
    ok(await bob.emitWithAck('send', { room: 'a-room', text: 'hi', clientId: cid() }));
    expect(ok(await alice.emitWithAck('rooms', {})).rooms).toEqual([
      { room: 'a-room', lastSeq: 1, members: 2 },
      { room: 'b-room', lastSeq: 0, members: 1 },
    ]);
    const bad = await (alice as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<object>> }).emitWithAck('rooms', { all: true });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('bad_request');
  });
});
