/**
 * A throwaway redis-server on a free loopback port: no persistence (no RDB
 * snapshots, no append-only file), so a restart starts empty, as after a
 * crash of a cache that nobody backs up.
 */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findBinary, freePort, makeFolder, removeFolder, spawnService, stopChild, tail, waitUntil } from './process.ts';

export interface RedisOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Bound on each start, in ms (default 20 000). */
  startTimeoutMs?: number;
}

/** Sends PING on a fresh connection; true on +PONG. */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

/**
 * Sends one command (as a RESP array) on a fresh connection and resolves
 * with the first line of the reply: `+OK`, `:3`, `-ERR …`. Rejects when
 * Redis does not answer within `timeoutMs`.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let reply = '';
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new Error(`redis ${args[0]}: no answer within ${timeoutMs} ms`));
    });
    sock.once('connect', () => {
      const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`);
      sock.write(`*${args.length}\r\n${parts.join('')}`);
    });
    sock.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      sock.destroy();
      resolve(reply.slice(0, end));
    });
    sock.once('error', reject);
  });
}

export class RedisService {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly startTimeoutMs: number,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async create(opts: RedisOptions = {}): Promise<RedisService> {
    const bin = findBinary('redis-server', 'redis-server');
    const svc = new RedisService(opts.port ?? (await freePort()), makeFolder('fiberchat-redis-'), bin, opts.startTimeoutMs ?? 20_000);
    try {
      await svc.start();
      return svc;
    } catch (err) {
      await svc.dispose();
      throw err;
    }
  }

  get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or restarts, empty) on the same port; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', this.dir];
    const child = spawnService(this.bin, args, { logFile: this.logFile, exitSignal: 'SIGKILL', spawn: { cwd: this.dir } });
    this.child = child;
    await waitUntil('redis-server', () => redisPing(this.port), { timeoutMs: this.startTimeoutMs, child, describe: () => tail(this.logFile) });
  }

  /** Stops it by pid (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM');
  }

  /** Kills it by pid (SIGKILL), as a crash would, and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGKILL');
  }

  /** FLUSHALL: every key goes (the bus keeps none: its channels and subscriptions stay). */
  async flushAll(): Promise<void> {
    const reply = await redisCommand(this.port, ['FLUSHALL']);
    if (reply !== '+OK') throw new Error(`FLUSHALL answered ${reply}`);
  }

  /** Closes every subscriber connection (CLIENT KILL TYPE pubsub), as a Redis failover would; resolves with how many. */
  async killSubscribers(): Promise<number> {
    const reply = await redisCommand(this.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    if (!reply.startsWith(':')) throw new Error(`CLIENT KILL answered ${reply}`);
    return Number(reply.slice(1));
  }

  /** Stops it and deletes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    removeFolder(this.dir);
  }
}

/** Starts a throwaway redis-server; see RedisService. */
export function startRedis(opts?: RedisOptions): Promise<RedisService> {
  return RedisService.create(opts);
}
