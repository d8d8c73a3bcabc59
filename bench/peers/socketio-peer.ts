/**
 * Peer 1: the chat a user would write from the socket.io docs. `join` puts
 * the socket in a room, `send` acks and broadcasts with `io.to(room).emit`,
 * one packet per message; no auth (any CONNECT is accepted), no persistence.
 * Same wire contract v1 as Fiberchat, same settings (no compression, the same
 * ping cadence and packet cap), so the same generator drives both.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { MAX_PAYLOAD, PING_INTERVAL_MS, PING_TIMEOUT_MS, Rooms, isJoin, isSend, newAuthorId, listenAndReport, statsHandler } from './common.ts';

const stats = statsHandler();
const http = createServer((req, res) => {
  if (!stats(req, res)) res.writeHead(404).end();
});
const io = new Server(http, {
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: MAX_PAYLOAD,
  pingInterval: PING_INTERVAL_MS,
  pingTimeout: PING_TIMEOUT_MS,
  serveClient: false,
});
const rooms = new Rooms();

type AckFn = (res: unknown) => void;

io.on('connection', (socket) => {
  const authorId = newAuthorId();
  socket.on('join', (p: unknown, ack?: AckFn) => {
    if (!isJoin(p)) return ack?.({ ok: false, error: { code: 'bad_request', message: 'bad join' } });
    void socket.join(p.room);
    ack?.({ ok: true, room: p.room, epoch: 'memory', lastSeq: rooms.lastSeq(p.room), messages: [], members: [], recovered: true });
  });
  socket.on('send', (p: unknown, ack?: AckFn) => {
    if (!isSend(p)) return ack?.({ ok: false, error: { code: 'bad_request', message: 'bad send' } });
    const m = rooms.message(p.room, p.text, p.clientId, authorId);
    ack?.({ ok: true, seq: m.seq, id: m.id, ts: m.ts });
    io.to(p.room).emit('messages', { room: p.room, messages: [m] });
  });
  socket.on('leave', (p: unknown, ack?: AckFn) => {
    if (isJoin(p)) void socket.leave(p.room);
    ack?.({ ok: true });
  });
});

listenAndReport(http);
const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
