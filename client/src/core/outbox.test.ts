import { COMMANDS } from '../../../shared/protocol.ts';
import { describe, expect, it } from 'vitest';
import {
  MAX_SEND_ATTEMPTS,
  ackedMessage,
  newEntry,
  nextToSend,
  parseOutbox,
  recordFailure,
  removeEntry,
  resetWaits,
  retryEntry,
  serializeOutbox,
  settleFromLog,
  type OutboxEntry,
} from './outbox.ts';
import { msg } from './testing-fakes.ts';
import { errorText } from './error-text.ts';

const entry = (id: string, over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  ...newEntry(`client-${id}`, 'lobby', `text ${id}`, 1000),
  ...over,
});

describe('nextToSend', () => {
  it.each<{ name: string; outbox: OutboxEntry[]; expected: string | null }>([
    { name: 'empty outbox sends nothing', outbox: [], expected: null },
    { name: 'oldest first', outbox: [entry('a'), entry('b')], expected: 'client-a' },
    { name: 'failed entries are skipped', outbox: [entry('a', { state: 'failed' }), entry('b')], expected: 'client-b' },
    { name: 'a waiting head holds back the rest, keeping order', outbox: [entry('a', { notBefore: 5000 }), entry('b')], expected: 'wait' },
    { name: 'a due head goes', outbox: [entry('a', { notBefore: 2000 })], expected: 'client-a' },
    { name: 'only failed entries: nothing to send', outbox: [entry('a', { state: 'failed' })], expected: null },
  ])('$name', ({ outbox, expected }) => {
    const next = nextToSend(outbox, 2000);
    expect(typeof next === 'object' && next !== null ? next.clientId : next).toBe(expected);
  });
});

describe('settleFromLog', () => {
  const outbox = [entry('a'), entry('b')];

  it.each<{ name: string; messages: ReturnType<typeof msg>[]; userId: string | null; left: string[] }>([
    { name: 'our broadcast copy settles its entry', messages: [msg(1, { clientId: 'client-a', authorId: 'me' })], userId: 'me', left: ['client-b'] },
    { name: "someone else's message with the same clientId does not", messages: [msg(1, { clientId: 'client-a', authorId: 'other' })], userId: 'me', left: ['client-a', 'client-b'] },
    { name: 'messages without clientId change nothing', messages: [msg(1)], userId: 'me', left: ['client-a', 'client-b'] },
    { name: 'several settle at once', messages: [msg(1, { clientId: 'client-a', authorId: 'me' }), msg(2, { clientId: 'client-b', authorId: 'me' })], userId: 'me', left: [] },
  ])('$name', ({ messages, userId, left }) => {
    expect(settleFromLog(outbox, messages, userId).map((e) => e.clientId)).toEqual(left);
  });

  it('returns the same array when nothing settles', () => {
    expect(settleFromLog(outbox, [msg(1)], 'me')).toBe(outbox);
  });
});

describe('recordFailure', () => {
  it('a transient failure backs off and keeps sending', () => {
    const [e] = recordFailure([entry('a')], 'client-a', { code: 'unavailable', message: 'busy' }, 1000, 500);
    expect(e).toMatchObject({ state: 'sending', attempts: 1, notBefore: 1500, error: errorText({ code: 'unavailable', message: 'busy' }) });
  });

  it("honours the server's retryAfterMs", () => {
    const [e] = recordFailure([entry('a')], 'client-a', { code: 'rate_limited', message: 'slow down', retryAfterMs: 3000 }, 1000, 500);
    expect(e?.notBefore).toBe(4000);
  });

  it('a permanent error fails at once', () => {
    const [e] = recordFailure([entry('a')], 'client-a', { code: 'too_large', message: 'too long' }, 1000, 500);
    expect(e?.state).toBe('failed');
  });

  it(`fails after ${MAX_SEND_ATTEMPTS} transient failures`, () => {
    let box: readonly OutboxEntry[] = [entry('a')];
    for (let i = 0; i < MAX_SEND_ATTEMPTS; i++) box = recordFailure(box, 'client-a', { code: 'unavailable', message: 'x' }, 0, 0);
    expect(box[0]?.state).toBe('failed');
  });

  it('retrying a failed entry keeps its clientId and starts over', () => {
    const failed = [entry('a', { state: 'failed', attempts: 4, error: 'x' })];
    expect(retryEntry(failed, 'client-a')[0]).toMatchObject({ clientId: 'client-a', state: 'sending', attempts: 0, error: null });
  });
});

describe('outbox helpers', () => {
  it('removeEntry drops one entry', () => {
    expect(removeEntry([entry('a'), entry('b')], 'client-a').map((e) => e.clientId)).toEqual(['client-b']);
  });

  it('resetWaits clears back-off deadlines', () => {
    expect(resetWaits([entry('a', { notBefore: 99 })])[0]?.notBefore).toBe(0);
  });

  it('round-trips through storage', () => {
    const box = [entry('a'), entry('b', { state: 'failed', attempts: 4, error: 'too long' })];
    expect(parseOutbox(serializeOutbox(box))).toEqual(box);
  });

  it('keeps after a reload every send the server would take, and drops what it would refuse', () => {
    // The send's rules come from the command table: a copy of them here once drifted (replyTo 0, mention lengths).
    const mentions = Array.from({ length: 20 }, (_, i) => `u-${'x'.repeat(60)}${i}`.slice(0, 64));
    const edge = [entry('a', { replyTo: 0, mentions }), entry('b', { replyTo: Number.MAX_SAFE_INTEGER })];
    for (const e of edge) expect(COMMANDS.send.request.safeParse({ room: e.room, text: e.text, clientId: e.clientId, replyTo: e.replyTo, mentions: e.mentions }).success).toBe(true);
    expect(parseOutbox(serializeOutbox(edge))).toEqual(edge);
    const refused = [entry('c', { mentions: [...mentions, 'u-one-more'] }), entry('d', { mentions: [''] }), entry('e', { replyTo: -1 })];
    for (const e of refused) expect(COMMANDS.send.request.safeParse({ room: e.room, text: e.text, clientId: e.clientId, replyTo: e.replyTo, mentions: e.mentions }).success).toBe(false);
    expect(parseOutbox(serializeOutbox(refused))).toEqual([]);
  });

  it.each([null, 'not json', '{"a":1}', '[{"clientId":"bad id!"}]'])('survives corrupt storage %j', (raw) => {
    expect(parseOutbox(raw)).toEqual([]);
  });

  it('ackedMessage builds the message the ack stands for', () => {
    const m = ackedMessage(entry('a'), { seq: 7, id: 'id7', ts: 5 }, { name: 'alice', userId: 'u1' });
    expect(m).toEqual({ room: 'lobby', seq: 7, id: 'id7', ts: 5, clientId: 'client-a', author: 'alice', authorId: 'u1', text: 'text a' });
  });
});
