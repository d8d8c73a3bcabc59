import { afterEach, describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import type { Ack, SendOk } from '../../../shared/protocol.ts';
import { cid, collect, rawSocketIo, startServer, unlimitedSends, type ChatSocket, type TestServer } from '../../test/harness.ts';
import { wsTextFrame } from './frames.ts';

/** ws's own frame builder (exported by the package, not declared by @types/ws): the reference for `wsTextFrame`. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, o: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] };
};

describe('wsTextFrame', () => {
  it.each([
    ['empty', ''],
    ['one byte', 'x'],
    ['125 bytes, the largest 7-bit length', 'x'.repeat(125)],
    ['126 bytes, the smallest 16-bit length', 'x'.repeat(126)],
    ['multi-byte characters across the 7-bit limit', 'é'.repeat(70)],
    ['65,535 bytes, the largest 16-bit length', 'x'.repeat(65_535)],
    ['65,536 bytes, the smallest 64-bit length', 'x'.repeat(65_536)],
    ['70,000 bytes', 'y'.repeat(70_000)],
  ])('%s: the bytes ws sends', (_name, text) => {
    const expected = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
    expect(wsTextFrame(text).equals(expected)).toBe(true);
  });
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each([['direct'], ['engine']] as const)('broadcast with BROADCAST_FRAMES=%s', (path) => {
  it('reaches WebSocket, long-polling, upgrading and raw subscribers alike, in order, each ack before its broadcast', async () => {
    const s = await startServer({ env: { BROADCAST_FRAMES: path, ...unlimitedSends() } });
    servers.push(s);
    const pub = await s.client('pub', { transports: ['websocket'] });
    const subs = [
      await s.client('ws', { transports: ['websocket'] }),
      await s.client('lp', { transports: ['polling'] }),
      // Starts on long-polling and upgrades while the messages flow.
      await s.client('up'),
    ];
    const seen = subs.map((c) => collect(c, 'messages'));
    for (const c of [pub, ...subs]) expect((await c.emitWithAck('join', { room: 'r' })).ok).toBe(true);
    // A raw WebSocket reader: the frames as they are on the wire.
    const { ws: raw, frames } = await rawSocketIo(s, 'raw');
    raw.send('420["join",{"room":"r"}]');
    await expect.poll(() => frames.some((f) => f.startsWith('430['))).toBe(true);

    // The publisher's own view: each ack before the broadcast with its seq.
    const pubEvents: string[] = [];
    pub.on('messages', (e) => pubEvents.push(...e.messages.map((m) => `m${m.seq}`)));
    const texts = Array.from({ length: 60 }, (_, i) => `m-${i}`);
    await Promise.all(
      texts.map(
        (text) =>
          new Promise<void>((resolve) =>
            pub.emit('send', { room: 'r', text, clientId: cid() }, (a: Ack<SendOk>) => {
              if (a.ok) pubEvents.push(`a${a.seq}`);
              resolve();
            }),
          ),
      ),
    );
    for (const got of seen) await expect.poll(() => got.flatMap((e) => e.messages.map((m) => m.text))).toEqual(texts);
    const expected = seen[0]?.flatMap((e) => e.messages);
    for (const got of seen) expect(got.flatMap((e) => e.messages)).toEqual(expected);
    // What reached the raw reader is socket.io's encoding of the same events.
    const onWire = () => frames.filter((f) => f.startsWith('42["messages"'));
    await expect.poll(() => onWire().flatMap((f) => (JSON.parse(f.slice(2)) as [string, { messages: unknown[] }])[1].messages)).toEqual(expected);
    const acked = pubEvents.filter((e) => e.startsWith('a'));
    expect(acked).toHaveLength(texts.length);
    await expect.poll(() => acked.every((a) => pubEvents.includes(`m${a.slice(1)}`))).toBe(true);
    for (const a of acked) expect(pubEvents.indexOf(a)).toBeLessThan(pubEvents.indexOf(`m${a.slice(1)}`));
    raw.close();
  });

  it('follows the channel as sockets join, leave and go between broadcasts', async () => {
    const s = await startServer({ env: { BROADCAST_FRAMES: path, ...unlimitedSends() } });
    servers.push(s);
    const pub = await s.client('pub', { transports: ['websocket'] });
    const [a, b, c] = [await s.client('a', { transports: ['websocket'] }), await s.client('b', { transports: ['websocket'] }), await s.client('c', { transports: ['websocket'] })];
    const texts = (x: ChatSocket) => {
      const seen = collect(x, 'messages');
      return () => seen.flatMap((e) => e.messages.map((m) => m.text));
    };
    const [gotA, gotB, gotC] = [texts(a), texts(b), texts(c)];
    const send = async (text: string) => expect((await pub.emitWithAck('send', { room: 'r', text, clientId: cid() })).ok).toBe(true);
    for (const x of [pub, a, b]) expect((await x.emitWithAck('join', { room: 'r' })).ok).toBe(true);
    await send('one');
    await expect.poll(gotB).toEqual(['one']);
    expect((await b.emitWithAck('leave', { room: 'r' })).ok).toBe(true);
    expect((await c.emitWithAck('join', { room: 'r' })).ok).toBe(true);
    a.disconnect();
    await send('two');
    await expect.poll(gotC).toEqual(['two']);
    await send('three');
    await expect.poll(gotC).toEqual(['two', 'three']);
    expect(gotA()).toEqual(['one']);
    expect(gotB()).toEqual(['one']);
  });
});
