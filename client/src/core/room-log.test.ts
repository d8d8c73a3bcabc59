import { describe, expect, it } from 'vitest';
import type { JoinOk, Message } from '../../../shared/protocol.ts';
import {
  advance,
  applyAround,
  applyHistory,
  applyJoin,
  applyLive,
  applyNewer,
  backToLive,
  emptyRoom,
  hasOlder,
  mergeMessages,
  newerAfter,
  olderBefore,
  type RoomState,
} from './room-log.ts';
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

describe('a stretch far back (a search result in context)', () => {
  const edit = (seq: number, target: number, text: string) => msg(seq, { kind: 'edit', target, text });
  // The live copy: the latest 50 of 1000 entries.
  const live = () => joined(range(951, 1000));

  it('opens the page around a seq with the live tail held aside, and the live stream keeps the tail current', () => {
    const room = applyAround(live(), { messages: range(95, 105) }, 100);
    expect(seqs(room.messages)).toEqual(seqs(range(95, 105)));
    expect(room).toMatchObject({ floor: 95, prepended: 0, olderState: 'idle', generation: 1, detached: { tailFloor: 951, ceiling: 105 } });
    expect(seqs(room.detached?.tail ?? [])).toEqual(seqs(range(951, 1000)));
    expect(olderBefore(room)).toBe(95);
    expect(newerAfter(room)).toBe(105);

    // A new message goes to the tail, not below the stretch; an edit of a message in the stretch shows in it.
    const step = applyLive(room, [msg(1001), edit(1002, 100, 'hundred, edited'), edit(1003, 960, 'tail, edited')]);
    expect(step.gap).toBe(false);
    expect(step.room.lastSeq).toBe(1003);
    expect(seqs(step.room.messages)).toEqual(seqs(range(95, 105)));
    expect(step.room.messages.find((m) => m.seq === 100)).toMatchObject({ text: 'hundred, edited' });
    expect(step.room.detached?.tail.at(-1)?.seq).toBe(1001);
    expect(step.room.detached?.tail.find((m) => m.seq === 960)).toMatchObject({ text: 'tail, edited' });
    // A gap is still a gap.
    expect(applyLive(step.room, [msg(1005)]).gap).toBe(true);
  });

  it('scrolling down appends pages until they reach the tail, which then joins on: no gap, no duplicate', () => {
    let room = applyAround(live(), { messages: range(900, 910) }, 905);
    room = applyNewer(room, { messages: range(911, 940) });
    expect(room.detached).toMatchObject({ ceiling: 940, newerState: 'idle' });
    room = applyLive(room, [msg(1001)]).room;
    // This page overlaps the tail's floor: the two join, each seq once.
    room = applyNewer(room, { messages: range(941, 960) });
    expect(room.detached).toBeNull();
    expect(seqs(room.messages)).toEqual(seqs(range(900, 1001)));
    expect(room.floor).toBe(900);
    expect(newerAfter(room)).toBeNull();
    // Live messages append again.
    expect(seqs(applyLive(room, [msg(1002)]).room.messages).at(-1)).toBe(1002);
  });

  it('an empty page after the ceiling (nothing follows) joins the tail too', () => {
    const room = applyNewer(applyAround(live(), { messages: range(10, 20) }, 15), { messages: [] });
    expect(room.detached).toBeNull();
    expect(seqs(room.messages)).toEqual([...seqs(range(10, 20)), ...seqs(range(951, 1000))]);
  });

  it('a page around a seq that reaches the live copy is merged into it, not held apart', () => {
    const room = applyAround(live(), { messages: range(930, 955) }, 940);
    expect(room.detached).toBeNull();
    expect(seqs(room.messages)).toEqual(seqs(range(930, 1000)));
    expect(room.floor).toBe(930);
  });

  it('jumping back to the present, or a re-join that replaces the copy, shows the live tail as a new list', () => {
    const room = applyLive(applyAround(live(), { messages: range(95, 105) }, 100), [msg(1001)]).room;
    const back = backToLive(room);
    expect(back).toMatchObject({ floor: 951, detached: null, generation: room.generation + 1 });
    expect(seqs(back.messages)).toEqual(seqs(range(951, 1001)));
    expect(backToLive(back)).toBe(back);
    const replaced = applyJoin(room, joinOk({ lastSeq: 1003, recovered: false, messages: range(954, 1003) }));
    expect(replaced.detached).toBeNull();
    expect(seqs(replaced.messages)).toEqual(seqs(range(954, 1003)));
    // A recovered re-join feeds the held tail and leaves the stretch on show.
    const resumed = applyJoin(room, joinOk({ lastSeq: 1002, recovered: true, messages: [msg(1002)] }));
    expect(seqs(resumed.messages)).toEqual(seqs(range(95, 105)));
    expect(resumed.detached?.tail.at(-1)?.seq).toBe(1002);
    expect(resumed.lastSeq).toBe(1002);
  });

  it('a page read after changes the client has not seen yet does not apply them twice', () => {
    // The server read the stretch after the edit at 1001 (its highest entry); the edit's push comes later.
    const room = applyAround(live(), { messages: [msg(99), msg(100, { text: 'v2', editedAt: 5 }), edit(1001, 100, 'v2')] }, 100);
    // Its copies are current as of 1001, so the push of that edit has nothing left to do.
    expect(room.messages.find((m) => m.seq === 100)).toMatchObject({ text: 'v2', asOf: 1001 });
    const pushed = applyLive(room, [edit(1001, 100, 'v2')]).room;
    expect(pushed.messages.find((m) => m.seq === 100)).toBe(room.messages.find((m) => m.seq === 100));
  });
});

