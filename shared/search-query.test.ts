import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEARCH_LIMITS, dayStart, highlightWords, isRunnable, parseSearch, type SearchQuery } from './search-query.ts';

const none: SearchQuery = { terms: [], excluded: [], rooms: [], from: [], hasLink: false, dropped: 0 };
const w = (text: string) => ({ kind: 'word' as const, text });
const p = (text: string) => ({ kind: 'phrase' as const, text });

describe('parseSearch', () => {
  it.each<[string, Partial<SearchQuery>]>([
    ['', {}],
    ['   ', {}],
    ['deploy key', { terms: [w('deploy'), w('key')] }],
    ['"deploy key"', { terms: [p('deploy key')] }],
    ['"deploy   key" moved', { terms: [p('deploy key'), w('moved')] }],
    ['"unclosed phrase here', { terms: [p('unclosed phrase here')] }],
    ['"one"', { terms: [w('one')] }],
    ['""', {}],
    ['deploy -staging -"old key"', { terms: [w('deploy')], excluded: [w('staging'), p('old key')] }],
    ['- lonely dash', { terms: [w('lonely'), w('dash')] }],
    // Punctuation inside a word stays, around it goes.
    ['ops.example.com', { terms: [w('ops.example.com')] }],
    ['(v2.0), 2026-11-28!', { terms: [w('v2.0'), w('2026-11-28')] }],
    ['*** && || ()', {}],
    // Anything else with a colon is a word.
    ['https://api.example.com/x', { terms: [w('https://api.example.com/x')] }],
    ['at 10:30', { terms: [w('at'), w('10:30')] }],
    // Filters.
    ['in:#design deploy', { terms: [w('deploy')], rooms: ['design'] }],
    ['in:design in:#design in:#ops', { rooms: ['design', 'ops'] }],
    ['from:@bob from:carol', { from: ['bob', 'carol'] }],
    ['IN:#Design', { rooms: ['Design'] }],
    ['has:link', { hasLink: true }],
    ['has:cats', { terms: [w('has:cats')] }],
    ['before:2026-12-01', { before: Date.UTC(2026, 11, 1) }],
    ['after:2026-11-28', { after: Date.UTC(2026, 10, 29) }],
    ['before:2026-02-30 before:soon', { terms: [w('before:2026-02-30'), w('before:soon')] }],
    ['before:2026-12-05 before:2026-12-01', { before: Date.UTC(2026, 11, 1) }],
    ['in:', { terms: [w('in')] }],
    ['-in:#design', { excluded: [w('in:#design')] }],
    // Normalised: full-width letters, zero-width and control characters.
    ['ｄｅｐｌｏｙ', { terms: [w('deploy')] }],
    ['de\u200bploy\u0000x', { terms: [w('de'), w('ploy'), w('x')] }],
    // CJK and accents are words like any other (the engines fold and split them).
    ['会议记录 café', { terms: [w('会议记录'), w('café')] }],
    // The same term twice counts once.
    ['Deploy deploy "deploy"', { terms: [w('Deploy')] }],
  ])('%j', (input, expected) => {
    expect(parseSearch(input)).toEqual({ ...none, ...expected });
  });

  it('keeps at most maxTerms terms and counts the rest', () => {
    const words = Array.from({ length: SEARCH_LIMITS.maxTerms + 3 }, (_, i) => `w${i}`);
    const q = parseSearch(words.join(' '));
    expect(q.terms).toHaveLength(SEARCH_LIMITS.maxTerms);
    expect(q.dropped).toBe(3);
  });

  it('keeps at most maxFilterValues rooms', () => {
    const q = parseSearch(Array.from({ length: 20 }, (_, i) => `in:#r${i}`).join(' '));
    expect(q.rooms).toHaveLength(SEARCH_LIMITS.maxFilterValues);
  });

  it('never throws, and every term it keeps is searchable, on any string', () => {
    const wordy = fc.stringMatching(/^[-"a-zA-Z0-9 :#@.()*^\u00e9\u4f1a\u200b]{0,80}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400, unit: 'binary' }), wordy), (input) => {
        const q = parseSearch(input);
        expect(q.terms.length + q.excluded.length).toBeLessThanOrEqual(SEARCH_LIMITS.maxTerms);
        for (const t of [...q.terms, ...q.excluded]) {
          expect(t.text).toMatch(/[\p{L}\p{N}\p{M}]/u);
          expect(t.text).not.toMatch(/[\p{Cc}\p{Cf}]/u);
          expect(t.text).toBe(t.text.trim());
          if (t.kind === 'word') expect(t.text).not.toMatch(/\s/u);
        }
        // Parsing is stable: what it found, typed back, parses the same.
        expect(parseSearch(retype(q)).terms).toEqual(q.terms);
      }),
      { numRuns: 2000 },
    );
  });
});

/** A query typed back as text (for the stability property). */
function retype(q: SearchQuery): string {
  return q.terms.map((t) => (t.kind === 'phrase' || t.text.includes(':') ? `"${t.text}"` : t.text)).join(' ');
}

describe('helpers', () => {
  it('dayStart takes real dates only', () => {
    expect(dayStart('2026-11-28')).toBe(Date.UTC(2026, 10, 28));
    expect(dayStart('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(dayStart('2026-02-29')).toBeUndefined();
    expect(dayStart('2026-13-01')).toBeUndefined();
    expect(dayStart('26-11-28')).toBeUndefined();
  });

  it('a query must want something to run', () => {
    expect(isRunnable(parseSearch('-spam'))).toBe(false);
    expect(isRunnable(parseSearch(''))).toBe(false);
    expect(isRunnable(parseSearch('has:link -spam'))).toBe(true);
    expect(isRunnable(parseSearch('deploy'))).toBe(true);
  });

  it('highlights the words of wanted terms only', () => {
    expect(highlightWords(parseSearch('"deploy key" vault -old'))).toEqual(['deploy', 'key', 'vault']);
  });
});
