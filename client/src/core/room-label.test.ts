import { describe, expect, it } from 'vitest';
import { roomEntryName, roomLabel, tabTitle } from './room-label.ts';

describe('room labels', () => {
  it.each([
    { room: 'design', entry: undefined, label: '#design' },
    { room: 'design', entry: { visibility: 'public' as const }, label: '#design' },
    { room: 'p-1', entry: { visibility: 'private' as const, title: 'Plans' }, label: 'Plans' },
    { room: 'dm-1', entry: { visibility: 'dm' as const, peer: { userId: 'u-bob', name: 'bob' } }, label: 'bob' },
  ])('$room → $label', ({ room, entry, label }) => {
    expect(roomLabel(room, entry)).toBe(label);
  });

  it.each([
    { unread: 0, mentions: 0, online: undefined, name: '#design' },
    { unread: 2, mentions: 0, online: undefined, name: '#design, 2 unread' },
    { unread: 3, mentions: 1, online: undefined, name: '#design, 3 unread, 1 mention' },
    { unread: 5, mentions: 2, online: 4, name: '#design, 5 unread, 2 mentions, 4 online' },
    { unread: 999, mentions: 0, online: undefined, name: '#design, 999+ unread' },
  ])('the list entry says $name', ({ unread, mentions, online, name }) => {
    expect(roomEntryName('#design', unread, mentions, online)).toBe(name);
  });
});

describe('the tab title', () => {
  it.each([
    { total: 0, elsewhere: 0, hidden: false, title: '#lobby · Fiberchat' },
    { total: 0, elsewhere: 0, hidden: true, title: '#lobby · Fiberchat' },
    { total: 3, elsewhere: 3, hidden: false, title: '(3) #lobby · Fiberchat' },
    // Only the open room has news and the reader is looking at it: no count.
    { total: 2, elsewhere: 0, hidden: false, title: '#lobby · Fiberchat' },
    { total: 2, elsewhere: 0, hidden: true, title: '(2) #lobby · Fiberchat' },
    { total: 5, elsewhere: 3, hidden: false, title: '(5) #lobby · Fiberchat' },
  ])('total $total, elsewhere $elsewhere, hidden $hidden → $title', ({ total, elsewhere, hidden, title }) => {
    expect(tabTitle({ label: '#lobby', total, elsewhere, hidden })).toBe(title);
  });
});
