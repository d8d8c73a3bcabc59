/**
 * The search contract, the same cases on every store: what a query finds
 * (words, punctuation, scripts without spaces, phrases, exclusions, links),
 * in which order and pages, for whom (access as it is now), and that the
 * index follows the log (edits, deletes).
 */
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSearch } from '../../shared/search-query.ts';
import { compileSearch } from './search-text.ts';
import type { Draft, SearchPage, SearchSpec, Store } from './store.ts';
import { testStores } from './test-stores.ts';

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `id-${n}`, clientId: `client-${n.toString().padStart(5, '0')}`, author: 'alice', authorId: 'u1', text, ts: 1_800_000_000_000 + n * 1000, kind: 'message', ...extra };
}

async function post(s: Store, room: string, ...texts: string[]): Promise<number[]> {
  const { results } = await s.commit(room, texts.map((t) => draft(t)), `epoch-${room}`);
  return results.map((r) => ('message' in r ? r.message.seq : -1));
}

/** Searches as `viewer` for what a person would type. */
function search(s: Store, q: string, extra: Partial<SearchSpec> = {}): Promise<SearchPage> {
  const parsed = parseSearch(q);
  return s.search({ compiled: compileSearch(parsed), rooms: parsed.rooms, viewer: 'u1', limit: 20, budgetMs: 1000, ...extra });
}

async function texts(s: Store, q: string, extra: Partial<SearchSpec> = {}): Promise<string[]> {
  return (await search(s, q, extra)).hits.map((h) => h.text);
}

const impls = testStores();

describe.each(impls)('%s search', (_name, impl) => {
  beforeAll(async () => {
    await impl.setup?.();
  }, 120_000);
  beforeEach(async () => {
    await impl.reset?.();
  });

  it('finds messages with every word, folding case, compatibility forms and diacritics', async () => {
    const s = impl.make();
    await post(s, 'lobby', 'Meet at the Café tomorrow', 'the cafe is closed', 'tomorrow then', 'ＦＵＬＬＷＩＤＴＨ letters');
    expect(await texts(s, 'cafe')).toEqual(['the cafe is closed', 'Meet at the Café tomorrow']);
    expect(await texts(s, 'CAFÉ tomorrow')).toEqual(['Meet at the Café tomorrow']);
    expect(await texts(s, 'fullwidth')).toEqual(['ＦＵＬＬＷＩＤＴＨ letters']);
    expect(await texts(s, 'caf')).toEqual([]);
    await s.close();
  });

  it('finds words with punctuation inside whole, and by their pieces; punctuation around a word is not part of it', async () => {
    const s = impl.make();
    await post(s, 'lobby', 'see api.example.com now', 'released (v2.0), finally', 'due 2026-11-28.', 'user_name and e-mail');
    expect(await texts(s, 'api.example.com')).toEqual(['see api.example.com now']);
    expect(await texts(s, 'example')).toEqual(['see api.example.com now']);
    expect(await texts(s, 'v2.0')).toEqual(['released (v2.0), finally']);
    expect(await texts(s, '2026-11-28')).toEqual(['due 2026-11-28.']);
    expect(await texts(s, 'user_name')).toEqual(['user_name and e-mail']);
    expect(await texts(s, 'e-mail')).toEqual(['user_name and e-mail']);
    expect(await texts(s, 'v2')).toEqual(['released (v2.0), finally']);
    expect(await texts(s, 'example.org')).toEqual([]);
    await s.close();
  });

  it('finds text in scripts written without spaces by any part of it', async () => {
    const s = impl.make();
    await post(s, 'lobby', '東京都に行きました', '안녕하세요 여러분', 'ภาษาไทยง่าย', 'नमस्ते दुनिया');
    expect(await texts(s, '東京')).toEqual(['東京都に行きました']);
    expect(await texts(s, '京都')).toEqual(['東京都に行きました']);
    expect(await texts(s, '都')).toEqual(['東京都に行きました']);
    expect(await texts(s, 'た')).toEqual(['東京都に行きました']);
    expect(await texts(s, '行きました')).toEqual(['東京都に行きました']);
    expect(await texts(s, '大阪')).toEqual([]);
    expect(await texts(s, '안녕')).toEqual(['안녕하세요 여러분']);
    expect(await texts(s, 'ไทย')).toEqual(['ภาษาไทยง่าย']);
    // A script with spaces keeps its marks: a Devanagari word is found whole.
    expect(await texts(s, 'नमस्ते')).toEqual(['नमस्ते दुनिया']);
    await s.close();
  });

  it('matches a phrase in order, excludes words and phrases, and finds links', async () => {
    const s = impl.make();
    await post(s, 'lobby', 'the deploy key is on the wiki', 'key to deploy', 'deploy to staging', 'docs at https://example.com/x', 'www.example.org has it');
    expect(await texts(s, '"deploy key"')).toEqual(['the deploy key is on the wiki']);
    expect(await texts(s, 'deploy -staging')).toEqual(['key to deploy', 'the deploy key is on the wiki']);
    expect(await texts(s, 'deploy -"deploy key" -staging')).toEqual(['key to deploy']);
    expect(await texts(s, 'has:link')).toEqual(['www.example.org has it', 'docs at https://example.com/x']);
    expect(await texts(s, 'has:link -docs')).toEqual(['www.example.org has it']);
    await s.close();
  });

  it('answers newest first, in pages that neither repeat nor skip', async () => {
    const s = impl.make();
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(...(await post(s, i % 2 ? 'lobby' : 'other', ...Array.from({ length: 5 }, (_, k) => `match number ${i * 5 + k}`), 'noise')));
    const seen: string[] = [];
    let below: number | undefined;
    for (let page = 0; page < 10; page++) {
      const p = await search(s, 'match', { limit: 10, below });
      seen.push(...p.hits.map((h) => h.text));
      if (p.next === undefined) break;
      below = p.next;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `match number ${24 - i}`));
    const one = (await search(s, 'match', { limit: 3 })).hits;
    expect(one.map((h) => h.ts)).toEqual([...one.map((h) => h.ts)].sort((a, b) => b - a));
    expect(one[0]).toMatchObject({ room: 'other', author: 'alice', authorId: 'u1', text: 'match number 24' });
    await s.close();
  });

  it('finds a private room or direct message only for its members now; public rooms for everyone', async () => {
    const s = impl.make();
    await s.createRoom('p-secret', { visibility: 'private', title: 'Plans', owner: 'u1' }, 'epoch-secret');
    await s.addMember('p-secret', { userId: 'u1', name: 'alice' }, 'owner');
    await s.addMember('p-secret', { userId: 'u2', name: 'bob' }, 'member');
    await s.createRoom('dm-ab', { visibility: 'dm' }, 'epoch-dm');
    await s.addMember('dm-ab', { userId: 'u1', name: 'alice' }, 'member');
    await post(s, 'p-secret', 'the zanzibar plan');
    await post(s, 'dm-ab', 'zanzibar between us');
    await post(s, 'lobby', 'zanzibar in public');
    expect(await texts(s, 'zanzibar', { viewer: 'stranger' })).toEqual(['zanzibar in public']);
    expect(await texts(s, 'zanzibar', { viewer: 'stranger', rooms: ['p-secret'] })).toEqual([]);
    expect(await texts(s, 'zanzibar', { viewer: 'u2' })).toEqual(['zanzibar in public', 'the zanzibar plan']);
    const mine = await search(s, 'zanzibar');
    expect(mine.hits.map((h) => h.text)).toEqual(['zanzibar in public', 'zanzibar between us', 'the zanzibar plan']);
    expect(mine.hits.find((h) => h.room === 'p-secret')?.title).toBe('Plans');
    await s.removeMember('p-secret', 'u2');
    expect(await texts(s, 'zanzibar', { viewer: 'u2' })).toEqual(['zanzibar in public']);
    await s.close();
  });

  it('follows the log: an edit replaces the indexed text, a delete removes it', async () => {
    const s = impl.make();
    const [a, b] = await post(s, 'lobby', 'first draft wording', 'to be removed soon');
    await s.commit('lobby', [draft('final wording', { kind: 'edit', target: a })], 'epoch-lobby');
    expect(await texts(s, 'draft')).toEqual([]);
    expect(await texts(s, 'final')).toEqual(['final wording']);
    expect(await texts(s, 'wording')).toEqual(['final wording']);
    await s.commit('lobby', [draft('', { kind: 'delete', target: b })], 'epoch-lobby');
    expect(await texts(s, 'removed')).toEqual([]);
    // Reactions and edits are entries too, but only messages are found.
    await s.commit('lobby', [draft('', { kind: 'reaction', target: a, emoji: '👍', on: true })], 'epoch-lobby');
    expect((await search(s, 'final')).hits.map((h) => h.seq)).toEqual([a]);
    await s.close();
  });

  it('filters by room, author and time', async () => {
    const s = impl.make();
    await post(s, 'lobby', 'status one');
    await s.commit('design', [draft('status two', { author: 'bob', authorId: 'u2' })], 'epoch-design');
    const [three] = await post(s, 'design', 'status three');
    expect(await texts(s, 'status in:#design')).toEqual(['status three', 'status two']);
    expect(await texts(s, 'status', { authorIds: ['u2'] })).toEqual(['status two']);
    const ts = (await search(s, 'three')).hits[0]?.ts as number;
    expect(three).toBeGreaterThan(0);
    expect(await texts(s, 'status', { before: ts })).toEqual(['status two', 'status one']);
    expect(await texts(s, 'status', { after: ts })).toEqual(['status three']);
    // Filters alone: everything in the room, newest first.
    expect(await texts(s, 'in:#design')).toEqual(['status three', 'status two']);
    expect(await texts(s, 'in:#design -three')).toEqual(['status two']);
    await s.close();
  });

  it('answers any typed query without failing, and never a message that does not contain what was asked', async () => {
    const s = impl.make();
    await post(s, 'lobby', 'alpha "beta" gamma', 'NEAR(alpha beta) OR x*', "{words}: 'quote' \\ back");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'l', 'p', 'h', ' ', '"', '-', '*', '(', ')', ':', '{', '}', "'", '\\', 'O', 'R', 'N', 'E', 'A', '^', '+', '東') }), async (q) => {
        const page = await search(s, q);
        expect(Array.isArray(page.hits)).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(await texts(s, 'NEAR(alpha')).toEqual(['NEAR(alpha beta) OR x*']);
    expect(await texts(s, '{words}:')).toEqual(["{words}: 'quote' \\ back"]);
    await s.close();
  });
});
