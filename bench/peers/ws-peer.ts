/**
 * Peers 2 and 3: the practical ceilings for Node here. The same
 * engine.io/socket.io framing as Fiberchat and the socket.io peer, spoken by
 * hand on the `ws` library: a WebSocket-only engine.io v4 handshake, acks
 * written directly, and each broadcast framed once (WebSocket header
 * included) and written as the same bytes to every subscriber's TCP socket.
 * No auth (any CONNECT is accepted), no persistence, one shared ping timer.
 * Same settings as the others: no compression, the same ping cadence and
 * packet cap.
 *
 * Two ways to broadcast, the only difference between the two peers:
 * - by default, one frame per message (the ceiling for an unbatched chat);
 * - PEER_BATCH=turn, one frame per room per turn carrying every message of
 *   the turn (the ceiling for Fiberchat's batching; see `queueSend`).
 *
 * PEER_NAIVE_SEND=1 sends through `ws.send` instead (frames built per socket),
 * the "before" of the optimisation recorded in BENCHMARKS.md.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_PAYLOAD, PING_INTERVAL_MS, PING_TIMEOUT_MS, Rooms, isJoin, isSend, newAuthorId, listenAndReport, statsHandler, type PeerMessage } from './common.ts';

const NAIVE = process.env.PEER_NAIVE_SEND === '1';
const BATCH = process.env.PEER_BATCH === 'turn';

/** ws's frame builder (exported by the package, not declared by @types/ws); socket.io's adapter uses the same. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, o: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] };
};

interface Client {
  ws: WebSocket;
  tcp: Socket;
  sid: string;
  authorId: string;
  rooms: Set<string>;
  connected: boolean;
  ponged: boolean;
}

const members = new Map<string, Set<Client>>();
const clients = new Set<Client>();
const rooms = new Rooms();
const stats = statsHandler();

const http = createServer((req, res) => {
  if (!stats(req, res)) res.writeHead(404).end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD });

http.on('upgrade', (req, socket, head) => {
  if (!req.url?.startsWith('/socket.io/') || !req.url.includes('transport=websocket')) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket as Socket));
});

function accept(ws: WebSocket, tcp: Socket): void {
  const c: Client = { ws, tcp, sid: randomBytes(15).toString('base64url'), authorId: newAuthorId(), rooms: new Set(), connected: false, ponged: true };
  clients.add(c);
  ws.send(`0${JSON.stringify({ sid: c.sid, upgrades: [], pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS, maxPayload: MAX_PAYLOAD })}`);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) onPacket(c, data.toString());
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    clients.delete(c);
    for (const r of c.rooms) members.get(r)?.delete(c);
  });
}

function onPacket(c: Client, p: string): void {
  if (p === '3') {
    c.ponged = true;
    return;
  }
  if (p.startsWith('40')) {
    // Any CONNECT is accepted: the peers have no auth.
    c.connected = true;
    c.ws.send(`40${JSON.stringify({ sid: c.sid })}`);
    return;
  }
  if (!c.connected || !p.startsWith('42')) {
    if (p.startsWith('41') || p === '1') c.ws.close();
    return;
  }
  const open = p.indexOf('[');
  if (open < 0) return;
  const ackId = open > 2 ? p.slice(2, open) : undefined;
  let event: unknown;
  let payload: unknown;
  try {
    [event, payload] = JSON.parse(p.slice(open)) as [unknown, unknown];
  } catch {
    c.ws.close();
    return;
  }
  const ack = (res: unknown) => {
    if (ackId !== undefined) c.ws.send(`43${ackId}${JSON.stringify([res])}`);
  };
  if (event === 'send' && isSend(payload)) {
    const m = rooms.message(payload.room, payload.text, payload.clientId, c.authorId);
    if (BATCH) {
      queueSend(c, ackId, m);
      return;
    }
    ack({ ok: true, seq: m.seq, id: m.id, ts: m.ts });
    broadcast(payload.room, `42["messages",${JSON.stringify({ room: payload.room, messages: [m] })}]`);
    return;
  }
  // As in Fiberchat, sends collected before a join or leave go out first, so
  // a join's lastSeq is exactly what precedes its live stream.
  if (turn.size > 0) flushTurn();
  if (event === 'join' && isJoin(payload)) {
    let set = members.get(payload.room);
    if (!set) members.set(payload.room, (set = new Set()));
    set.add(c);
    c.rooms.add(payload.room);
    ack({ ok: true, room: payload.room, epoch: 'memory', lastSeq: rooms.lastSeq(payload.room), messages: [], members: [], recovered: true });
  } else if (event === 'leave' && isJoin(payload)) {
    members.get(payload.room)?.delete(c);
    c.rooms.delete(payload.room);
    ack({ ok: true });
  } else {
    ack({ ok: false, error: { code: 'not_found', message: 'unknown event' } });
  }
}

/** A room's sends of the current turn, in arrival order, with whom to ack. */
interface TurnSends {
  messages: PeerMessage[];
  acks: Array<{ c: Client; ackId: string | undefined }>;
}

const turn = new Map<string, TurnSends>();
let flushQueued = false;

/**
 * Collects a send into its room's turn. The turn ends at the microtask
 * checkpoint after the I/O callback that delivered it: `ws` emits every
 * frame of one socket read synchronously, so a turn holds the sends that
 * arrived together, which is exactly what Fiberchat's room fiber drains in
 * one turn (woken by a promise when its first command arrives, it drains the
 * mailbox at that same checkpoint, and its synchronous store lets the whole
 * turn finish there). Flushing on `setImmediate` instead would also gather
 * the other sockets' reads of the same event-loop iteration: larger batches
 * than Fiberchat ever forms, a ceiling for a different batching policy.
 */
function queueSend(c: Client, ackId: string | undefined, m: PeerMessage): void {
  let t = turn.get(m.room);
  if (!t) turn.set(m.room, (t = { messages: [], acks: [] }));
  t.messages.push(m);
  t.acks.push({ c, ackId });
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flushTurn);
  }
}

/**
 * Ends the turn: per room, every sender's ack first, then one frame with the
 * whole batch (protocol 1.4: a sender sees its ack before the `messages`
 * event carrying its message). A sender's TCP socket is corked while its
 * acks are written, so several acks leave in one system call.
 */
function flushTurn(): void {
  flushQueued = false;
  const corked = new Set<Socket>();
  for (const [room, t] of turn) {
    t.messages.forEach((m, i) => {
      const { c, ackId } = t.acks[i] as TurnSends['acks'][number];
      if (ackId === undefined || c.ws.readyState !== WebSocket.OPEN) return;
      if (!corked.has(c.tcp)) {
        c.tcp.cork();
        corked.add(c.tcp);
      }
      c.ws.send(`43${ackId}${JSON.stringify([{ ok: true, seq: m.seq, id: m.id, ts: m.ts }])}`);
    });
    broadcast(room, `42["messages",${JSON.stringify({ room, messages: t.messages })}]`);
  }
  turn.clear();
  for (const tcp of corked) tcp.uncork();
}

function broadcast(room: string, packet: string): void {
  const set = members.get(room);
  if (!set || set.size === 0) return;
  const data = Buffer.from(packet);
  if (NAIVE) {
    for (const c of set) c.ws.send(data, { binary: false });
    return;
  }
  // Framed once; the same bytes go to every socket. Safe because nothing is
  // compressed, so ws never holds a frame of its own back in a queue.
  const frame = Buffer.concat(Sender.frame(data, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
  for (const c of set) if (c.ws.readyState === WebSocket.OPEN) c.tcp.write(frame);
}

// One timer pings everyone every interval; a client that did not answer the
// previous ping within the interval (= pingTimeout here) is dropped.
const pinger = setInterval(() => {
  for (const c of clients) {
    if (!c.ponged) {
      c.ws.terminate();
      continue;
    }
    c.ponged = false;
    c.ws.send('2');
  }
}, Math.max(PING_INTERVAL_MS, PING_TIMEOUT_MS));
pinger.unref();

listenAndReport(http);
const stop = () => {
  for (const c of clients) c.ws.terminate();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
