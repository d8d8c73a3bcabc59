import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MissingBinaryError,
  STICKY_COOKIE,
  findBinary,
  isAlive,
  redisPing,
  startHaproxy,
  startPostgres,
  startRedis,
  type HaproxyService,
} from '../../scripts/services/index.ts';

/** A stand-in node: answers every request with its name; /healthz answers `health` (200 or 503). */
interface FakeNode {
  name: string;
  port: number;
  health: number;
  server: Server;
}

async function fakeNode(name: string): Promise<FakeNode> {
  const node: FakeNode = { name, port: 0, health: 200, server: createServer() };
  node.server.on('request', (req, res) => {
    if (req.url === '/healthz') res.writeHead(node.health).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  // As a Fiberchat node does: idle connections live 72 s, announced as Keep-Alive: timeout=72.
  node.server.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve) => node.server.listen(0, '127.0.0.1', resolve));
  node.port = (node.server.address() as { port: number }).port;
  return node;
}

async function get(url: string, cookie?: string): Promise<{ body: string; setCookie: string | null }> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {} });
  return { body: await res.text(), setCookie: res.headers.get('set-cookie') };
}

const nodes: FakeNode[] = [];
afterAll(async () => {
  for (const n of nodes.splice(0)) await new Promise((resolve) => n.server.close(resolve));
});

async function twoNodes(): Promise<[FakeNode, FakeNode]> {
  const pair: [FakeNode, FakeNode] = [await fakeNode('node-1'), await fakeNode('node-2')];
  nodes.push(...pair);
  return pair;
}

const backends = (ns: readonly FakeNode[]) => ns.map((n) => ({ name: n.name, port: n.port }));

describe('throwaway services', () => {
  it('a missing binary names the Debian package that brings it', () => {
    expect(() => findBinary('fiberchat-no-such-binary', 'fiberchat-pkg')).toThrow(MissingBinaryError);
    expect(() => findBinary('fiberchat-no-such-binary', 'fiberchat-pkg')).toThrow(/apt-get install fiberchat-pkg/);
  });

  it('starts PostgreSQL with a UTF-8 database on loopback, restarts it on the same port, and stops it by pid', async () => {
    const pgs = await startPostgres();
    try {
      const first = pgs.pid as number;
      expect(isAlive(first)).toBe(true);
      const query = async (sql: string) => {
        const c = new pg.Client({ connectionString: pgs.url });
        await c.connect();
        try {
          return (await c.query(sql)).rows[0] as Record<string, string>;
        } finally {
          await c.end();
        }
      };
      expect(await query('SHOW server_encoding')).toEqual({ server_encoding: 'UTF8' });
      expect(await query('SHOW listen_addresses')).toEqual({ listen_addresses: '127.0.0.1' });
      expect(await query('SHOW fsync')).toEqual({ fsync: 'on' });
      await query('CREATE TABLE kept (x int)');
      await query('INSERT INTO kept VALUES (7)');
      await pgs.stop('immediate');
      expect(isAlive(first)).toBe(false);
      await pgs.start();
      expect(pgs.pid).not.toBe(first);
      expect(await query('SELECT x FROM kept')).toEqual({ x: 7 });
      const second = pgs.pid as number;
      await pgs.stop('fast');
      expect(isAlive(second)).toBe(false);
    } finally {
      await pgs.dispose();
    }
  }, 120_000);

  it('starts redis-server, answers PING, and stops or kills it by pid', async () => {
    const redis = await startRedis();
    try {
      const first = redis.pid as number;
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await redisPing(redis.port)).toBe(true);
      await redis.kill();
      expect(isAlive(first)).toBe(false);
      expect(await redisPing(redis.port)).toBe(false);
      await redis.start();
      expect(await redisPing(redis.port)).toBe(true);
      const second = redis.pid as number;
      await redis.stop();
      expect(isAlive(second)).toBe(false);
    } finally {
      await redis.dispose();
    }
  }, 60_000);

  describe('HAProxy', () => {
    let proxy: HaproxyService | undefined;
    afterAll(async () => {
      await proxy?.dispose();
    });

    it('pins a client to its node by cookie, balances new clients, takes a 503 node out, and stops by pid', async () => {
      const [a, b] = await twoNodes();
      proxy = await startHaproxy({ backends: backends([a, b]) });
      const first = await get(proxy.url);
      expect(first.setCookie).toMatch(new RegExp(`^${STICKY_COOKIE}=node-[12];`));
      const cookie = (first.setCookie as string).split(';')[0] as string;
      // With the cookie: always the same node.
      for (let i = 0; i < 6; i++) expect((await get(proxy.url, cookie)).body).toBe(first.body);
      // Without it: round robin over both.
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await get(proxy.url)).body);
      expect([...seen].sort()).toEqual(['node-1', 'node-2']);
      // A node whose health check answers 503 leaves the rotation, even for its pinned clients.
      const pinned = first.body === 'node-1' ? a : b;
      const other = pinned === a ? b : a;
      pinned.health = 503;
      await expect.poll(async () => (await get(proxy!.url, cookie)).body, { timeout: 10_000, interval: 200 }).toBe(other.name);
      for (let i = 0; i < 4; i++) expect((await get(proxy.url)).body).toBe(other.name);
      const pid = proxy.pid as number;
      await proxy.stop();
      expect(isAlive(pid)).toBe(false);
    }, 60_000);

    it('tells clients a shorter keep-alive than it keeps: a connection idle past the advertised time still serves', async () => {
      const [a, b] = await twoNodes();
      const front = await startHaproxy({ backends: backends([a, b]) });
      try {
        const direct = await fetch(`http://127.0.0.1:${a.port}/`);
        expect(direct.headers.get('keep-alive')).toBe('timeout=72');
        const socket = connect(front.port, '127.0.0.1');
        socket.setEncoding('latin1');
        let received = '';
        socket.on('data', (chunk: string) => (received += chunk));
        const ask = async (n: number): Promise<void> => {
          socket.write('GET / HTTP/1.1\r\nHost: chat\r\n\r\n');
          await expect.poll(() => received.split('HTTP/1.1 200').length - 1, { timeout: 5_000, interval: 20 }).toBe(n);
        };
        await ask(1);
        const advertised = /keep-alive: timeout=(\d+)/i.exec(received);
        expect(advertised?.[1]).toBe('5');
        // Idle a little past what the client was told: the connection is still open and answers.
        await new Promise((resolve) => setTimeout(resolve, Number(advertised?.[1]) * 1000 + 500));
        expect(socket.destroyed).toBe(false);
        await ask(2);
        socket.destroy();
      } finally {
        await front.dispose();
      }
    }, 60_000);

    it('without stickiness sets no cookie and alternates, even for a client that sends one; reloads with other backends', async () => {
      const [a, b] = await twoNodes();
      const loose = await startHaproxy({ backends: backends([a, b]), stickiness: false });
      try {
        const answers: string[] = [];
        for (let i = 0; i < 4; i++) {
          const r = await get(loose.url, `${STICKY_COOKIE}=node-1`);
          expect(r.setCookie).toBeNull();
          answers.push(r.body);
        }
        expect(new Set(answers).size).toBe(2);
        // Reloaded with one backend, on the same port: only that one answers.
        const before = loose.pid;
        await loose.reload(backends([b]));
        expect(loose.pid).not.toBe(before);
        for (let i = 0; i < 3; i++) expect((await get(loose.url)).body).toBe(b.name);
      } finally {
        const pid = loose.pid as number;
        await loose.dispose();
        expect(isAlive(pid)).toBe(false);
      }
    }, 60_000);
  });
});
