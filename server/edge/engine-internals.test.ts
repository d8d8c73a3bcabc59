import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../test/harness.ts';
import { directWebSocket, queuedBytes, transportOf, type EngineConn } from './engine-internals.ts';

/**
 * The engine.io internals Fiberchat relies on (engine-internals.ts), checked
 * on real connections. If an upgrade of engine.io renames or reshapes one of
 * them, this fails instead of a guard silently doing nothing.
 */
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('engine.io internals', () => {
  it.each([['websocket'], ['polling']] as const)('over %s: request at handshake, writeBuffer, transport socket', async (carrier) => {
    const s = await startServer();
    servers.push(s);
    const seen: Array<{ hadHeaders: boolean; hadRaw: boolean }> = [];
    // Prepended: it runs before the app's own listener lets the request go.
    s.app.io.engine.prependListener('connection', (conn: EngineConn) => {
      seen.push({ hadHeaders: typeof conn.request?.headers === 'object', hadRaw: Array.isArray(conn.request?.rawHeaders) });
    });
    const client = await s.client('alice', { transports: [carrier] });
    expect(seen).toEqual([{ hadHeaders: true, hadRaw: true }]);
    const [socket] = await s.app.io.fetchSockets();
    const conn = (socket as unknown as { conn: EngineConn } | undefined)?.conn;
    expect(conn).toBeDefined();
    if (!conn) return;
    expect(conn.request).toBeNull(); // released by the app
    expect(Array.isArray(conn.writeBuffer)).toBe(true);
    expect(transportOf(conn)).toBe(carrier === 'websocket' ? 'websocket' : 'long-polling');
    expect(queuedBytes(conn)).toBeGreaterThanOrEqual(0);
    if (carrier === 'websocket') {
      expect(typeof conn.transport.socket?.bufferedAmount).toBe('number');
      expect(typeof conn.transport.socket?.terminate).toBe('function');
      // Nothing queued in engine.io: a broadcast may write to its TCP socket.
      const ws = directWebSocket(conn);
      expect(typeof ws?._socket.write).toBe('function');
      expect(ws?.bufferedAmount).toBe(0);
    } else {
      expect(directWebSocket(conn)).toBeUndefined();
    }
    client.disconnect();
  });
});
