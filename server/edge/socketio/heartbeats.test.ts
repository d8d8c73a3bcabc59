import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket as EngineSocket, attach, type Server as EngineServer } from 'engine.io';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { queuedBeats, shareHeartbeats } from './heartbeats.ts';

/**
 * The shared heartbeat on a real engine.io server and raw protocol-4
 * WebSocket clients: engine.io's heartbeat behaviour (ping every interval, a
 * connection that stops answering closed as `ping timeout`, any packet
 * extending the wait for a pong) with no timer per connection.
 */
const PING_INTERVAL = 60;
const PING_TIMEOUT = 80;

let http: HttpServer | undefined;
let engine: EngineServer | undefined;
const clients: WebSocket[] = [];

beforeAll(() => {
  expect(shareHeartbeats(EngineSocket)).toBe(true);
  expect(shareHeartbeats(EngineSocket)).toBe(true); // idempotent
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  engine?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  http = undefined;
  engine = undefined;
});

async function start(): Promise<{ engine: EngineServer; url: string }> {
  http = createServer();
  engine = attach(http, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, transports: ['websocket'] });
  await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { engine, url: `ws://127.0.0.1:${port}/engine.io/?EIO=4&transport=websocket` };
}

/** A raw client: counts the pings it gets and answers them while `answering`. */
function connect(url: string): Promise<{ ws: WebSocket; pings: () => number; answering: { on: boolean } }> {
  const ws = new WebSocket(url);
  clients.push(ws);
  let pings = 0;
  const answering = { on: true };
  ws.on('message', (data) => {
    if (String(data) !== '2') return;
    pings++;
    if (answering.on) ws.send('3');
  });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve({ ws, pings: () => pings, answering })); // the open packet
    ws.once('error', reject);
  });
}

function closedWith(socket: EngineSocket): Promise<string> {
  return new Promise((resolve) => socket.once('close', (reason: string) => resolve(reason)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

describe('shared heartbeats', () => {
  it('pings every interval and keeps a connection that answers open', async () => {
    const { engine, url } = await start();
    const opened = new Promise<EngineSocket>((resolve) => engine.once('connection', resolve));
    const client = await connect(url);
    const socket = await opened;
    let closed = false;
    socket.once('close', () => (closed = true));
    await until(() => client.pings() >= 5, 'five pings');
    expect(closed).toBe(false);
    expect(socket.readyState).toBe('open');
  });

  it('closes a connection that stops answering as a ping timeout', async () => {
    const { engine, url } = await start();
    const opened = new Promise<EngineSocket>((resolve) => engine.once('connection', resolve));
    const client = await connect(url);
    const socket = await opened;
    await until(() => client.pings() >= 2, 'two pings');
    client.answering.on = false;
    expect(await closedWith(socket)).toBe('ping timeout');
  });

  it('a message while a pong is awaited extends the wait once, as engine.io does', async () => {
    const { engine, url } = await start();
    const opened = new Promise<EngineSocket>((resolve) => engine.once('connection', resolve));
    const client = await connect(url);
    const socket = await opened;
    client.answering.on = false;
    const reason = closedWith(socket);
    await until(() => client.pings() >= 1, 'a ping');
    const pingedAt = Date.now();
    await sleep(PING_TIMEOUT / 2);
    client.ws.send('4hello'); // a message packet
    expect(await reason).toBe('ping timeout');
    // Closed a full timeout after the message, not a timeout after the ping.
    expect(Date.now() - pingedAt).toBeGreaterThanOrEqual(PING_TIMEOUT + PING_TIMEOUT / 2 - 5);
  });

  it('holds no timer per connection, and forgets the beats of closed connections', async () => {
    // Earlier tests' connections' beats are dropped as they come due.
    await until(() => queuedBeats() === 0, 'earlier beats dropped');
    const { engine, url } = await start();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const n = 40;
    const all = await Promise.all(Array.from({ length: n }, () => connect(url)));
    await until(() => all.every((c) => c.pings() >= 2), 'every connection pinged twice');
    expect(engine.clientsCount).toBe(n);
    // The wheel's one timer (and whatever else is running), not one or two per connection.
    expect(timers() - before).toBeLessThan(5);
    // At most three each: the next ping, the wait for a pong, and a wait a pong ended that is not yet due.
    expect(queuedBeats()).toBeLessThanOrEqual(3 * n);
    for (const c of all) c.ws.close();
    await until(() => engine.clientsCount === 0, 'every connection closed');
    // Each closed connection's beats are dropped when they come due.
    await until(() => queuedBeats() === 0, 'no beats left');
  });
});
