import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, SessionOk } from '../../../shared/protocol.ts';
import { cid } from '../harness.ts';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { newSession, sleep } from './peers.ts';

/**
 * Moderation on a cluster: an action taken through node A holds on node B
 * within a second (each node drops its copy of the room's state when the
 * bus tells it of a change; a ban also ends the user's subscriptions there).
 */
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster({ nodes: 2, env: { ADMINS: 'root' } });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function register(base: string, name: string): Promise<SessionOk> {
  const res = await fetch(`${base}/api/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `${name} has a long passphrase` }),
  });
  if (!res.ok) throw new Error(`register ${name}: ${res.status}`);
  return (await res.json()) as SessionOk;
}

async function post(base: string, who: SessionOk, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('moderation across nodes', () => {
  it('a mute and a ban through node A hold on node B within a second', async () => {
    logsOnFailure(cluster);
    const a = cluster.node(0).url;
    const b = cluster.node(1).url;
    const root = await register(a, 'root');
    const bob = await register(a, 'bob');
    const carol = (await newSession(b, 'carol')) as SessionOk;
    expect(await post(a, root, '/api/rooms/lobby/roles', { userId: bob.userId, role: 'moderator' })).toBe(200);

    const socket = io(b, { auth: { token: carol.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const removed: unknown[] = [];
      socket.on('removed', (e: unknown) => removed.push(e));
      expect(((await socket.emitWithAck('join', { room: 'lobby' })) as Ack<object>).ok).toBe(true);
      const send = async () => (await socket.emitWithAck('send', { room: 'lobby', text: 'hello', clientId: cid() })) as Ack<{ seq: number }>;
      expect((await send()).ok).toBe(true);

      // Mute through A; on B the next send is refused within a second.
      const muted = Date.now();
      expect(await post(a, bob, '/api/rooms/lobby/moderation', { action: 'mute', userId: carol.userId, seconds: 600 })).toBe(200);
      let refusedAfter: number | undefined;
      while (Date.now() - muted < 3000) {
        const ack = await send();
        if (!ack.ok) {
          expect(ack.error).toMatchObject({ code: 'forbidden' });
          expect(ack.error.until).toBeGreaterThan(muted);
          refusedAfter = Date.now() - muted;
          break;
        }
        await sleep(50);
      }
      expect(refusedAfter, 'the mute held on node B').toBeDefined();
      expect(refusedAfter).toBeLessThanOrEqual(1000);

      // Ban through A; B ends carol's subscription (`removed`) and refuses her join, within a second.
      const banned = Date.now();
      expect(await post(a, bob, '/api/rooms/lobby/moderation', { action: 'ban', userId: carol.userId })).toBe(200);
      while (removed.length === 0 && Date.now() - banned < 3000) await sleep(20);
      expect(removed).toEqual([{ room: 'lobby' }]);
      expect(Date.now() - banned).toBeLessThanOrEqual(1000);
      const rejoin = (await socket.emitWithAck('join', { room: 'lobby' })) as Ack<object>;
      expect(rejoin).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    } finally {
      socket.disconnect();
    }
  });
});
