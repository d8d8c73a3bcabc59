import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SessionOk } from '../../shared/protocol.ts';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Settings that lift every send budget (per connection, identity, address and
 * room, and the cap on requests in flight), for tests that need many messages
 * quickly and test something else.
 */
export function unlimitedSends(n = 100_000): Record<string, string> {
  const v = String(n);
  return { SEND_RATE: v, SEND_BURST: v, SEND_ADDRESS_RATE: v, SEND_ADDRESS_BURST: v, SEND_ROOM_RATE: v, SEND_ROOM_BURST: v, MAX_IN_FLIGHT: '65536' };
}

export interface TestServer {
  url: string;
  port: number;
  app: App;
  store: Store;
  dataDir: string;
  session(name: string): Promise<SessionOk>;
  /** A connected socket.io client with a fresh session. */
  client(name: string, opts?: { transports?: Array<'websocket' | 'polling'> }): Promise<ChatSocket & { session: SessionOk }>;
  /** Another connection of an existing session (a second tab). */
  connectAs(session: SessionOk, opts?: { transports?: Array<'websocket' | 'polling'> }): Promise<ChatSocket & { session: SessionOk }>;
  close(): Promise<void>;
}

/**
 * The real server on port 0 (real HTTP, real socket.io) around a MemoryStore
 * or a SQLite file in a temporary folder.
 */
export async function startServer(
  opts: {
    env?: Record<string, string>;
    store?: 'memory' | 'sqlite' | Store;
    dataDir?: string;
    now?: () => number;
    /** Receives every log line as parsed JSON (default: silent). */
    onLog?: (line: Record<string, unknown>) => void;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fiberchat-it-'));
  // Every test client comes from 127.0.0.1: lift the per-address session budget unless a test sets it.
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SESSION_RATE_PER_MIN: '100000', SESSION_BURST: '100000', ...opts.env });
  const store =
    opts.store === 'sqlite'
      ? new SqliteStore({ file: config.dbFile })
      : opts.store === 'memory' || opts.store === undefined
        ? new MemoryStore()
        : opts.store;
  const onLog = opts.onLog;
  const logger = onLog
    ? pino({ level: 'info' }, { write: (line: string) => onLog(JSON.parse(line) as Record<string, unknown>) })
    : pino({ level: 'silent' });
  const app = createApp({ config, store, logger, now: opts.now });
  const port = await app.listen();
  const url = `http://127.0.0.1:${port}`;
  const sockets: ChatSocket[] = [];

  const session = async (name: string): Promise<SessionOk> => {
    const res = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (!res.ok) throw new Error(`session: ${res.status}`);
    return (await res.json()) as SessionOk;
  };

  const connectAs: TestServer['connectAs'] = async (s, copts = {}) => {
    const socket = connect(url, {
      auth: { token: s.token },
      transports: copts.transports ?? ['websocket'],
      reconnection: false,
      forceNew: true,
    }) as ChatSocket;
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return Object.assign(socket, { session: s });
  };

  return {
    url,
    port,
    app,
    store,
    dataDir,
    session,
    connectAs,
    async client(name, copts = {}) {
      return connectAs(await session(name), copts);
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects every event of one name a socket receives. */
export function collect<E extends keyof ServerToClientEvents>(socket: ChatSocket, event: E): Array<Parameters<ServerToClientEvents[E]>[0]> {
  const seen: Array<Parameters<ServerToClientEvents[E]>[0]> = [];
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => seen.push(payload)) as never);
  return seen;
}

let counter = 0;
/** A fresh valid clientId. */
export function cid(): string {
  return `test-${Date.now().toString(36)}-${(counter++).toString(36).padStart(4, '0')}`;
}

/**
 * A raw WebSocket speaking socket.io by hand, connected with a fresh
 * session: the frames as they are on the wire, in `frames`.
 */
export async function rawSocketIo(s: TestServer, name: string): Promise<{ ws: WebSocket; frames: string[] }> {
  const { token } = await s.session(name);
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  await new Promise((r) => ws.once('open', r));
  ws.send(`40${JSON.stringify({ token })}`);
  await expect.poll(() => frames.some((f) => f.startsWith('40{'))).toBe(true);
  return { ws, frames };
}
