import { describe, expect, it } from 'vitest';
import { displayTag } from '../../../shared/protocol.ts';
import { newEntry } from './outbox.ts';
import type { Message } from '../../../shared/protocol.ts';
import type { HeldReaction } from './log-entries.ts';
import { applyHistory, applyJoin, emptyRoom, type RoomState } from './room-log.ts';
import { msg } from './testing-fakes.ts';
import { GROUP_WINDOW_MS, buildItems, firstItemIndex, reactionView } from './view-items.ts';

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
  it('drops by exactly the number of messages scrollback prepended, whatever their seqs', () => {
    const joined = applyJoin(emptyRoom('lobby'), { room: 'lobby', epoch: 'e', lastSeq: 120, messages: [msg(101), msg(110), msg(120)], members: [], recovered: false });
    const before = firstItemIndex(joined);
    // Forty messages between seqs 1 and 100, with changes taking the other seqs.
    const page = Array.from({ length: 40 }, (_, i) => msg(1 + i * 2));
    const after = firstItemIndex(applyHistory(joined, { messages: page }));
    expect(before - after).toBe(40);
    expect(after).toBeGreaterThan(0);
  });

  it('starts afresh when the list is replaced', () => {
    const joined = applyJoin(emptyRoom('lobby'), { room: 'lobby', epoch: 'e', lastSeq: 2, messages: [msg(2)], members: [], recovered: false });
    const older = applyHistory(joined, { messages: [msg(1)] });
    const replaced = applyJoin(older, { room: 'lobby', epoch: 'e2', lastSeq: 9, messages: [msg(9)], members: [], recovered: false });
    expect(firstItemIndex(replaced)).toBe(firstItemIndex(joined));
    expect(replaced.generation).toBe(older.generation + 1);
  });
});

describe('buildItems: edits, deletes, reactions and replies', () => {
  const bobs = (seq: number, over: Partial<Message> = {}) => msg(seq, over);
  const alices = (seq: number, over: Partial<Message> = {}) => msg(seq, { author: 'alice', authorId: 'u-alice', ...over });

  it.each<{ name: string; m: Message; owner: boolean; expected: [boolean, boolean, boolean] }>([
    { name: 'my message: edit and delete', m: alices(1), owner: false, expected: [true, true, true] },
    { name: "someone else's: neither", m: bobs(1), owner: false, expected: [false, false, true] },
    { name: "someone else's in a room I own: delete only", m: bobs(1), owner: true, expected: [false, true, true] },
    { name: 'a tombstone: nothing', m: alices(1, { deleted: true, text: '' }), owner: true, expected: [false, false, false] },
  ])('$name', ({ m, owner, expected }) => {
    const [item] = buildItems(roomWith([m]), [], me, { visibility: 'private', ...(owner ? { ownerId: 'u-alice' } : {}) });
    expect([item?.canEdit, item?.canDelete, item?.canRespond]).toEqual(expected);
  });

  it('an unsent message can be neither changed nor answered yet', () => {
    const [item] = buildItems(roomWith([]), [newEntry('cid-aaaa1', 'lobby', 'hi', 5)], me);
    expect([item?.canEdit, item?.canDelete, item?.canRespond]).toEqual([false, false, false]);
  });

  it('shows "edited" only while the message exists', () => {
    const items = buildItems(roomWith([bobs(1, { editedAt: 7 }), bobs(2, { editedAt: 7, deleted: true, text: '' })]), [], me);
    expect(items.map((i) => [i.editedAt, i.deleted])).toEqual([
      [7, false],
      [null, true],
    ]);
  });

  it.each<{ name: string; r: HeldReaction; mine: boolean; label: string }>([
    { name: 'others only', r: { emoji: '👍', count: 2, mine: false, users: [{ userId: 'u-bob', name: 'bob' }, { userId: 'u-carol', name: 'carol' }] }, mine: false, label: '👍 2: bob, carol' },
    { name: 'mine by the list', r: { emoji: '👍', count: 2, mine: false, users: [{ userId: 'u-bob', name: 'bob' }, me] }, mine: true, label: '👍 2: bob, alice; you reacted' },
    { name: "mine by the page's flag though not listed", r: { emoji: '🎉', count: 25, mine: true, users: [{ userId: 'u-bob', name: 'bob' }] }, mine: true, label: '🎉 25: bob and 24 others; you reacted' },
    { name: 'taken back after the page', r: { emoji: '🎉', count: 24, mine: true, users: [{ userId: 'u-bob', name: 'bob' }], touched: ['u-alice'] }, mine: false, label: '🎉 24: bob and 23 others' },
  ])('reaction label: $name', ({ r, mine, label }) => {
    expect(reactionView(r, me)).toMatchObject({ mine, label });
  });

  it("a reply shows its original from the held copy (kept current), else the server's preview, else unknown", () => {
    const room = roomWith([
      bobs(1, { text: 'held original, edited' }),
      alices(2, { replyTo: 1, reply: { seq: 1, author: 'bob', authorId: 'u-bob', text: 'held original' } }),
      alices(3, { replyTo: 1 }),
      alices(5, { replyTo: 4, reply: { seq: 4, author: 'carol', authorId: 'u-carol', text: '', deleted: true } }),
      alices(6, { replyTo: 99 }),
    ]);
    const replies = buildItems(room, [], me).map((i) => i.reply && [i.reply.author, i.reply.text, i.reply.deleted, i.reply.unknown]);
    expect(replies).toEqual([
      null,
      ['bob', 'held original, edited', false, false],
      ['bob', 'held original, edited', false, false],
      ['carol', '', true, false],
      ['', '', false, true],
    ]);
  });

  it('an unsent reply shows its original too', () => {
    const [, item] = buildItems(roomWith([bobs(1)]), [newEntry('cid-aaaa1', 'lobby', 'yes', 5, [], 1)], me);
    expect(item?.reply).toMatchObject({ seq: 1, author: 'bob', text: 'message 1' });
  });
});
