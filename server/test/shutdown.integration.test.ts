import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import type { Ack, SendOk } from '../../shared/protocol.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { unlimitedSends, type ChatSocket } from './harness.ts';
import { spawnServer } from './server-process.ts';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The server as operators run it: its own process, configured by environment. */
async function serverProcess(dataDir: string, port = 0) {
  const srv = await spawnServer({ port, env: { DATA_DIR: dataDir, ...unlimitedSends() } });
  children.push(srv.child);
  return srv;
}

describe('graceful shutdown of the server process', () => {
  it('SIGTERM mid-burst: exits 0 within 5 s; every acked message is stored once; nothing is silently lost', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fiberchat-shutdown-'));
    dirs.push(dataDir);
    const srv = await serverProcess(dataDir);
    const { token } = (await (
      await fetch(`${srv.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"burst"}' })
    ).json()) as { token: string };
    const socket = connect(srv.url, { auth: { token }, transports: ['websocket'], reconnection: false }) as ChatSocket;
    await new Promise((r) => socket.once('connect', () => r(undefined)));
    const byes: string[] = [];
    socket.on('bye', (e) => byes.push(e.reason));

    const total = 2000;
    const results: Array<Ack<SendOk> | 'no answer'> = new Array(total);
    const pending: Array<Promise<void>> = [];
    let signalledAt = 0;
    for (let i = 0; i < total; i++) {
      pending.push(
        socket
          .timeout(8000)
          .emitWithAck('send', { room: 'burst', text: `m${i}`, clientId: `burst-${i}-xxxxxx` })
          .then((a) => void (results[i] = a))
          .catch(() => void (results[i] = 'no answer')),
      );
      if (i === total / 4) {
        // Mid-burst: wait for the first acks, then signal while sends are in flight.
        await Promise.race([pending[0], new Promise((r) => setTimeout(r, 2000))]);
        signalledAt = Date.now();
        srv.child.kill('SIGTERM');
      }
    }
    const code = await srv.exited;
    const drainMs = Date.now() - signalledAt;
    await Promise.all(pending);
    socket.disconnect();
    // 0, not the 1 of the forced exit: the drain finished within SHUTDOWN_TIMEOUT_MS (5 s).
    expect(code).toBe(0);
    expect(byes).toContain('server_shutdown');

    // Restart on the same data and look at what was stored.
    const store = new SqliteStore({ file: join(dataDir, 'fiberchat.db') });
    const stored = await store.readAfter('burst', 0, 10_000);
    await store.close();
    const storedIds = stored.map((m) => m.clientId);
    expect(new Set(storedIds).size).toBe(stored.length); // nothing twice
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1)); // no gap
    let acked = 0;
    let refused = 0;
    results.forEach((r, i) => {
      if (r === 'no answer') return;
      if (r.ok) {
        acked++;
        expect(storedIds).toContain(`burst-${i}-xxxxxx`); // every ack is durable
      } else {
        refused++;
        // A refusal (`unavailable` while stopping) promises that nothing was stored.
        expect(r.error.code).toBe('unavailable');
        expect(storedIds).not.toContain(`burst-${i}-xxxxxx`);
      }
    });
    // Sends with no answer are the ones the client must retry with their clientId (the outbox does);
    // they are either stored once or not at all, never half (checked above: no clientId twice, no gap).
    expect(acked).toBeGreaterThan(0);
    console.log(`shutdown mid-burst: ${acked} acked, ${refused} refused, ${total - acked - refused} unanswered, ${stored.length} stored; exit after ${drainMs} ms`);
    const restarted = await serverProcess(dataDir, srv.port);
    const read = (await (
      await fetch(`${restarted.url}/api/rooms/burst/messages?after=0&limit=1`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { lastSeq: number };
    expect(read.lastSeq).toBe(stored.length);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }, 40_000);
});
