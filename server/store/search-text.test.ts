import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../shared/search-query.ts';
import { LINK_TOKEN, compileSearch, fold, fts5Match, matchesDoc, searchDoc, snippetOf, tokensOf } from './search-text.ts';

const visible = (tokens: string[]) => tokens.map((t) => t.replace(/\uE000([0-9a-f]+)\uE001/g, (_, hex: string) => `<${String.fromCodePoint(parseInt(hex, 16))}>`));

describe('search tokens', () => {
  it('folds case, compatibility forms and Latin diacritics, and nothing else', () => {
    expect(fold('Café ÉLAN ﬁne Ｆｕｌｌ')).toBe('cafe elan fine full');
    expect(fold('İstanbul')).toBe('istanbul');
    // A Devanagari vowel sign is part of its word, not a diacritic.
    expect(fold('नमस्ते')).toBe('नमस्ते');
  });

  it('keeps a word with punctuation inside as one token, escaped, with its pieces on the side', () => {
    const doc = searchDoc('See (api.example.com), v2.0 and 2026-11-28!');
    expect(visible(doc.words)).toEqual(['see', 'api<.>example<.>com', 'v2<.>0', 'and', '2026<->11<->28']);
    expect(visible(doc.parts)).toEqual(['api', 'example', 'com', 'v2', '0', '2026', '11', '28']);
    // Every token is letters, digits and escapes: nothing an engine's tokenizer could split or a query could inject.
    for (const t of [...doc.words, ...doc.parts]) expect(t).toMatch(/^(?:[\p{L}\p{N}]|\uE000[0-9a-f]+\uE001)+$/u);
  });

  it('splits scripts without spaces into pairs, plus the last character of a run', () => {
    expect(tokensOf('東京都')).toEqual(['東京', '京都', '都']);
    expect(tokensOf('東京都', true)).toEqual(['東京', '京都']);
    expect(tokensOf('京', true)).toEqual(['京']);
    expect(tokensOf('iphone用')).toEqual(['iphone', '用']);
  });

  it('reads private-use characters in the text as spaces, so no text can forge an escape or the link marker', () => {
    expect(searchDoc(`a${LINK_TOKEN}b`).parts).toEqual([]);
    expect(searchDoc(`a${LINK_TOKEN}b`).words).toEqual(['a', 'link', 'b']);
    expect(searchDoc('see https://example.com').parts).toContain(LINK_TOKEN);
  });
});

describe('snippets', () => {
  it('highlights whole words only, through folding, as ranges into the text', () => {
    const s = snippetOf('Café and the CAFE, not cafeteria', parseSearch('cafe'));
    expect(s.snippet).toBe('Café and the CAFE, not cafeteria');
    expect(s.highlights.map(([a, b]) => s.snippet.slice(a, b))).toEqual(['Café', 'CAFE']);
  });

  it('cuts a long text around the first match, marks the cuts, and keeps ranges right', () => {
    const text = `${'lorem ipsum '.repeat(30)}the needle is here ${'dolor sit '.repeat(30)}`;
    const s = snippetOf(text, parseSearch('needle'));
    expect(s.snippet.startsWith('…')).toBe(true);
    expect(s.snippet.endsWith('…')).toBe(true);
    expect(s.highlights.map(([a, b]) => s.snippet.slice(a, b))).toEqual(['needle']);
    expect(s.snippet.length).toBeLessThanOrEqual(202);
  });

  it('highlights text in scripts without spaces anywhere it occurs', () => {
    const s = snippetOf('東京都に行きました', parseSearch('京都'));
    expect(s.highlights.map(([a, b]) => s.snippet.slice(a, b))).toEqual(['京都']);
  });
});

describe('FTS5 and the in-memory matcher agree', () => {
  const words = ['deploy', 'key', 'api.example.com', 'example', 'v2.0', 'Café', 'cafe', '東京都', '京都', 'https://x.io', '"', '-', 'NEAR(x', '*', 'OR', 'AND', ':', '{a}'];
  const text = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 6 }).map((ws) => ws.join(' '));
  const query = fc
    .array(fc.oneof(fc.constantFrom(...words), fc.constantFrom(...words).map((w) => `-${w}`), fc.constantFrom('"deploy key"', '"example v2.0"', 'has:link')), { minLength: 1, maxLength: 3 })
    .map((ws) => ws.join(' '));

  it('on random documents and queries', () => {
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE f USING fts5(words, parts, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')");
    const insert = db.prepare('INSERT INTO f (rowid, words, parts) VALUES (?, ?, ?)');
    const find = db.prepare<[string], { rowid: number }>('SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid');
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 8 }), query, (texts, q) => {
        db.exec('DELETE FROM f');
        const docs = texts.map(searchDoc);
        docs.forEach((d, i) => insert.run(i + 1, d.words.join(' '), d.parts.join(' ')));
        const compiled = compileSearch(parseSearch(q));
        const match = fts5Match(compiled);
        if (match === undefined) return;
        const byEngine = find.all(match).map((r) => r.rowid);
        const byMemory = docs.flatMap((d, i) => (matchesDoc(compiled, d) ? [i + 1] : []));
        expect(byEngine).toEqual(byMemory);
      }),
      { numRuns: 300 },
    );
    db.close();
  });
});
