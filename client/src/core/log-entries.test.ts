import { describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/protocol.ts';
import { applyChange, applyEntries, mergeCopies, react, type HeldMessage, type HeldReaction } from './log-entries.ts';
import { msg } from './testing-fakes.ts';

const alice = { userId: 'u-alice', name: 'alice' };
const bob = { userId: 'u-bob', name: 'bob' };
const carol = { userId: 'u-carol', name: 'carol' };

/** A change entry at `seq` by `by` (bob unless told). */
function change(seq: number, kind: 'edit' | 'delete' | 'reaction', target: number, over: Partial<Message> = {}): Message {
  return msg(seq, { kind, target, text: '', ...over });
}
const edit = (seq: number, target: number, text: string, over: Partial<Message> = {}) => change(seq, 'edit', target, { text, ...over });
const del = (seq: number, target: number) => change(seq, 'delete', target);
const reaction = (seq: number, target: number, emoji: string, on: boolean, by = bob) =>
  change(seq, 'reaction', target, { emoji, on, author: by.name, authorId: by.userId });

const counts = (r: HeldReaction[] | undefined) => (r ?? []).map((x) => `${x.emoji}${x.count}:${x.users.map((u) => u.name).join('+')}`);

describe('react: one user, set semantics', () => {
  const thumbs = (users: { userId: string; name: string }[], count = users.length, mine = false): HeldReaction[] => [{ emoji: '👍', count, mine, users }];
  it.each<{ name: string; before: HeldReaction[] | undefined; by: typeof alice; on: boolean; after: string[] }>([
    { name: 'the first reaction makes a summary', before: undefined, by: alice, on: true, after: ['👍1:alice'] },
    { name: 'another user adds to the count', before: thumbs([alice]), by: bob, on: true, after: ['👍2:alice+bob'] },
    { name: 'the same user twice counts once', before: thumbs([alice]), by: alice, on: true, after: ['👍1:alice'] },
    { name: 'taking back removes the user', before: thumbs([alice, bob]), by: alice, on: false, after: ['👍1:bob'] },
    { name: 'the last one taken back removes the summary', before: thumbs([alice]), by: alice, on: false, after: [] },
    { name: 'taking back what was never there changes nothing', before: thumbs([alice]), by: bob, on: false, after: ['👍1:alice'] },
    { name: 'taking back someone a page did not list lowers the count', before: thumbs([alice], 30), by: carol, on: false, after: ['👍29:alice'] },
  ])('$name', ({ before, by, on, after }) => {
    expect(counts(react(before, '👍', by, on))).toEqual(after);
  });

  it('answers the same list when nothing changed', () => {
    const before = thumbs([alice]);
    expect(react(before, '👍', alice, true)).toBe(before);
  });
});

describe('applyChange', () => {
  const base: HeldMessage = msg(1, { text: 'hello' });
  it.each<{ name: string; target: HeldMessage; change: Message; expected: Partial<HeldMessage> }>([
    { name: 'an edit replaces the text and marks it edited', target: base, change: edit(2, 1, 'hi'), expected: { text: 'hi', editedAt: msg(2).ts } },
    { name: 'a delete makes a tombstone', target: { ...base, editedAt: 5 }, change: del(2, 1), expected: { text: '', deleted: true, editedAt: undefined } },
    { name: 'an edit does not revive a tombstone', target: { ...base, text: '', deleted: true }, change: edit(3, 1, 'back'), expected: { text: '', deleted: true } },
    { name: 'a reaction on a tombstone is dropped', target: { ...base, text: '', deleted: true }, change: reaction(3, 1, '🎉', true), expected: { reactions: undefined } },
    { name: 'a change a page already shows is not applied again', target: { ...base, text: 'v2', asOf: 9 }, change: edit(7, 1, 'v1'), expected: { text: 'v2' } },
    { name: 'an edit without mentions drops the old ones', target: { ...base, mentions: ['u-x'] }, change: edit(2, 1, 'plain'), expected: { mentions: undefined } },
  ])('$name', ({ target, change: c, expected }) => {
    const out = applyChange(target, c);
    for (const [k, v] of Object.entries(expected)) {
      if (v === undefined) expect(out).not.toHaveProperty(k);
      else expect(out).toHaveProperty(k, v);
    }
  });
});

describe('applyEntries', () => {
  it('merges messages and folds each change into its target, in seq order', () => {
    const out = applyEntries([msg(1), msg(2)], [msg(3), edit(4, 1, 'one, edited'), del(5, 2), reaction(6, 3, '👍', true), reaction(7, 3, '👍', true, alice)]);
    expect(out.map((m) => [m.seq, m.text, m.deleted ?? false])).toEqual([
      [1, 'one, edited', false],
      [2, '', true],
      [3, 'message 3', false],
    ]);
    expect(counts(out[2]?.reactions)).toEqual(['👍2:bob+alice']);
  });

  it('a change to a message not held changes nothing but is harmless', () => {
    const held = [msg(10)];
    expect(applyEntries(held, [edit(11, 3, 'far away')])).toBe(held);
  });

  it('is idempotent: the same live entries twice give the same messages', () => {
    const entries = [msg(3), edit(4, 3, 'x'), reaction(5, 3, '🎉', true), reaction(6, 3, '🎉', false), reaction(7, 3, '👀', true)];
    const once = applyEntries([], entries);
    expect(applyEntries(once, entries)).toEqual(once);
  });

  it('a page copy (asOf) replaces a live copy of the same seq; a live copy never replaces a page copy', () => {
    const live = [msg(3, { text: 'old' })];
    const paged = applyEntries(live, [msg(3, { text: 'new', editedAt: 1 })], 9);
    expect(paged[0]).toMatchObject({ text: 'new', asOf: 9 });
    expect(applyEntries(paged, [msg(3, { text: 'stale' })])).toBe(paged);
  });

  it('a page then the live entries that follow it: each change counts once', () => {
    // The page (read at seq 6) shows message 3 edited, with bob's and alice's 🎉; the replay then brings 4..8.
    const page = applyEntries([], [msg(3, { text: 'v1', editedAt: 4, reactions: [{ emoji: '🎉', count: 2, mine: false, users: [bob, alice] }] })], 6);
    const live = [edit(4, 3, 'v1'), reaction(5, 3, '🎉', true), reaction(6, 3, '🎉', true, alice), reaction(7, 3, '🎉', true, carol), edit(8, 3, 'v2')];
    const out = applyEntries(page, live);
    expect(out[0]?.text).toBe('v2');
    // 4 to 6 are in the page already (asOf 6); 7 is new.
    expect(counts(out[0]?.reactions)).toEqual(['🎉3:bob+alice+carol']);
  });

  it('a page read from a poll that already includes later changes converges when they arrive (set semantics)', () => {
    const polled = applyEntries([], [msg(3, { reactions: [{ emoji: '🎉', count: 2, mine: false, users: [bob, alice] }] })]);
    const out = applyEntries(polled, [reaction(4, 3, '🎉', true), reaction(5, 3, '🎉', true, alice)]);
    expect(counts(out[0]?.reactions)).toEqual(['🎉2:bob+alice']);
  });

  it("a reply's preview follows an edit or a delete of an original that is not held", () => {
    const reply = msg(40, { replyTo: 3, reply: { seq: 3, author: 'bob', authorId: 'u-bob', text: 'original' } });
    const edited = applyEntries([reply], [edit(41, 3, 'original, edited')]);
    expect(edited[0]?.reply).toMatchObject({ text: 'original, edited' });
    const deleted = applyEntries(edited, [del(42, 3)]);
    expect(deleted[0]?.reply).toMatchObject({ text: '', deleted: true });
  });

  it('keeps the held copy for a seq the live stream repeats (the acked copy is not replaced by its broadcast)', () => {
    const mine = msg(2, { text: 'local' });
    const merged = mergeCopies([msg(1), mine], [msg(2, { text: 'broadcast' })], false);
    expect(merged[1]).toBe(mine);
  });
});
