/**
 * A throwaway HAProxy in front of Fiberchat nodes. HTTP long-polling needs
 * every request of one engine.io session on the node that holds it, so
 * backends are sticky by a cookie HAProxy inserts; a WebSocket may land on
 * any node, and Ajax polling reads the store wherever it lands. A node
 * whose /healthz answers 503 (shutting down) leaves the rotation within
 * about a second.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect, findBinary, freePort, makeFolder, removeFolder, spawnService, stopChild, tail, waitUntil } from './process.ts';

export interface HaproxyBackend {
  /** Server name, also the value of its stickiness cookie (e.g. node-1). */
  name: string;
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface HaproxyOptions {
  backends: readonly HaproxyBackend[];
  /** Frontend port (default: a free one). */
  port?: number;
  /** Frontend address (default 127.0.0.1). */
  bindHost?: string;
  /** Long-polling stickiness by cookie (default true). False omits it: only for showing what breaks without it. */
  stickiness?: boolean;
  /** Health-check interval in ms (default 500); a server is out after 2 failed checks, back after 2 good ones. */
  checkIntervalMs?: number;
  /** Bound on each start, in ms (default 20 000). */
  startTimeoutMs?: number;
}

/** The name of the cookie that pins a client to its node. */
export const STICKY_COOKIE = 'SERVERID';

/** HAProxy's configuration for these options. */
export function haproxyConfig(opts: HaproxyOptions & { port: number }): string {
  const sticky = opts.stickiness ?? true;
  const inter = opts.checkIntervalMs ?? 500;
  return [
    // No global maxconn: HAProxy derives it from the file-descriptor limit it is given.
    'global',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    // Longer than engine.io's long-poll (pingInterval 25 s) so a held poll is not cut.
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-request 10s',
    // An idle client connection is closed after this; the frontend tells clients a shorter time (below).
    '  timeout http-keep-alive 10s',
    '  timeout queue 5s',
    // An upgraded WebSocket lives as long as its user stays; it pings every 25 s.
    '  timeout tunnel 1h',
    '  option forwardfor',
    // A request for a node that is down goes to another (its session there is unknown: the client reconnects).
    '  option redispatch',
    '  retries 2',
    '',
    'frontend chat',
    `  bind ${opts.bindHost ?? '127.0.0.1'}:${opts.port}`,
    // The nodes answer Keep-Alive: timeout=72 (they outlast HAProxy's 60 s to them). Passed on, a client would
    // reuse a connection HAProxy closed after 10 s idle, and a request sent as it closes fails. Tell clients 5 s.
    '  http-response set-header Keep-Alive timeout=5',
    '  default_backend nodes',
    '',
    'backend nodes',
    '  balance roundrobin',
    ...(sticky ? [`  cookie ${STICKY_COOKIE} insert indirect nocache`] : []),
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    `  default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall 2 rise 2`,
    ...opts.backends.map(
      (b) => `  server ${b.name} ${b.host ?? '127.0.0.1'}:${b.port} check${sticky ? ` cookie ${b.name}` : ''}`,
    ),
    '',
  ].join('\n');
}

export class HaproxyService {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private opts: HaproxyOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(opts: HaproxyOptions): Promise<HaproxyService> {
    const bin = findBinary('haproxy', 'haproxy');
    const svc = new HaproxyService(opts.port ?? (await freePort()), makeFolder('fiberchat-haproxy-'), bin, opts);
    try {
      await svc.start();
      return svc;
    } catch (err) {
      await svc.dispose();
      throw err;
    }
  }

  get configFile(): string {
    return join(this.dir, 'haproxy.cfg');
  }

  get logFile(): string {
    return join(this.dir, 'haproxy.log');
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes the configuration and starts HAProxy in the foreground (-db); resolves once its port accepts. */
  async start(): Promise<void> {
    if (this.running) return;
    writeFileSync(this.configFile, haproxyConfig({ ...this.opts, port: this.port }));
    const child = spawnService(this.bin, ['-f', this.configFile, '-db'], { logFile: this.logFile, exitSignal: 'SIGKILL', spawn: { cwd: this.dir } });
    this.child = child;
    await waitUntil('HAProxy', () => canConnect(this.port), {
      timeoutMs: this.opts.startTimeoutMs ?? 20_000,
      child,
      describe: () => tail(this.logFile),
    });
  }

  /** Stops it by pid (SIGTERM: at once, dropping connections) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM');
  }

  /** Restarts on the same port with another set of backends (connections in flight are dropped). */
  async reload(backends: readonly HaproxyBackend[]): Promise<void> {
    this.opts = { ...this.opts, backends };
    await this.stop();
    await this.start();
  }

  /** Stops it and deletes its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    removeFolder(this.dir);
  }
}

/** Starts a throwaway HAProxy; see HaproxyService. */
export function startHaproxy(opts: HaproxyOptions): Promise<HaproxyService> {
  return HaproxyService.create(opts);
}
