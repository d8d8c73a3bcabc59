/**
 * Connection caps, at their defaults: socket connections per identity (32)
 * and per address (256), each released when a connection closes; raw TCP
 * connections per address (512) at accept; and a connection that never
 * authenticates is dropped after 5 s.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../harness.ts';
import { refusals, sleep } from './measure.ts';
import { RawEngine, sessionFrom, socketFrom, type HandshakeOutcome } from './net.ts';

const servers: TestServer[] = [];
const opened: RawEngine[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) r.destroy();
  for (const x of sockets.splice(0)) x.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}
/** A hand-made socket.io connection from `address` with `token`: how its handshake ended, and the connection. */
async function handshake(s: TestServer, token: string, address?: string): Promise<[HandshakeOutcome, RawEngine]> {
  const raw = new RawEngine(s.url, address);
  opened.push(raw);
  return [await raw.handshake(token, 5_000), raw];
}
/** Open socket connections of one identity, as the server counts them. */
const socketsOf = (s: TestServer, name: string) => [...s.app.socketIo.io.sockets.sockets.values()].filter((x) => x.data.identity.name === name).length;

describe('socket connection caps', () => {
  it('one identity holds 32 connections; the 33rd is refused too_many_connections until one closes', async () => {
    const s = await server();
    const { token } = await s.session('hydra');
    const first = await Promise.all(Array.from({ length: 32 }, () => handshake(s, token)));
    expect(first.map(([o]) => o)).toEqual(new Array(32).fill('connected'));
    expect((await handshake(s, token))[0]).toBe('refused:too_many_connections');
    // Someone else is not affected.
    (await s.client('bystander')).disconnect();
    first[0]?.[1].destroy();
    await expect.poll(() => socketsOf(s, 'hydra')).toBe(31);
    expect((await handshake(s, token))[0]).toBe('connected');
    expect((await refusals(s.url)).connection_cap_identity).toBe(1);
  });

  it('one address holds 256 connections across its identities; past it that address is refused and another is not', async () => {
    const s = await server();
    const address = '127.0.0.30';
    const tokens = await Promise.all(Array.from({ length: 9 }, async (_, i) => (await sessionFrom(s.url, `tab${i}`, address)).token));
    const held = await Promise.all(tokens.slice(0, 8).flatMap((token) => Array.from({ length: 32 }, () => handshake(s, token, address))));
    expect(held.filter(([o]) => o === 'connected')).toHaveLength(256);
    const ninth = tokens[8] as string;
    expect((await handshake(s, ninth, address))[0]).toBe('refused:too_many_connections');
    expect((await handshake(s, ninth, '127.0.0.31'))[0]).toBe('connected');
    held[0]?.[1].destroy();
    await expect.poll(() => socketsOf(s, 'tab0')).toBe(31);
    expect((await handshake(s, ninth, address))[0]).toBe('connected');
    expect((await refusals(s.url)).connection_cap_address).toBe(1);
  });
});

describe('TCP connections per address', () => {
  it('are capped at 512 at accept, before any HTTP; other addresses still connect, and the cap frees as they close', async () => {
    const s = await server();
    const address = '127.0.0.32';
    const socks = sockets;
    let closed = 0;
    for (let i = 0; i < 520; i++) {
      const sock = tcpConnect({ host: '127.0.0.1', port: s.port, localAddress: address });
      sock.on('error', () => {});
      sock.once('close', () => closed++);
      socks.push(sock);
    }
    await expect.poll(() => closed, { timeout: 10_000 }).toBe(8);
    await sleep(200);
    expect(socks.filter((x) => !x.destroyed)).toHaveLength(512);
    const { token } = await s.session('from-elsewhere');
    (await socketFrom(s.url, token, '127.0.0.33')).disconnect();
    expect((await handshake(s, token, address))[0]).toBe('dropped');
    for (const x of socks) x.destroy();
    await expect.poll(async () => (await handshake(s, token, address))[0]).toBe('connected');
    expect((await refusals(s.url)).tcp_cap).toBeGreaterThanOrEqual(9);
  });
});

describe('a connection that never authenticates', () => {
  it('is closed about 5 s after it opened', async () => {
    const s = await server();
    const raw = new RawEngine(s.url);
    opened.push(raw);
    expect(await raw.opened()).toBe(true);
    // No CONNECT packet, ever; it answers pings, so only the handshake timeout can end it.
    const t0 = performance.now();
    await raw.closed;
    expect(performance.now() - t0).toBeGreaterThan(3_000);
  }, 15_000);
});
