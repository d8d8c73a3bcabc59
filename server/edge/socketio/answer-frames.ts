import type { Message } from '../../../shared/protocol.ts';
import { PACKET, textFrameOf } from './frames.ts';
import { ackIdOf, directWebSocket } from './engine-internals.ts';

/**
 * Answers that carry messages (a join's latest page or replay, a history
 * page), written to a WebSocket as one frame built from parts.
 *
 * Through socket.io, such an answer is stringified whole (50 messages: about
 * 16 KB), walked for binary, prefixed (a string of that size again once `ws`
 * measures it), and copied into a Buffer: in a profile of 1,000 joins in a
 * room of 100,000 messages, socket.io's encoding and `ws`'s measuring made
 * half of the 65 KB each join allocated on the heap. Here each message's
 * JSON is made once for as long as the message object lives (the tail cache
 * shares one frozen object per entry between every answer), and the frame
 * is written from the parts into one Buffer, without a concatenated string.
 *
 * An answer goes this way only when the connection is open on a WebSocket
 * with nothing queued in engine.io (as for a direct broadcast: what engine.io
 * handed over before is already in the TCP socket's buffer, so the order of
 * the connection is kept) and socket.io gave the request an ack id; anything
 * else goes through socket.io's ack.
 */

/** A message's JSON, made once per frozen message object (a tail cache entry; nothing can change it). */
const encoded = new WeakMap<Message, string>();

export function messageJson(m: Message): string {
  if (!Object.isFrozen(m)) return JSON.stringify(m);
  let json = encoded.get(m);
  if (json === undefined) {
    json = JSON.stringify(m);
    encoded.set(m, json);
  }
  return json;
}

/**
 * socket.io's ACK packet for `res` in the main namespace (`3<id>[<res>]`) as
 * `head`, the JSON of each message, and `tail`, in that order; `res` has a
 * non-empty `messages` array. The fields are those `JSON.stringify` gives,
 * `messages` last.
 */
export function ackPacketParts(id: number, res: { messages: readonly Message[] }): { head: string; items: string[]; tail: string } {
  const { messages, ...rest } = res;
  const others = JSON.stringify(rest);
  const items = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) items[i] = messageJson(messages[i] as Message);
  return { head: `${PACKET.ack}${id}[${others.slice(0, -1)}${others.length > 2 ? ',' : ''}"messages":[`, items, tail: ']}]' };
}

/**
 * One final, unmasked WebSocket text frame carrying `head`, then `items`
 * separated by commas, then `tail` (RFC 6455 §5.2), the same bytes as
 * `wsTextFrame` of the joined text, written part by part.
 */
export function wsTextFrameOfParts(head: string, items: readonly string[], tail: string): Buffer {
  let n = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, items.length - 1);
  for (const s of items) n += Buffer.byteLength(s);
  const { frame, at: start } = textFrameOf(n);
  let at = start + frame.write(head, start, 'utf8');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) frame[at++] = 0x2c; // ','
    at += frame.write(items[i] as string, at, 'utf8');
  }
  frame.write(tail, at, 'utf8');
  return frame;
}

/**
 * Writes `res` as the answer to `ack`'s request straight to the connection's
 * WebSocket when it carries messages and the connection allows it (see
 * above). False when nothing was written: answer through `ack` then.
 */
export function writeAnswerDirect(conn: unknown, ack: unknown, res: object): boolean {
  const messages = (res as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  const id = ackIdOf(ack);
  if (id === undefined) return false;
  const ws = directWebSocket(conn);
  if (!ws) return false;
  const { head, items, tail } = ackPacketParts(id, res as { messages: readonly Message[] });
  ws._socket.write(wsTextFrameOfParts(`${PACKET.engineMessage}${head}`, items, tail));
  return true;
}
