import type { Frame } from '../../rooms/frame.ts';

/**
 * socket.io's and engine.io's packet prefixes, and the WebSocket framing the
 * direct writers use: the one place these wire details are spelled out.
 * Checked against the versions pinned in package.json; the tests in this
 * folder compare every byte with what socket.io itself writes.
 */
export const PACKET = {
  /** engine.io: a message packet (what carries every socket.io packet). */
  engineMessage: '4',
  /** socket.io-parser: an event in the main namespace, without an ack id. */
  event: '2',
  /** socket.io-parser: an ack in the main namespace, its id following. */
  ack: '3',
} as const;

/**
 * A frame as socket.io's adapter would encode a broadcast of it: packet type
 * 2, then the JSON array `[event, payload]` (no event carries binary).
 * What engine.io queues for a long-polling or upgrading connection.
 */
export const socketIoPacket = (frame: Frame): string => `${PACKET.event}${JSON.stringify([frame.event, frame.payload])}`;

/**
 * The same packet as one WebSocket frame, engine.io's message prefix
 * included: the bytes written straight to a WebSocket's TCP socket.
 */
export const webSocketFrame = (frame: Frame): Buffer => wsTextFrame(`${PACKET.engineMessage}${frame.encoded(socketIoPacket)}`);

/**
 * One final, unmasked WebSocket text frame carrying `text` (RFC 6455 §5.2):
 * the bytes `ws` sends for it with compression off, as one buffer.
 */
export function wsTextFrame(text: string): Buffer {
  const { frame, at } = textFrameOf(Buffer.byteLength(text));
  frame.write(text, at, 'utf8');
  return frame;
}

/**
 * A buffer for a final, unmasked WebSocket text frame of `n` payload bytes,
 * its header written; `at` is where the payload goes.
 */
export function textFrameOf(n: number): { frame: Buffer; at: number } {
  const head = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) {
    frame[1] = n;
  } else if (n < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  return { frame, at: head };
}
