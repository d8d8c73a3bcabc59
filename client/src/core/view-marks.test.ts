import { describe, expect, it } from 'vitest';
import { msg } from './testing-fakes.ts';
import { firstUnreadSeq, mentionSeqs } from './view-marks.ts';

const row = (seq: number | null, own = false) => ({ seq, own });

describe('the "New" divider', () => {
  it.each([
    { name: 'after the read position', items: [row(1), row(2), row(3)], lastRead: 1, seq: 2 },
    { name: 'nothing unread: none (the view opens at the bottom)', items: [row(1), row(2)], lastRead: 2, seq: null },
    { name: 'my own messages are not news', items: [row(1), row(2, true), row(3)], lastRead: 1, seq: 3 },
    { name: 'unsent messages have no seq', items: [row(1), row(null, true)], lastRead: 0, seq: 1 },
    { name: 'read position unknown yet: none', items: [row(1)], lastRead: null, seq: null },
    { name: 'read before the first loaded message: the first one', items: [row(50), row(51)], lastRead: 10, seq: 50 },
  ])('$name', ({ items, lastRead, seq }) => {
    expect(firstUnreadSeq(items, lastRead)).toBe(seq);
  });
});

describe('mentions of me', () => {
  it('marks messages by others that mention me, not my own, not changes, not tombstones', () => {
    const me = 'u-alice';
    const set = mentionSeqs(
      [
        msg(1, { mentions: [me] }),
        msg(2, { mentions: ['u-carol'] }),
        msg(3, { authorId: me, mentions: [me] }),
        msg(4, { kind: 'edit', target: 1, mentions: [me] }),
        msg(5, { deleted: true, mentions: [me] }),
        msg(6),
      ],
      me,
    );
    expect([...set]).toEqual([1]);
  });
});
