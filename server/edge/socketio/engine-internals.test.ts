import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../test/harness.ts';
import type { ChatSocket } from './socket-edge.ts';
import { CHECKED_AGAINST, LazyAcks, SmallMap, hasSharedTransportListeners, ackIdOf, compactConnection, directWebSocket, queuedBytes, releaseHandshakeRequest, transportOf, type EngineConn } from './engine-internals.ts';

/**
 * The engine.io and socket.io internals Fiberchat relies on
 * (engine-internals.ts), checked on real connections. If an upgrade renames
 * or reshapes one of them, this fails instead of a guard silently doing
 * nothing or a connection silently keeping what it should have let go.
 */
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('engine.io internals', () => {
  it.each([
    ['websocket', 3],
    ['polling', 0],
  ] as const)('over %s: the handshake request and upgrade listeners are let go; writeBuffer, transport socket', async (carrier, upgradeListeners) => {
    const s = await startServer();
    servers.push(s);
    const released: Array<ReturnType<typeof releaseHandshakeRequest>> = [];
    // Prepended: it runs before the app's own listener (which then finds nothing left to let go).
    s.app.socketIo.io.engine.prependListener('connection', (conn: EngineConn) => {
      released.push(releaseHandshakeRequest(conn));
    });
    const client = await s.client('alice', { transports: [carrier] });
    // On a WebSocket: the response's close listener, onUpgradeError, the transport's headers listener.
    expect(released).toEqual([{ request: true, upgradeListeners }]);
    const socket = s.app.socketIo.io.of('/').sockets.values().next().value;
    const conn = (socket as unknown as { conn: EngineConn } | undefined)?.conn;
    expect(conn).toBeDefined();
    if (!conn) return;
    expect(conn.request).toBeNull();
    expect(Array.isArray(conn.writeBuffer)).toBe(true);
    expect(transportOf(conn)).toBe(carrier === 'websocket' ? 'websocket' : 'long-polling');
    expect(queuedBytes(conn)).toBeGreaterThanOrEqual(0);
    if (carrier === 'websocket') {
      expect(typeof conn.transport.socket?.bufferedAmount).toBe('number');
      expect(typeof conn.transport.socket?.terminate).toBe('function');
      // The transport's own error listener stays: an error on the socket is still handled.
      expect(conn.transport.socket?.listenerCount('error')).toBe(1);
      // After a frame is delivered the receiver keeps neither its mask (a view of the chunk) nor a grown queue.
      const receiver = conn.transport.socket?._receiver;
      expect(receiver && '_mask' in receiver && Array.isArray(receiver._buffers)).toBe(true);
      const ack = (await client.timeout(5000).emitWithAck('ping', {})) as { ok: boolean };
      expect(ack.ok).toBe(true);
      expect(receiver?._mask).toBeUndefined();
      expect(receiver?._buffers).toEqual([]);
      // Nothing queued in engine.io: a broadcast may write to its TCP socket.
      const ws = directWebSocket(conn);
      expect(typeof ws?._socket.write).toBe('function');
      expect(ws?.bufferedAmount).toBe(0);
    } else {
      expect(directWebSocket(conn)).toBeUndefined();
    }
    client.disconnect();
  });

  it('socket.io serves events through the shared catch-all listener array; compacted arrays keep their shape', async () => {
    const s = await startServer();
    servers.push(s);
    const client = await s.client('alice');
    const server = s.app.socketIo.io.of('/').sockets.values().next().value as unknown as { _anyListeners?: unknown; onAny(l: () => void): void };
    expect(Object.isFrozen(server._anyListeners)).toBe(true);
    expect(server._anyListeners).toHaveLength(1);
    // The array is every socket's: adding to it fails loudly instead of reaching them all.
    expect(() => server.onAny(() => {})).toThrow(TypeError);
    // The arrays compacted at connection are still there, of one function each.
    expect(compactConnection(server)).toBe(2); // the acks were replaced already: not a Map any more
    expect((server as unknown as { acks: unknown }).acks).toBeInstanceOf(LazyAcks);
    const internals = server as unknown as { conn: { cleanupFn: unknown[] }; client: { decoder: { _callbacks: { $decoded: unknown[] } } } };
    expect(internals.conn.cleanupFn).toHaveLength(1);
    expect(internals.client.decoder._callbacks.$decoded).toHaveLength(1);
    // The client's one socket and one namespace, in two-field maps that socket.io reads as it read its Maps.
    const sio = (server as unknown as { client: { sockets: SmallMap<string, unknown>; nsps: SmallMap<string, unknown> }; id: string }).client;
    expect(sio.sockets).toBeInstanceOf(SmallMap);
    expect(sio.nsps).toBeInstanceOf(SmallMap);
    expect(sio.sockets.get((server as unknown as { id: string }).id)).toBe(server);
    expect(sio.nsps.get('/')).toBe(server);
    // socket.io still waits for a client's ack (one socket, and a broadcast) through the lazy table.
    client.on('probe' as never, ((n: number, cb: (r: number) => void) => cb(n + 1)) as never);
    const one = server as unknown as { timeout(ms: number): { emitWithAck(e: string, n: number): Promise<number> } };
    await expect(one.timeout(5000).emitWithAck('probe', 1)).resolves.toBe(2);
    // socket.io's own broadcast walks its room tables, which hold no socket (`forgetRoomTable`): it reaches nobody.
    const adapter = s.app.socketIo.io.of('/').adapter as unknown as { sids: Map<string, Set<string>>; rooms: Map<string, Set<string>> };
    expect(adapter.sids.size).toBe(0);
    expect(adapter.rooms.size).toBe(0);
    const all = s.app.socketIo.io as unknown as { timeout(ms: number): { emitWithAck(e: string, n: number): Promise<number[]> } };
    await expect(all.timeout(5000).emitWithAck('probe', 2)).resolves.toEqual([]);
    // The handshake socket.io built (with the token) is let go.
    expect((server as unknown as ChatSocket).handshake.auth).toEqual({});
    const ack = (await client.timeout(5000).emitWithAck('ping', {})) as { ok: boolean };
    expect(ack.ok).toBe(true);
    client.disconnect();
  });

  it('socket.io makes ack functions in Socket#ack(id), and the tagged ones carry the id the client sent', async () => {
    const s = await startServer();
    servers.push(s);
    const client = await s.client('alice');
    const server = s.app.socketIo.io.of('/').sockets.values().next().value as unknown as { ack(id: number): unknown; prependAny(l: (...a: unknown[]) => void): void };
    expect(ackIdOf(server.ack(41))).toBe(41);
    // On the wire: a request with ack id n reaches the listener with an ack function tagged n.
    const seen = new Promise<unknown>((resolve) => {
      const original = (server as unknown as { _anyListeners: unknown[] })._anyListeners;
      (server as unknown as { _anyListeners: unknown[] })._anyListeners = [
        (...args: unknown[]) => resolve(ackIdOf(args.at(-1))),
        ...original,
      ];
    });
    const raw = client.io.engine as unknown as { send(s: string): void };
    raw.send('257["ping",{}]'); // engine.io-client adds the message type (4)
    await expect(seen).resolves.toBe(57);
    client.disconnect();
  });

  it('is installed at exactly the versions the internals were checked against, as package.json pins them', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const [name, version] of Object.entries(CHECKED_AGAINST)) {
      expect(pkg.dependencies[name] ?? pkg.devDependencies[name], name).toBe(version);
      const installed = JSON.parse(readFileSync(join(import.meta.dirname, '../../../node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, name).toBe(version);
    }
  });
});

describe('shared transport listeners', () => {
  const firstConn = (s: TestServer) => (s.app.socketIo.io.of('/').sockets.values().next().value as unknown as { conn: EngineConn } | undefined)?.conn;

  it.each(['websocket', 'polling'] as const)('over %s: the transport calls its socket through the shared listeners', async (carrier) => {
    const s = await startServer();
    servers.push(s);
    const client = await s.client('alice', { transports: [carrier] });
    expect(hasSharedTransportListeners(firstConn(s))).toBe(true);
    const ack = (await client.timeout(5000).emitWithAck('ping', {})) as { ok: boolean };
    expect(ack.ok).toBe(true);
  });

  it('an upgrade from long-polling moves them to the WebSocket and lets go of the polling transport', async () => {
    const s = await startServer();
    servers.push(s);
    const client = await s.client('alice', { transports: ['polling', 'websocket'] });
    const conn = firstConn(s);
    const polling = conn?.transport;
    await expect.poll(() => conn?.transport.name, { timeout: 10_000 }).toBe('websocket');
    expect(hasSharedTransportListeners(conn)).toBe(true);
    expect(polling?.listenerCount('packet')).toBe(0);
    expect(polling?.listenerCount('drain')).toBe(0);
    const ack = (await client.timeout(5000).emitWithAck('ping', {})) as { ok: boolean };
    expect(ack.ok).toBe(true);
  });

  it.each([
    ['error', 'transport error'],
    ['close', 'transport close'],
  ] as const)('a transport %s ends the connection as engine.io does', async (event, reason) => {
    const s = await startServer();
    servers.push(s);
    await s.client('alice', { transports: ['websocket'] });
    const server = s.app.socketIo.io.of('/').sockets.values().next().value as unknown as { conn: EngineConn; once(e: 'disconnect', l: (r: string) => void): void };
    const gone = new Promise<string>((resolve) => server.once('disconnect', resolve));
    server.conn.transport.emit(event, ...(event === 'error' ? [new Error('broken')] : []));
    expect(await gone).toBe(reason);
    // Once only, as with engine.io's own listeners.
    expect(server.conn.transport.listenerCount(event === 'error' ? 'packet' : 'close')).toBe(0);
  });
});

describe('SmallMap', () => {
  it('answers as a Map does, through one entry and past it', () => {
    const small = new SmallMap<string, number>();
    const map = new Map<string, number>();
    const same = () => {
      expect(small.size).toBe(map.size);
      expect([...small.values()]).toEqual([...map.values()]);
      expect([...small.keys()]).toEqual([...map.keys()]);
      expect([...small]).toEqual([...map]);
      for (const k of ['a', 'b', 'c']) {
        expect(small.has(k)).toBe(map.has(k));
        expect(small.get(k)).toBe(map.get(k));
      }
    };
    same();
    const steps: Array<(m: SmallMap<string, number> | Map<string, number>) => unknown> = [
      (m) => m.set('a', 1),
      (m) => m.set('a', 2),
      (m) => m.delete('b'),
      (m) => m.set('b', 3), // a second entry: a Map from here on
      (m) => m.delete('a'),
      (m) => m.set('c', 4),
      (m) => m.clear(),
      (m) => m.set('c', 5),
      (m) => m.delete('c'),
      (m) => m.delete('c'),
    ];
    for (const step of steps) {
      const a = step(small);
      const b = step(map);
      // `set` answers the map itself, `delete` whether it found the key, `clear` nothing.
      expect(a === small ? map : a).toBe(b);
      same();
    }
  });
});

