import { describe, expect, it } from 'vitest';
import { displayTag } from '../../../shared/protocol.ts';
import { newEntry } from './outbox.ts';
import { emptyRoom, type RoomState } from './room-log.ts';
import { msg } from './testing-fakes.ts';
import { GROUP_WINDOW_MS, buildItems, firstItemIndex } from './view-items.ts';

const me = { userId: 'u-alice', name: 'alice' };
const mine = (seq: number, clientId: string, ts?: number) =>
  msg(seq, { author: 'alice', authorId: 'u-alice', clientId, ...(ts === undefined ? {} : { ts }) });
const roomWith = (messages: ReturnType<typeof msg>[]): RoomState => ({ ...emptyRoom('lobby'), messages, loaded: true });

describe('buildItems', () => {
  it('marks own messages sent and others neutral', () => {
    const items = buildItems(roomWith([msg(1), mine(2, 'cid-aaaa1')]), [], me);
    expect(items.map((i) => [i.seq, i.own, i.delivery])).toEqual([
      [1, false, null],
      [2, true, 'sent'],
    ]);
  });

  it('appends unsent entries of this room only, without a seq', () => {
    const outbox = [newEntry('cid-aaaa1', 'lobby', 'hi', 5), newEntry('cid-bbbb2', 'dev', 'elsewhere', 6)];
    const items = buildItems(roomWith([msg(1)]), outbox, me);
    expect(items.map((i) => [i.seq, i.clientId, i.delivery])).toEqual([
      [1, null, null],
      [null, 'cid-aaaa1', 'sending'],
    ]);
  });

  it('never shows a message twice when its entry and its log copy coexist', () => {
    const outbox = [newEntry('cid-aaaa1', 'lobby', 'hi', 5)];
    const items = buildItems(roomWith([mine(1, 'cid-aaaa1')]), outbox, me);
    expect(items).toHaveLength(1);
  });

  it('keeps the row key across sending → sent', () => {
    const pending = buildItems(roomWith([]), [newEntry('cid-aaaa1', 'lobby', 'hi', 5)], me);
    const sent = buildItems(roomWith([mine(1, 'cid-aaaa1')]), [], me);
    expect(sent[0]?.key).toBe(pending[0]?.key);
  });

  it.each<{ name: string; messages: ReturnType<typeof msg>[]; starts: boolean[] }>([
    { name: 'same author in a row groups', messages: [msg(1), msg(2)], starts: [true, false] },
    { name: 'a new author starts a group', messages: [msg(1), mine(2, 'cid-aaaa1')], starts: [true, true] },
    {
      name: 'a long pause starts a group',
      messages: [msg(1, { ts: 0 }), msg(2, { ts: GROUP_WINDOW_MS + 1 })],
      starts: [true, true],
    },
  ])('$name', ({ messages, starts }) => {
    expect(buildItems(roomWith(messages), [], me).map((i) => i.groupStart)).toEqual(starts);
  });
});

describe('buildItems: names that cannot deceive', () => {
  const bob = (seq: number, authorId = 'u-bob', author = 'bob') => msg(seq, { authorId, author });
  const tagsOf = (room: RoomState, outbox = [] as ReturnType<typeof newEntry>[]) =>
    buildItems(room, outbox, me).map((i) => [i.author, i.tag, i.own]);

  it('a name only one user has carries no tag', () => {
    expect(tagsOf(roomWith([bob(1), mine(2, 'cid-aaaa1')]))).toEqual([
      ['bob', null, false],
      ['alice', null, true],
    ]);
  });

  it('two authors of one name in the loaded messages are both tagged', () => {
    expect(tagsOf(roomWith([bob(1), bob(2, 'u-bob-2')]))).toEqual([
      ['bob', displayTag('u-bob'), false],
      ['bob', displayTag('u-bob-2'), false],
    ]);
  });

  it('an author whose name a present member shares is tagged, though that member wrote nothing', () => {
    const room = { ...roomWith([bob(1)]), members: [{ userId: 'u-bob-2', name: 'Bob' }] };
    expect(tagsOf(room)).toEqual([['bob', displayTag('u-bob'), false]]);
  });

  it('someone else using my name is tagged, and so am I, and "own" goes by userId only', () => {
    const room = roomWith([msg(1, { authorId: 'u-alice-2', author: 'alice' }), mine(2, 'cid-aaaa1')]);
    expect(tagsOf(room, [newEntry('cid-bbbb2', 'lobby', 'unsent', 9)])).toEqual([
      ['alice', displayTag('u-alice-2'), false],
      ['alice', displayTag('u-alice'), true],
      ['alice', displayTag('u-alice'), true],
    ]);
  });

  it('my own unsent message is tagged when a present member has my name', () => {
    const room = { ...roomWith([]), members: [{ userId: 'u-alice-2', name: 'alice' }] };
    expect(tagsOf(room, [newEntry('cid-aaaa1', 'lobby', 'hi', 5)])).toEqual([['alice', displayTag('u-alice'), true]]);
  });
});

describe('firstItemIndex', () => {
  it.each<[number[], number, number]>([
    [[], 0, 0],
    [[], 7, 7],
    [[1, 2], 2, 0],
    [[451, 452], 500, 450],
  ])('messages %j with lastSeq %i start at index %i', (seqs, lastSeq, index) => {
    expect(firstItemIndex({ ...roomWith(seqs.map((s) => msg(s))), lastSeq })).toBe(index);
  });

  it('drops by exactly the number of rows prepended', () => {
    const before = firstItemIndex(roomWith([msg(101), msg(102)]));
    const after = firstItemIndex(roomWith([msg(1), ...Array.from({ length: 101 }, (_, i) => msg(2 + i))]));
    expect(before - after).toBe(100);
  });
});
