/**
 * The search grammar: what a person types into the search field, parsed into
 * a query both sides read the same way (the client shows its filters as
 * chips, the server compiles it for its engine). Total: every string parses,
 * nothing typed reaches an engine's own query syntax.
 *
 *   words          all must match                 deploy key
 *   "a phrase"     these words, in this order     "deploy key"
 *   -word          must not match                 deploy -staging   -"old key"
 *   in:#room       only in this room              in:#design  (in:design too)
 *   from:@name     only by this author            from:@bob   (from:bob too)
 *   has:link       only messages with a link
 *   before:DATE    sent before that day (UTC)     before:2026-12-01
 *   after:DATE     sent after that day (UTC)      after:2026-11-28
 *
 * A word keeps the punctuation inside it (`api.example.com`, `v2.0`,
 * `2026-11-28` are one word each) and loses the punctuation around it
 * (`(v2.0),` is `v2.0`). A filter whose value does not parse (`before:soon`,
 * `has:cats`) is an ordinary word, as is anything else with a colon
 * (`https://example.com`, `10:30`). An unclosed quote runs to the end.
 */

/** Bounds on a query, checked by the command's schema and by `parseSearch`. */
export const SEARCH_LIMITS = {
  /** Characters of `q`. */
  maxQueryChars: 256,
  /** Words and phrases, wanted and excluded together. */
  maxTerms: 16,
  /** Filters of one kind (`in:`, `from:`). */
  maxFilterValues: 8,
  /** Results in one page; the default is `defaultLimit`. */
  maxLimit: 50,
  defaultLimit: 20,
} as const;

/** One thing to match: a word (punctuation inside kept) or a phrase of words. */
export interface SearchTerm {
  kind: 'word' | 'phrase';
  /** NFKC-normalised, as typed otherwise (engines fold case and diacritics). */
  text: string;
}

export interface SearchQuery {
  /** Every one must match. */
  terms: SearchTerm[];
  /** None may match. */
  excluded: SearchTerm[];
  /** Room names (`in:`); empty: every room the caller may read. */
  rooms: string[];
  /** Author names (`from:`); empty: anyone. */
  from: string[];
  hasLink: boolean;
  /** Sent before the start of this day, UTC (ms since the epoch). */
  before?: number;
  /** Sent after the end of this day, UTC (ms since the epoch): on or after the next day's start. */
  after?: number;
  /** Terms past `maxTerms` that were left out (the command refuses a query that has any). */
  dropped: number;
}

/** Letters, digits and marks: what makes a word searchable. */
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
/** Punctuation and symbols stripped from a word's ends. */
const EDGE_PUNCT = /^[^\p{L}\p{N}\p{M}]+|[^\p{L}\p{N}\p{M}]+$/gu;
/** Control and format characters (zero-width, bidi overrides): never part of a term. */
const CONTROL = /[\p{Cc}\p{Cf}]/gu;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A room name as `in:` takes it (the room-name rules are checked where the name is used). */
const ROOM = /^#?([^\s#]{1,64})$/u;
const AUTHOR = /^@?([^\s@]{1,64})$/u;

const DAY_MS = 86_400_000;

/** The start of a `YYYY-MM-DD` day in UTC, or undefined if it is not a real date. */
export function dayStart(s: string): number | undefined {
  const m = DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t;
}

/** A raw token of the query: a bare run of non-space characters, or a quoted phrase, either maybe negated. */
interface Token {
  negated: boolean;
  quoted: boolean;
  text: string;
}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    while (i < q.length && /\s/u.test(q[i] as string)) i++;
    if (i >= q.length) break;
    let negated = false;
    if (q[i] === '-' && i + 1 < q.length && !/\s/u.test(q[i + 1] as string)) {
      negated = true;
      i++;
    }
    if (q[i] === '"') {
      const end = q.indexOf('"', i + 1);
      const stop = end === -1 ? q.length : end;
      out.push({ negated, quoted: true, text: q.slice(i + 1, stop) });
      i = end === -1 ? q.length : end + 1;
      continue;
    }
    let j = i;
    while (j < q.length && !/\s/u.test(q[j] as string) && q[j] !== '"') j++;
    out.push({ negated, quoted: false, text: q.slice(i, j) });
    i = j;
  }
  return out;
}

/**
 * A run of non-space characters as a searchable word: punctuation at its
 * ends removed; undefined if no letter or digit is left. Engines index a
 * message's words by this same rule.
 */
export function searchWord(text: string): string | undefined {
  const word = text.replace(EDGE_PUNCT, '');
  return WORD_CHAR.test(word) ? word : undefined;
}

/** A bare token as a word term. */
function wordOf(text: string): SearchTerm | undefined {
  const word = searchWord(text);
  return word === undefined ? undefined : { kind: 'word', text: word };
}

/** A quoted phrase: its words, each as `wordOf` makes them; one word is a word, none is nothing. */
function phraseOf(text: string): SearchTerm | undefined {
  const words = text.split(/\s+/u).flatMap((w) => wordOf(w) ?? []);
  if (words.length <= 1) return words[0];
  return { kind: 'phrase', text: words.map((w) => w.text).join(' ') };
}

/** Applies a `key:value` filter; false when it is not one (the token is then a word). */
function filter(q: SearchQuery, text: string): boolean {
  const colon = text.indexOf(':');
  if (colon <= 0) return false;
  const key = text.slice(0, colon).toLowerCase();
  const value = text.slice(colon + 1);
  switch (key) {
    case 'in': {
      const m = ROOM.exec(value);
      if (!m) return false;
      if (q.rooms.length < SEARCH_LIMITS.maxFilterValues && !q.rooms.includes(m[1] as string)) q.rooms.push(m[1] as string);
      return true;
    }
    case 'from': {
      const m = AUTHOR.exec(value);
      if (!m) return false;
      if (q.from.length < SEARCH_LIMITS.maxFilterValues && !q.from.includes(m[1] as string)) q.from.push(m[1] as string);
      return true;
    }
    case 'has':
      if (value.toLowerCase() !== 'link') return false;
      q.hasLink = true;
      return true;
    case 'before': {
      const t = dayStart(value);
      if (t === undefined) return false;
      q.before = q.before === undefined ? t : Math.min(q.before, t);
      return true;
    }
    case 'after': {
      const t = dayStart(value);
      if (t === undefined) return false;
      q.after = q.after === undefined ? t + DAY_MS : Math.max(q.after, t + DAY_MS);
      return true;
    }
    default:
      return false;
  }
}

/** Parses what a person typed. Never throws; the result may have no terms (a filter-only search, or nothing). */
export function parseSearch(input: string): SearchQuery {
  const q: SearchQuery = { terms: [], excluded: [], rooms: [], from: [], hasLink: false, dropped: 0 };
  const text = input.slice(0, SEARCH_LIMITS.maxQueryChars * 2).normalize('NFKC').replace(CONTROL, ' ');
  const seen = new Set<string>();
  for (const token of tokenize(text)) {
    if (!token.quoted && !token.negated && filter(q, token.text)) continue;
    const term = token.quoted ? phraseOf(token.text) : wordOf(token.text);
    if (!term) continue;
    const key = `${token.negated ? '-' : '+'}${term.kind}:${term.text.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (q.terms.length + q.excluded.length >= SEARCH_LIMITS.maxTerms) {
      q.dropped++;
      continue;
    }
    (token.negated ? q.excluded : q.terms).push(term);
  }
  return q;
}

/** Whether a query can be run: it must want something (a term or a filter), not only exclude. */
export function isRunnable(q: SearchQuery): boolean {
  return q.terms.length > 0 || q.rooms.length > 0 || q.from.length > 0 || q.hasLink || q.before !== undefined || q.after !== undefined;
}

/** Every word of a query's wanted terms, for highlighting (phrases split into their words). */
export function highlightWords(q: SearchQuery): string[] {
  const out = new Set<string>();
  for (const t of q.terms) for (const w of t.text.split(' ')) out.add(w);
  return [...out];
}
