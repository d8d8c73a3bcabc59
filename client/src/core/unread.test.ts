import { describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/protocol.ts';
import { msg } from './testing-fakes.ts';
import {
  NO_COUNTS,
  UNREAD_CAP,
  applyEntries,
  applyRead,
  countText,
  countsFromServer,
  refreshCounts,
  shouldMarkRead,
  unreadOf,
  type RoomCounts,
} from './unread.ts';

const ME = 'u-alice';
const server = (over: Partial<{ lastRead: number; lastSeq: number; unread: number; mentions: number }> = {}) =>
  countsFromServer({ lastRead: 0, lastSeq: 0, unread: 0, mentions: 0, ...over });
const byBob = (seq: number, over: Partial<Message> = {}) => msg(seq, { room: 'design', ...over });
const mine = (seq: number) => msg(seq, { room: 'design', author: 'alice', authorId: ME });
const mention = (seq: number) => byBob(seq, { text: '@alice look', mentions: [ME] });

describe('unread arithmetic', () => {
  it.each<{ name: string; start: RoomCounts; entries: Message[]; unread: number; mentions: number }>([
    { name: 'the server count alone', start: server({ lastSeq: 5, lastRead: 2, unread: 3, mentions: 1 }), entries: [], unread: 3, mentions: 1 },
    { name: 'messages by others after the count are added', start: server({ lastSeq: 3 }), entries: [byBob(4), byBob(5)], unread: 2, mentions: 0 },
    { name: 'mentions of me count as mentions too', start: server({ lastSeq: 3 }), entries: [byBob(4), mention(5)], unread: 2, mentions: 1 },
    { name: 'a mention of someone else is only unread', start: NO_COUNTS, entries: [byBob(1, { mentions: ['u-carol'] })], unread: 1, mentions: 0 },
    { name: 'my own messages never count', start: server({ lastSeq: 3 }), entries: [mine(4), byBob(5)], unread: 1, mentions: 0 },
    { name: 'what the server counted is not counted again', start: server({ lastSeq: 5, unread: 5 }), entries: [byBob(4), byBob(5), byBob(6)], unread: 6, mentions: 0 },
    { name: 'a message delivered twice counts once', start: NO_COUNTS, entries: [byBob(1), byBob(2), byBob(1), byBob(2)], unread: 2, mentions: 0 },
    { name: 'out of order is fine', start: NO_COUNTS, entries: [byBob(3), byBob(1), byBob(2)], unread: 3, mentions: 0 },
    {
      name: 'edits, deletions and reactions are not messages',
      start: NO_COUNTS,
      entries: [byBob(1), byBob(2, { kind: 'edit', target: 1, text: 'x' }), byBob(3, { kind: 'reaction', target: 1, emoji: '👍', on: true })],
      unread: 1,
      mentions: 0,
    },
    { name: 'a deleted message stops counting', start: NO_COUNTS, entries: [mention(1), byBob(2), byBob(3, { kind: 'delete', target: 1 })], unread: 1, mentions: 0 },
    { name: 'an edit that adds a mention of me makes it one', start: NO_COUNTS, entries: [byBob(1), byBob(2, { kind: 'edit', target: 1, text: '@alice', mentions: [ME] })], unread: 1, mentions: 1 },
    { name: 'a tombstone in a page is not unread', start: NO_COUNTS, entries: [byBob(1, { deleted: true, text: '' })], unread: 0, mentions: 0 },
    { name: 'messages at or before the read position are read', start: server({ lastRead: 4, lastSeq: 2 }), entries: [byBob(3), byBob(4), byBob(5)], unread: 1, mentions: 0 },
  ])('$name', ({ start, entries, unread, mentions }) => {
    expect(unreadOf(applyEntries(start, entries, ME))).toEqual({ unread, mentions });
  });

  it('nothing new returns the same record, so views do not re-render', () => {
    const c = applyEntries(server({ lastSeq: 3 }), [byBob(4)], ME);
    expect(applyEntries(c, [byBob(4)], ME)).toBe(c);
  });

  it('caps at the server cap and says so', () => {
    const big = server({ lastSeq: 2000, unread: UNREAD_CAP });
    expect(unreadOf(applyEntries(big, [byBob(2001)], ME)).unread).toBe(UNREAD_CAP);
    expect(countText(UNREAD_CAP)).toBe('999+');
    expect(countText(12)).toBe('12');
  });
});

describe('read positions', () => {
  it.each<{ name: string; start: RoomCounts; reads: number[]; lastRead: number; unread: number; mentions: number }>([
    { name: 'reading to the end clears everything', start: applyEntries(server({ lastSeq: 3, unread: 3, mentions: 1 }), [byBob(4)], ME), reads: [4], lastRead: 4, unread: 0, mentions: 0 },
    { name: 'reading part of what was counted live leaves the rest', start: applyEntries(server({ lastSeq: 1 }), [byBob(2), mention(3), byBob(4)], ME), reads: [2], lastRead: 2, unread: 2, mentions: 1 },
    { name: 'never backwards', start: applyEntries(NO_COUNTS, [byBob(1), byBob(2), byBob(3)], ME), reads: [3, 1], lastRead: 3, unread: 0, mentions: 0 },
    {
      name: 'reading into the server count keeps it until the next list (it errs towards showing a count)',
      start: server({ lastRead: 0, lastSeq: 10, unread: 10 }),
      reads: [5],
      lastRead: 5,
      unread: 10,
      mentions: 0,
    },
    { name: 'the same read twice is a no-op', start: applyEntries(NO_COUNTS, [byBob(1), byBob(2)], ME), reads: [1, 1], lastRead: 1, unread: 1, mentions: 0 },
  ])('$name', ({ start, reads, lastRead, unread, mentions }) => {
    const end = reads.reduce(applyRead, start);
    expect(end.lastRead).toBe(lastRead);
    expect(unreadOf(end)).toEqual({ unread, mentions });
  });

  it('a read from another tab and this tab\'s own combine: the highest wins, in any order', () => {
    const start = applyEntries(NO_COUNTS, [byBob(1), byBob(2), byBob(3), byBob(4)], ME);
    const thisTabFirst = applyRead(applyRead(start, 2), 4);
    const otherTabFirst = applyRead(applyRead(start, 4), 2);
    expect(thisTabFirst).toEqual(otherTabFirst);
    expect(unreadOf(thisTabFirst).unread).toBe(0);
  });

  it('a message that arrives after another tab read past it is not unread', () => {
    const c = applyRead(NO_COUNTS, 5);
    expect(unreadOf(applyEntries(c, [byBob(4), byBob(5), byBob(6)], ME)).unread).toBe(1);
  });

  it.each([
    { known: 3, sent: 0, seq: 4, send: true },
    { known: 3, sent: 0, seq: 3, send: false },
    { known: 3, sent: 0, seq: 2, send: false },
    { known: 0, sent: 5, seq: 5, send: false },
    { known: 0, sent: 5, seq: 6, send: true },
  ])('marks $seq read when known $known and sent $sent: $send', ({ known, sent, seq, send }) => {
    expect(shouldMarkRead(known, sent, seq)).toBe(send);
  });
});

describe('a fresh list', () => {
  it('replaces the count up to its lastSeq and keeps what was counted after it', () => {
    const before = applyEntries(server({ lastSeq: 3, unread: 1 }), [byBob(4), byBob(5)], ME);
    const after = refreshCounts(before, { lastRead: 0, lastSeq: 4, unread: 2, mentions: 0 });
    expect(unreadOf(after)).toEqual({ unread: 3, mentions: 0 });
  });

  it('keeps a read position further on than the server knows yet (a read on its way)', () => {
    const read = applyRead(applyEntries(server({ lastSeq: 3, unread: 3 }), [byBob(4)], ME), 4);
    const after = refreshCounts(read, { lastRead: 0, lastSeq: 4, unread: 4, mentions: 0 });
    expect(after.lastRead).toBe(4);
    expect(unreadOf(after)).toEqual({ unread: 0, mentions: 0 });
  });
});
