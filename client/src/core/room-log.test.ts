import { describe, expect, it } from 'vitest';
import type { JoinOk, Message } from '../../../shared/protocol.ts';
import { applyHistory, applyJoin, applyLive, contiguousEnd, emptyRoom, hasOlder, mergeMessages, type RoomState } from './room-log.ts';
import { msg } from './testing-fakes.ts';

const seqs = (list: readonly Message[]) => list.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

function joined(messages: Message[], over: Partial<RoomState> = {}): RoomState {
  const last = messages[messages.length - 1]?.seq ?? 0;
  return { ...emptyRoom('lobby'), epoch: 'e1', messages, lastSeq: last, status: 'joined', loaded: true, ...over };
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

describe('contiguousEnd', () => {
  it.each<[number[], number, number]>([
    [[1, 2, 3], 0, 3],
    [[1, 2, 4], 0, 2],
    [[4, 5], 3, 5],
    [[5, 6], 3, 3],
    [[1, 2], 2, 2],
  ])('%j from %i ends at %i', (list, from, end) => {
    expect(contiguousEnd(list.map((s) => msg(s)), from)).toBe(end);
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
    const racing = { ...emptyRoom('lobby'), messages: [msg(61)] };
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
