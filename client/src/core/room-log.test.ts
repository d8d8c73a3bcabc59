import { describe, expect, it } from 'vitest';
import type { JoinOk, Message } from '../../../shared/protocol.ts';
import { advance, applyHistory, applyJoin, applyLive, emptyRoom, hasOlder, mergeMessages, olderBefore, type RoomState } from './room-log.ts';
import { msg } from './testing-fakes.ts';

const seqs = (list: readonly Message[]) => list.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

function joined(messages: Message[], over: Partial<RoomState> = {}): RoomState {
  const last = messages[messages.length - 1]?.seq ?? 0;
  return { ...emptyRoom('lobby'), epoch: 'e1', messages, lastSeq: last, floor: messages[0]?.seq ?? 1, status: 'joined', loaded: true, ...over };
}

function joinOk(over: Partial<JoinOk>): JoinOk {
  return { room: 'lobby', epoch: 'e1', lastSeq: 0, messages: [], members: ['alice'], recovered: true, ...over };
}

describe('mergeMessages', () => {
  it.each<{ name: string; existing: number[]; incoming: number[]; expected: number[] }>([
    { name: 'appends after the end', existing: [1, 2], incoming: [3, 4], expected: [1, 2, 3, 4] },
    { name: 'drops exact duplicates', existing: [1, 2, 3], incoming: [2, 3], expected: [1, 2, 3] },
    { name: 'prepends an older page', existing: [5, 6], incoming: [3, 4], expected: [3, 4, 5, 6] },
    { name: 'interleaves into gaps', existing: [1, 4], incoming: [2, 3, 5], expected: [1, 2, 3, 4, 5] },
    { name: 'sorts an unordered batch', existing: [1], incoming: [4, 2, 3], expected: [1, 2, 3, 4] },
    { name: 'dedupes inside the batch', existing: [], incoming: [2, 2, 3], expected: [2, 3] },
    { name: 'merges into an empty list', existing: [], incoming: [7], expected: [7] },
  ])('$name', ({ existing, incoming, expected }) => {
    expect(seqs(mergeMessages(existing.map((s) => msg(s)), incoming.map((s) => msg(s))))).toEqual(expected);
  });

  it('keeps the copy already held for a seq', () => {
    const mine = msg(2, { text: 'local' });
    const merged = mergeMessages([msg(1), mine], [msg(2, { text: 'broadcast' })]);
    expect(merged[1]).toBe(mine);
  });

  it('returns the same array when nothing is new, so views do not re-render', () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2)])).toBe(existing);
    expect(mergeMessages(existing, [])).toBe(existing);
  });
});

describe('advance', () => {
  it.each<[number, number[], number[], number, number[]]>([
    [0, [], [1, 2, 3], 3, []],
    [0, [], [1, 2, 4], 2, [4]],
    [3, [], [4, 5], 5, []],
    [3, [], [5, 6], 3, [5, 6]],
    [2, [], [1, 2], 2, []],
    [2, [4, 5], [3], 5, []],
    [2, [5], [4], 2, [4, 5]],
  ])('from %i with %j ahead, seeing %j ends at %i with %j ahead', (from, ahead, seqs, end, left) => {
    expect(advance(from, ahead, seqs)).toEqual({ lastSeq: end, ahead: left });
  });

  it('returns the same list when nothing new was seen', () => {
    const ahead = [7];
    expect(advance(5, ahead, [3, 7]).ahead).toBe(ahead);
  });
});

describe('applyJoin', () => {
  it('first join takes the latest page and its lastSeq', () => {
    const room = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 60, messages: range(11, 60), recovered: false }));
    expect(room).toMatchObject({ epoch: 'e1', lastSeq: 60, status: 'joined', loaded: true, members: [{ userId: 'name:alice', name: 'alice' }] });
    expect(seqs(room.messages)).toEqual(range(11, 60).map((m) => m.seq));
    expect(room.generation).toBe(0);
  });

  it('a first join answered recovered (protocol 1.5) also starts the run at the page, so live messages follow without a gap', () => {
    const room = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 60, messages: range(11, 60), recovered: true }));
    expect(room.lastSeq).toBe(60);
    expect(applyLive(room, range(61, 61)).gap).toBe(false);
  });

  it('an empty room is loaded with lastSeq 0', () => {
    const room = applyJoin(emptyRoom('lobby'), joinOk({ recovered: false }));
    expect(room).toMatchObject({ loaded: true, lastSeq: 0, messages: [] });
  });

  it('a recovered re-join merges what was missed', () => {
    const room = applyJoin(joined(range(1, 3)), joinOk({ lastSeq: 5, messages: range(4, 5) }));
    expect(seqs(room.messages)).toEqual([1, 2, 3, 4, 5]);
    expect(room.lastSeq).toBe(5);
    expect(room.generation).toBe(0);
  });

  it('an unrecovered re-join replaces the list and bumps the generation', () => {
    const room = applyJoin(joined(range(1, 3)), joinOk({ epoch: 'e2', lastSeq: 2000, messages: range(1951, 2000), recovered: false }));
    expect(seqs(room.messages)[0]).toBe(1951);
    expect(room).toMatchObject({ epoch: 'e2', lastSeq: 2000, generation: 1, olderState: 'idle' });
  });

  it('keeps pushes that arrived ahead of an unrecovered answer', () => {
    const racing = applyLive(emptyRoom('lobby'), [msg(61)]).room;
    const room = applyJoin(racing, joinOk({ lastSeq: 60, messages: range(11, 60), recovered: false }));
    expect(seqs(room.messages).at(-1)).toBe(61);
    expect(room.lastSeq).toBe(61);
  });

  it('a changed epoch replaces even if the server claims recovery', () => {
    const room = applyJoin(joined(range(1, 3)), joinOk({ epoch: 'e2', lastSeq: 1, messages: range(1, 1) }));
    expect(seqs(room.messages)).toEqual([1]);
    expect(room.lastSeq).toBe(1);
  });
});

describe('applyLive', () => {
  it('appends pushed messages and advances lastSeq', () => {
    const { room, gap } = applyLive(joined(range(1, 2)), [msg(3)]);
    expect(room.lastSeq).toBe(3);
    expect(gap).toBe(false);
  });

  it('ignores a duplicate push without changing the room', () => {
    const before = joined(range(1, 2));
    const { room, gap } = applyLive(before, [msg(2)]);
    expect(room).toBe(before);
    expect(gap).toBe(false);
  });

  it('reports a gap and keeps lastSeq before it', () => {
    const { room, gap } = applyLive(joined(range(1, 2)), [msg(5)]);
    expect(room.lastSeq).toBe(2);
    expect(gap).toBe(true);
  });

  it('a filled gap advances lastSeq past it', () => {
    const withGap = applyLive(joined(range(1, 2)), [msg(4)]).room;
    const { room, gap } = applyLive(withGap, [msg(3)]);
    expect(room.lastSeq).toBe(4);
    expect(gap).toBe(false);
  });
});

describe('applyHistory', () => {
  it('prepends an older page', () => {
    const room = applyHistory(joined(range(101, 150)), { messages: range(1, 100) });
    expect(room.messages).toHaveLength(150);
    expect(room.olderState).toBe('done');
    expect(hasOlder(room)).toBe(false);
  });

  it('stays open for more while seq 1 is not reached', () => {
    const room = applyHistory(joined(range(201, 250)), { messages: range(101, 200) });
    expect(room.olderState).toBe('idle');
    expect(hasOlder(room)).toBe(true);
  });

  it('an empty page ends scrollback', () => {
    expect(applyHistory(joined(range(5, 6)), { messages: [] }).olderState).toBe('done');
  });
});

describe('log entries: changes have seqs of their own', () => {
  const edit = (seq: number, target: number, text: string) => msg(seq, { kind: 'edit', target, text });
  const del = (seq: number, target: number) => msg(seq, { kind: 'delete', target, text: '' });
  const like = (seq: number, target: number, by = 'u-bob') => msg(seq, { kind: 'reaction', target, emoji: '👍', on: true, text: '', authorId: by });

  it('a change moves the resume point like a message, and a change past lastSeq + 1 is a gap', () => {
    const room = joined(range(1, 3));
    const step = applyLive(room, [edit(4, 2, 'two, edited')]);
    expect(step.room.lastSeq).toBe(4);
    expect(step.gap).toBe(false);
    expect(step.room.messages[1]).toMatchObject({ text: 'two, edited' });
    const gapped = applyLive(step.room, [del(6, 1)]);
    expect(gapped).toMatchObject({ gap: true, room: { lastSeq: 4, ahead: [6] } });
    // The tombstone shows at once; the resume point waits for seq 5.
    expect(gapped.room.messages[0]).toMatchObject({ deleted: true, text: '' });
    const filled = applyLive(gapped.room, [like(5, 3)]);
    expect(filled).toMatchObject({ gap: false, room: { lastSeq: 6, ahead: [] } });
  });

  it('a first join takes the answer’s lastSeq although its messages have gaps (changes between them)', () => {
    const page = [msg(1), msg(2), edit(3, 1, 'one, edited'), msg(4), del(5, 2), msg(6)];
    const room = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 7, messages: page, recovered: true }));
    expect(room.lastSeq).toBe(7);
    expect(seqs(room.messages)).toEqual([1, 2, 4, 6]);
    expect(applyLive(room, [msg(8)]).gap).toBe(false);
  });

  it('a page shows messages as they are now: its own changes are not applied twice', () => {
    const now = [msg(1, { text: 'v2', editedAt: 9, reactions: [{ emoji: '👍', count: 1, mine: false, users: [{ userId: 'u-bob', name: 'bob' }] }] }), edit(2, 1, 'v1'), like(3, 1), edit(4, 1, 'v2')];
    const room = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 4, messages: now, recovered: false }));
    expect(room.messages).toHaveLength(1);
    expect(room.messages[0]).toMatchObject({ text: 'v2', reactions: [{ count: 1 }] });
  });

  it('a recovered re-join applies the missed changes to held messages, each once', () => {
    const room = joined(range(1, 3));
    const resumed = applyJoin(room, joinOk({ lastSeq: 7, messages: [edit(4, 1, 'edited'), del(5, 2), like(6, 3), like(7, 3, 'u-carol')] }));
    expect(resumed.lastSeq).toBe(7);
    expect(resumed.messages.map((m) => [m.text, m.deleted ?? false, m.reactions?.[0]?.count ?? 0])).toEqual([
      ['edited', false, 0],
      ['', true, 0],
      ['message 3', false, 2],
    ]);
    // The same replay again (a re-join that raced) changes nothing.
    expect(applyJoin(resumed, joinOk({ lastSeq: 7, messages: [edit(4, 1, 'edited'), del(5, 2), like(6, 3), like(7, 3, 'u-carol')] })).messages).toEqual(resumed.messages);
  });

  it('applying the latest page, then live entries that overlap it, shows each message once with each change once', () => {
    const page = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 5, messages: [msg(3, { reactions: [{ emoji: '👍', count: 1, mine: false, users: [{ userId: 'u-bob', name: 'bob' }] }] }), like(4, 3), msg(5)], recovered: false }));
    // The live stream repeats 4 and 5 (sent before the answer was read) and goes on.
    const { room, gap } = applyLive(page, [like(4, 3), msg(5), like(6, 3, 'u-carol'), msg(7)]);
    expect(gap).toBe(false);
    expect(room.lastSeq).toBe(7);
    expect(seqs(room.messages)).toEqual([3, 5, 7]);
    expect(room.messages[0]?.reactions?.[0]?.count).toBe(2);
  });

  it('scrollback asks below the lowest entry held, even when a page held only changes, and counts prepended rows', () => {
    const room = applyJoin(emptyRoom('lobby'), joinOk({ lastSeq: 60, messages: [like(51, 20), ...range(52, 60)], recovered: false }));
    expect(olderBefore(room)).toBe(51);
    const onlyChanges = applyHistory(room, { messages: [like(49, 20), like(50, 20)] });
    expect(olderBefore(onlyChanges)).toBe(49);
    expect(onlyChanges.prepended).toBe(0);
    const more = applyHistory(onlyChanges, { messages: [...range(20, 47), del(48, 30)] });
    expect(olderBefore(more)).toBe(20);
    expect(more.prepended).toBe(28);
    expect(more.messages.find((m) => m.seq === 30)?.deleted).toBeUndefined();
  });

  it('a history page is shown as it is: its changes are already in its messages', () => {
    const room = joined(range(101, 110));
    const older = applyHistory(room, { messages: [msg(99, { text: 'now' }), edit(100, 99, 'before')] });
    expect(older.messages[0]).toMatchObject({ seq: 99, text: 'now' });
  });

  it('a tombstone stays a row', () => {
    const { room } = applyLive(joined(range(1, 2)), [del(3, 1)]);
    expect(seqs(room.messages)).toEqual([1, 2]);
    expect(room.messages[0]).toMatchObject({ deleted: true, text: '' });
    expect(hasOlder(room)).toBe(false);
  });
});
