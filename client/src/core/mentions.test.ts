import { describe, expect, it } from 'vitest';
import { displayTag } from '../../../shared/protocol.ts';
import { candidates, complete, mentionAt, resolveMentions, suggest } from './mentions.ts';

const alice = { userId: 'u-alice', name: 'alice' };
const alice2 = { userId: 'u-alice-2', name: 'Alice' };
const bob = { userId: 'u-bob', name: 'bob' };
const mary = { userId: 'u-mary', name: 'mary' };
const maryAnn = { userId: 'u-mary-ann', name: 'mary ann' };
const zoe = { userId: 'u-zoe', name: 'Zoë' };

describe('the @query under the caret', () => {
  it.each([
    { text: '@al', caret: 3, query: 'al' },
    { text: 'hi @', caret: 4, query: '' },
    { text: 'hi @bo and', caret: 6, query: 'bo' },
    { text: '(@bo', caret: 4, query: 'bo' },
    { text: 'hi @mary a', caret: 10, query: 'mary a' },
    { text: 'mail me@example', caret: 15, query: null },
    { text: 'hi @ bob', caret: 8, query: null },
    { text: '@al\nx', caret: 5, query: null },
    { text: 'no mention', caret: 10, query: null },
    { text: `@${'x'.repeat(40)}`, caret: 41, query: null },
  ])('$text at $caret → $query', ({ text, caret, query }) => {
    expect(mentionAt(text, caret)?.query ?? null).toBe(query);
  });
});

describe('suggestions', () => {
  const people = candidates([alice, bob, mary, maryAnn, zoe, bob, { userId: 'u-me', name: 'me' }], 'u-me');

  it('leaves me out and lists each person once', () => {
    expect(people.map((u) => u.userId)).toEqual(['u-alice', 'u-bob', 'u-mary', 'u-mary-ann', 'u-zoe']);
  });

  it.each([
    { query: '', names: ['alice', 'bob', 'mary', 'mary ann', 'Zoë'] },
    { query: 'ma', names: ['mary', 'mary ann'] },
    { query: 'MA', names: ['mary', 'mary ann'] },
    { query: 'ann', names: ['mary ann'] },
    { query: 'zo', names: ['Zoë'] },
    { query: 'zoë', names: ['Zoë'] },
    { query: 'q', names: [] },
  ])('"$query" → $names', ({ query, names }) => {
    expect(suggest(people, query).map((s) => s.user.name)).toEqual(names);
  });

  it('two people of one name are told apart by their tag', () => {
    const s = suggest([alice, alice2, bob], 'al');
    expect(s.map((x) => x.tag)).toEqual([displayTag('u-alice'), displayTag('u-alice-2')]);
    expect(suggest([alice, bob], 'al')[0]?.tag).toBeNull();
  });

  it('completing replaces the query with the name (and the tag when needed) and a space', () => {
    const text = 'hi @al how';
    const q = mentionAt(text, 6);
    if (!q) throw new Error('no query');
    expect(complete(text, q, { user: alice, tag: null })).toEqual({ text: 'hi @alice how', caret: 10 });
    const tag = displayTag('u-alice-2');
    expect(complete('@Al', { start: 0, end: 3, query: 'Al' }, { user: alice2, tag })).toEqual({ text: `@Alice#${tag} `, caret: 12 });
  });
});

describe('which users a message mentions', () => {
  const inView = [alice, bob, mary, maryAnn];
  it.each([
    { text: '@bob hi', ids: ['u-bob'] },
    { text: 'hi @BOB!', ids: ['u-bob'] },
    { text: '@bobby hi', ids: [] },
    { text: 'mail bob@bob.com', ids: [] },
    { text: '@mary ann and @mary', ids: ['u-mary-ann', 'u-mary'] },
    { text: '@bob @bob', ids: ['u-bob'] },
    { text: '@nobody', ids: [] },
  ])('$text → $ids', ({ text, ids }) => {
    expect(resolveMentions(text, inView)).toEqual(ids);
  });

  it('a shared name needs its tag, or the person the completion picked', () => {
    const both = [alice, alice2];
    expect(resolveMentions('@alice hi', both)).toEqual([]);
    expect(resolveMentions(`@alice#${displayTag('u-alice-2')} hi`, both)).toEqual(['u-alice-2']);
    expect(resolveMentions('@alice hi', both, new Map([['alice', 'u-alice']]))).toEqual(['u-alice']);
  });
});
