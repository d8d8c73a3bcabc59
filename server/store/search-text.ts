/**
 * How a message's text becomes search tokens and a parsed query becomes
 * patterns over them: one rule for every store, so SQLite's FTS5 index and
 * the in-memory store find the same messages (a property test holds them
 * to it).
 *
 * Text is folded first: NFKC, lower case, Latin/Greek/Cyrillic diacritics
 * removed (`café` is `cafe`), nothing else (a Devanagari vowel sign is part
 * of its word). Words are split at white space and lose the punctuation at
 * their ends by the query grammar's own rule (`searchWord`), so a word keeps
 * what is inside it: `api.example.com`, `v2.0`, `2026-11-28` are one token
 * each. Every character that is not a letter or a digit is written as a
 * private-use escape, so the engine's tokenizer (which would split at
 * punctuation and drop marks and symbols) sees each word as exactly one
 * token; private-use characters in the text itself are read as spaces.
 *
 * A document has two columns:
 * - `words`: its words in order (phrases match here, position by position);
 * - `parts`: the pieces of words with punctuation inside (`example` finds
 *   `api.example.com`), and a marker when the text has a link.
 *
 * Scripts written without spaces (Han, Kana, Hangul, Thai, Lao, Khmer,
 * Myanmar) are indexed as overlapping pairs of characters plus the run's
 * last character: `東京都` is `東京 京都 都`. A query for `京都` is then the
 * phrase of its pairs, and a single character is a prefix (`京*`), which
 * finds every place it occurs, at any length of query.
 */
import { highlightWords, searchWord, type SearchQuery, type SearchTerm } from '../../shared/search-query.ts';

/** The token a document with a link carries in `parts` (no escaped word can look like it: escapes hold hex digits). */
export const LINK_TOKEN = '\uE000link\uE001';

const PRIVATE_USE = /[\uE000-\uF8FF]/gu;
const DIACRITICS = /[\u0300-\u036f]/gu;
const NO_SPACES = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const INNER_BREAK = /[^\p{L}\p{N}\p{M}]+/u;
/** What counts as a link for `has:link`: a web address, with its scheme or starting www. */
const LINK = /\b(?:https?:\/\/|www\.)\S/iu;

/** Case, compatibility forms and diacritics folded, as both the index and the query see text. */
export function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase().normalize('NFD').replace(DIACRITICS, '').normalize('NFC');
}

/** A word as one engine token: letters and digits as they are, anything else escaped. */
function escape(word: string): string {
  let out = '';
  for (const ch of word) out += LETTER_OR_DIGIT.test(ch) ? ch : `\uE000${(ch.codePointAt(0) as number).toString(16)}\uE001`;
  return out;
}

/**
 * The tokens of one folded word, in order. A query's run of two or more
 * characters without spaces is only its pairs (the index's extra last
 * character would not follow them where the run goes on).
 */
export function tokensOf(word: string, query = false): string[] {
  if (!NO_SPACES.test(word)) return [escape(word)];
  const out: string[] = [];
  let run: string[] = [];
  let other = '';
  const endRun = () => {
    for (let i = 0; i + 1 < run.length; i++) out.push(`${run[i]}${run[i + 1]}`);
    if (run.length === 1 || (run.length > 1 && !query)) out.push(run[run.length - 1] as string);
    run = [];
  };
  const endOther = () => {
    const w = searchWord(other);
    if (w !== undefined) out.push(escape(w));
    other = '';
  };
  for (const ch of word) {
    if (NO_SPACES.test(ch)) {
      endOther();
      run.push(ch);
    } else {
      endRun();
      other += ch;
    }
  }
  endRun();
  endOther();
  return out;
}

/** The pieces of a folded word with punctuation inside (none for a plain word or one in a script without spaces). */
function partsOf(word: string): string[] {
  if (NO_SPACES.test(word)) return [];
  const pieces = word.split(INNER_BREAK).filter((p) => LETTER_OR_DIGIT.test(p));
  return pieces.length > 1 ? [...new Set(pieces.map(escape))] : [];
}

/** A document's two columns, as token lists. */
export interface SearchDoc {
  words: string[];
  parts: string[];
}

/** What the index holds for a message's text. */
export function searchDoc(text: string): SearchDoc {
  const words: string[] = [];
  const parts: string[] = [];
  for (const raw of fold(text.replace(PRIVATE_USE, ' ')).split(/\s+/u)) {
    const w = searchWord(raw);
    if (w === undefined) continue;
    words.push(...tokensOf(w));
    parts.push(...partsOf(w));
  }
  if (LINK.test(text)) parts.push(LINK_TOKEN);
  return { words, parts };
}

/**
 * One thing a document must (or must not) contain: a single token in
 * either column (a prefix for one character of a script without spaces),
 * or a sequence of tokens in `words`.
 */
export interface Pattern {
  tokens: string[];
  /** `any`: a single token in `words` or `parts`; `words`: the tokens in a row in `words`; `parts`: in `parts`. */
  column: 'any' | 'words' | 'parts';
  prefix: boolean;
}

export interface CompiledSearch {
  want: Pattern[];
  not: Pattern[];
}

function patternOf(term: SearchTerm): Pattern | undefined {
  const tokens = term.text.split(' ').flatMap((w) => {
    const word = searchWord(fold(w).replace(PRIVATE_USE, ' ').trim());
    return word === undefined ? [] : tokensOf(word, true);
  });
  if (tokens.length === 0) return undefined;
  if (tokens.length > 1) return { tokens, column: 'words', prefix: false };
  const only = tokens[0] as string;
  return { tokens, column: 'any', prefix: [...only].length === 1 && NO_SPACES.test(only) };
}

/** A parsed query's words, phrases and `has:link` as patterns (filters by room, author and date are the store's). */
export function compileSearch(q: SearchQuery): CompiledSearch {
  const want = q.terms.flatMap((t) => patternOf(t) ?? []);
  if (q.hasLink) want.push({ tokens: [LINK_TOKEN], column: 'parts', prefix: false });
  return { want, not: q.excluded.flatMap((t) => patternOf(t) ?? []) };
}

// ----- SQLite FTS5 ---------------------------------------------------------------------------

/** A pattern in FTS5's query language; tokens never hold a double quote, so quoting them is safe. */
function fts5Pattern(p: Pattern): string {
  const quoted = `"${p.tokens.join(' ')}"${p.prefix ? ' *' : ''}`;
  return p.column === 'any' ? `{words parts} : ${quoted}` : `${p.column} : ${quoted}`;
}

/** The FTS5 MATCH expression of the wanted patterns, without exclusions; undefined when nothing is wanted. */
export function fts5Want(c: CompiledSearch): string | undefined {
  return c.want.length === 0 ? undefined : c.want.map((p) => `(${fts5Pattern(p)})`).join(' AND ');
}

/** The FTS5 MATCH expression any excluded pattern matches; undefined when none is excluded. */
export function fts5Not(c: CompiledSearch): string | undefined {
  return c.not.length === 0 ? undefined : c.not.map((p) => `(${fts5Pattern(p)})`).join(' OR ');
}

/** The whole MATCH expression when something is wanted: the wanted, minus the excluded. */
export function fts5Match(c: CompiledSearch): string | undefined {
  const want = fts5Want(c);
  const not = fts5Not(c);
  if (want === undefined) return undefined;
  return not === undefined ? want : `(${want}) NOT (${not})`;
}

// ----- matching in memory (the in-memory store, and the check of the others) -------------------

function contains(list: readonly string[], tokens: readonly string[], prefix: boolean): boolean {
  if (tokens.length === 1) {
    const t = tokens[0] as string;
    return prefix ? list.some((x) => x.startsWith(t)) : list.includes(t);
  }
  outer: for (let i = 0; i + tokens.length <= list.length; i++) {
    for (let k = 0; k < tokens.length; k++) if (list[i + k] !== tokens[k]) continue outer;
    return true;
  }
  return false;
}

function matchesPattern(doc: SearchDoc, p: Pattern): boolean {
  if (p.column === 'words') return contains(doc.words, p.tokens, p.prefix);
  if (p.column === 'parts') return contains(doc.parts, p.tokens, p.prefix);
  return contains(doc.words, p.tokens, p.prefix) || contains(doc.parts, p.tokens, p.prefix);
}

/** Whether a document matches: every wanted pattern, no excluded one. */
export function matchesDoc(c: CompiledSearch, doc: SearchDoc): boolean {
  return c.want.every((p) => matchesPattern(doc, p)) && !c.not.some((p) => matchesPattern(doc, p));
}

// ----- snippets --------------------------------------------------------------------------------

const isTrail = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** Characters of text a result's snippet shows at most (plus an ellipsis at each cut end). */
export const SNIPPET_CHARS = 200;

export interface Snippet {
  /** Plain text: a window of the message around its first match. */
  snippet: string;
  /** [start, end) offsets (UTF-16) into `snippet` of the matched words, ascending and disjoint. */
  highlights: Array<[number, number]>;
}

/**
 * The message's text around what matched, with the ranges to highlight.
 * Ranges, not markup: the client marks them up itself and never renders
 * HTML from the store.
 */
export function snippetOf(text: string, q: SearchQuery): Snippet {
  // Fold code point by code point, remembering where each folded character came from.
  let folded = '';
  const from: number[] = [];
  let i = 0;
  for (const ch of text) {
    const f = fold(ch);
    for (let k = 0; k < f.length; k++) from.push(i);
    folded += f;
    i += ch.length;
  }
  from.push(text.length);
  const ranges: Array<[number, number]> = [];
  for (const word of highlightWords(q)) {
    const w = fold(word);
    if (w.length === 0) continue;
    const spaced = !NO_SPACES.test(w);
    for (let at = folded.indexOf(w); at !== -1; at = folded.indexOf(w, at + 1)) {
      const before = folded[at - 1];
      const after = folded[at + w.length];
      if (spaced && ((before !== undefined && LETTER_OR_DIGIT.test(before)) || (after !== undefined && LETTER_OR_DIGIT.test(after)))) continue;
      ranges.push([from[at] as number, from[at + w.length] as number]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  if (text.length <= SNIPPET_CHARS) return { snippet: text, highlights: merged };
  const first = merged[0]?.[0] ?? 0;
  let start = Math.max(0, Math.min(first - 60, text.length - SNIPPET_CHARS));
  // Never cut a surrogate pair.
  if (start > 0 && isTrail(text.charCodeAt(start))) start--;
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length && isTrail(text.charCodeAt(end))) end++;
  const lead = start > 0 ? '…' : '';
  const snippet = `${lead}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
  const shift = lead.length - start;
  const highlights = merged
    .filter(([a, b]) => a >= start && b <= end)
    .map(([a, b]): [number, number] => [a + shift, b + shift]);
  return { snippet, highlights };
}
