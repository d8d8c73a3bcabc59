import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/protocol.ts';
import { cid, rawSocketIo, startServer, unlimitedSends, type TestServer } from '../../test/harness.ts';
import { ackPacketParts, messageJson, wsTextFrameOfParts } from './answer-frames.ts';
import { wsTextFrame } from './frames.ts';

const message = (seq: number, text: string): Message =>
  ({ id: `m${seq}`, seq, room: 'r', author: 'alice', authorId: 'u1', text, ts: 1_700_000_000_000 + seq, clientId: `c${seq}` }) satisfies Message;

describe('wsTextFrameOfParts', () => {
  it('is the frame of the joined text, at every length boundary and with multi-byte characters', () => {
    const part = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('x'.repeat(125), 'é'.repeat(70), '😀'));
    fc.assert(
      fc.property(part, fc.array(part, { maxLength: 30 }), part, fc.nat({ max: 70_000 }), (head, items, tail, pad) => {
        const padded = [...items, 'y'.repeat(pad)];
        for (const list of [items, padded, []]) {
          expect(wsTextFrameOfParts(head, list, tail).equals(wsTextFrame(`${head}${list.join(',')}${tail}`))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('messageJson', () => {
  it('is JSON.stringify, made once per frozen message and never cached for one that can change', () => {
    const frozen = Object.freeze(message(1, 'hi'));
    const first = messageJson(frozen);
    expect(first).toBe(JSON.stringify(frozen));
    expect(messageJson(frozen)).toBe(first);
    const open = message(2, 'hi');
    expect(messageJson(open)).toBe(JSON.stringify(open));
    open.text = 'changed';
    expect(messageJson(open)).toBe(JSON.stringify(open));
  });
});

describe('ackPacketParts', () => {
  it('joined, is socket.io’s ACK packet of the same answer', () => {
    const answer = { ok: true, room: 'r', epoch: 'e', lastSeq: 3, messages: [message(1, 'a'), Object.freeze(message(2, 'ü "q"')), message(3, '\n')], members: ['alice'], recovered: true };
    const { head, items, tail } = ackPacketParts(7, answer);
    const text = `${head}${items.join(',')}${tail}`;
    expect(text.startsWith('37[')).toBe(true);
    expect(JSON.parse(text.slice(2))).toEqual([answer]);
    const bare = ackPacketParts(12, { messages: [message(4, 'x')] });
    expect(JSON.parse(`${bare.head}${bare.items.join(',')}${bare.tail}`.slice(3))).toEqual([{ messages: [message(4, 'x')] }]);
  });
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The answer to ack id `id` among raw frames, parsed. */
function answerTo(frames: string[], id: number): Record<string, unknown> | undefined {
  const prefix = `43${id}[`;
  const f = frames.find((x) => x.startsWith(prefix));
  return f === undefined ? undefined : (JSON.parse(f.slice(prefix.length - 1)) as [Record<string, unknown>])[0];
}

describe('answers that carry messages', () => {
  it('are the same on the wire framed directly and through socket.io, each to its own request, before the live messages after it', async () => {
    const answers: Record<string, Array<Record<string, unknown>>> = {};
    for (const path of ['direct', 'engine'] as const) {
      const s = await startServer({ env: { BROADCAST_FRAMES: path, ...unlimitedSends() } });
      servers.push(s);
      // Which answers engine.io made a packet of (a direct answer is not one).
      let throughEngine: string[] = [];
      s.app.socketIo.io.engine.on('connection', (c: { on(ev: 'packetCreate', f: (p: { data?: unknown }) => void): void }) => {
        const mine: string[] = (throughEngine = []); // the last connection's: the raw client's
        c.on('packetCreate', (p) => typeof p.data === 'string' && p.data.startsWith('3') && mine.push(p.data.slice(0, 2)));
      });
      const pub = await s.client('pub', { transports: ['websocket'] });
      expect((await pub.emitWithAck('join', { room: 'r' })).ok).toBe(true);
      for (let i = 0; i < 30; i++) expect((await pub.emitWithAck('send', { room: 'r', text: `m-${i} é "${i}"`, clientId: cid() })).ok).toBe(true);
      const { ws, frames } = await rawSocketIo(s, 'raw');
      // Several requests in flight at once, answered out of order across rooms: each answer carries its own id.
      ws.send('421["join",{"room":"r"}]');
      ws.send('422["history",{"room":"r","before":20,"limit":5}]');
      ws.send('423["join",{"room":"empty"}]');
      ws.send('424["history",{"room":"r","before":3,"limit":50}]');
      await expect.poll(() => [1, 2, 3, 4].every((id) => answerTo(frames, id) !== undefined)).toBe(true);
      // A live message after the join: its frame comes after the join's answer.
      expect((await pub.emitWithAck('send', { room: 'r', text: 'live', clientId: cid() })).ok).toBe(true);
      await expect.poll(() => frames.findIndex((f) => f.startsWith('42["messages"') && f.includes('"live"'))).toBeGreaterThan(-1);
      const live = frames.findIndex((f) => f.startsWith('42["messages"') && f.includes('"live"'));
      expect(frames.findIndex((f) => f.startsWith('431['))).toBeLessThan(live);
      answers[path] = [1, 2, 3, 4].map((id) => answerTo(frames, id) as Record<string, unknown>);
      // Direct: the answers with messages skipped engine.io; the empty room's join went through it, as every answer does with `engine`.
      expect(throughEngine.filter((p) => ['31', '32', '33', '34'].includes(p)).sort()).toEqual(path === 'direct' ? ['33'] : ['31', '32', '33', '34']);
      ws.close();
    }
    const [join, page, empty, oldest] = answers.direct as Array<Record<string, unknown>>;
    expect((join?.messages as Message[]).map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `m-${i} é "${i}"`));
    expect((page?.messages as Message[]).map((m) => m.seq)).toEqual([15, 16, 17, 18, 19]);
    expect(empty?.messages).toEqual([]);
    expect((oldest?.messages as Message[]).map((m) => m.seq)).toEqual([1, 2]);
    // The two servers differ in ids, times and epochs only.
    const shape = (a: Record<string, unknown>) =>
      JSON.parse(JSON.stringify(a, (k, v: unknown) => (['id', 'ts', 'epoch', 'clientId', 'userId', 'authorId', 'lastRead'].includes(k) ? '·' : v))) as unknown;
    expect((answers.direct ?? []).map(shape)).toEqual((answers.engine ?? []).map(shape));
  });

  it('reach long-polling and upgrading clients through socket.io', async () => {
    const s = await startServer({ env: unlimitedSends() });
    servers.push(s);
    const pub = await s.client('pub', { transports: ['websocket'] });
    expect((await pub.emitWithAck('join', { room: 'r' })).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect((await pub.emitWithAck('send', { room: 'r', text: `t${i}`, clientId: cid() })).ok).toBe(true);
    for (const c of [await s.client('lp', { transports: ['polling'] }), await s.client('up')]) {
      const a = await c.emitWithAck('join', { room: 'r' });
      expect(a.ok && a.messages.map((m) => m.text)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    }
  });
});
