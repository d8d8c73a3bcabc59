/**
 * What a display name and a message text may contain, decided once for the
 * server and the browser. Each check normalises first (NFC, then trim), so the
 * string a check accepts is exactly the one that is stored, acked and
 * broadcast; and each refusal is a closed reason plus a sentence to show the
 * person who typed it.
 *
 * Names are held to a stricter rule than texts: a name is the one thing
 * another user can imitate, so nothing in it may be invisible or reorder the
 * text around it. Texts keep what real writing needs (zero-width joiners and
 * non-joiners in Persian and Indic scripts, zero-width spaces in Thai, LRM and
 * RLM for right-to-left writers) and lose only what makes a message display
 * differently from what it contains.
 *
 * Pure: no I/O, no dependencies, the same answer in Node and in a browser
 * (both need `String.prototype.isWellFormed`: Node 20, Chromium 111,
 * Firefox 119, Safari 16.4).
 */

/** Longest display name, in code points after NFC. */
export const NAME_MAX_CHARS = 32;
/** Longest message text, in code points after NFC. */
export const TEXT_MAX_CHARS = 4000;
/** More combining marks than this on one letter are refused in names (Unicode UTS #39, section 5.4). */
export const NAME_MAX_MARKS = 4;

/** Why a name or a text was refused. */
export type TextRejection =
  /** Nothing left after trimming. */
  | 'empty'
  /** Only whitespace and characters that render as nothing. */
  | 'blank'
  /** Longer than the limit (code points, after NFC). */
  | 'too_long'
  /** A lone UTF-16 surrogate: not text at all, and stored differently from how it is sent. */
  | 'malformed'
  /** C0 or C1 controls, DEL, line or paragraph separators in names. */
  | 'control'
  /** Bidirectional controls that reorder what is displayed (Trojan Source, CVE-2021-42574). */
  | 'bidi'
  /** Characters that render as nothing where they stand. */
  | 'invisible'
  /** A name starting with a combining mark, or stacking marks on one letter. */
  | 'marks'
  /** Private-use characters (names) and noncharacters: not every device shows them. */
  | 'unsupported';

export type TextCheck = { ok: true; value: string } | { ok: false; reason: TextRejection; message: string };

const NAME_MESSAGES: Record<TextRejection, string> = {
  empty: 'Enter a name',
  blank: 'Names need at least one visible character',
  too_long: `Names can be at most ${NAME_MAX_CHARS} characters`,
  malformed: "Your name has characters that can't be used",
  control: "Names can't contain control characters",
  bidi: "Names can't contain text-direction controls",
  invisible: "Names can't contain invisible characters",
  marks: `Names can't start with an accent or stack more than ${NAME_MAX_MARKS} on one letter`,
  unsupported: "Names can't contain characters that not every device can show",
};

const TEXT_MESSAGES: Record<TextRejection, string> = {
  empty: 'Type a message first',
  blank: 'Your message has no visible characters',
  too_long: `Messages can be at most ${TEXT_MAX_CHARS} characters`,
  malformed: "Your message has characters that can't be sent",
  control: "Your message has control characters that can't be sent",
  bidi: "Your message has text-direction controls that can't be sent",
  invisible: "Your message has hidden characters that can't be sent",
  marks: "Your message has characters that can't be sent",
  unsupported: "Your message has characters that can't be sent",
};

/** The protocol error code a refusal is answered with: only an over-long text is `too_large`. */
export function errorCodeFor(reason: TextRejection): 'bad_request' | 'too_large' {
  return reason === 'too_long' ? 'too_large' : 'bad_request';
}

/** Counts code points, the way the limits are stated. */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// ES2024's String.prototype.isWellFormed, typed here because the project's lib is ES2023.
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

// ---------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------

/** Strings made only of these need no further look (the common case). */
const PLAIN_NAME = /^[\x20-\x7e]*$/;
const PLAIN_TEXT = /^[\x20-\x7e\n\t]*$/;

/**
 * Characters that render as nothing on their own: whitespace, the default
 * ignorables (zero-width characters, joiners, variation selectors, tags,
 * Hangul fillers, U+180E, U+FEFF…), controls, and the blanks that are none
 * of those but are used to fake empty names (U+2800 braille blank, U+1D159
 * musical null notehead, U+16FE4 Khitan filler, U+FFF9–U+FFFB annotation
 * controls). See the "invisible characters" lists used against impersonation.
 */
// U+16FE4 is a combining mark listed on its own on purpose, not a base plus a mark.
// eslint-disable-next-line no-misleading-character-class
const BLANK_ONLY = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\u2800\u{1D159}\u{16FE4}\uFFF9-\uFFFB]*$/u;

/** Characters that need a decision; everything else is accepted as is. */
const SPECIAL =
  // eslint-disable-next-line no-misleading-character-class
  /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u2800\u{1D159}\u{16FE4}]/gu;

const LRM = 0x200e;
const RLM = 0x200f;
const ALM = 0x061c;
const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const VS15 = 0xfe0e;
const VS16 = 0xfe0f;
const KEYCAP = 0x20e3;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;

/** Embeddings, overrides and isolates (LRE…RLO, LRI…PDI): they reorder what follows them. */
const isBidiControl = (cp: number) => (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
const isVariationSelector = (cp: number) =>
  (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x180b && cp <= 0x180d) || cp === 0x180f;
const isTag = (cp: number) => cp >= 0xe0000 && cp <= 0xe007f;
const isTagSpec = (cp: number) => cp >= 0xe0020 && cp <= 0xe007e;
const isSkinTone = (cp: number) => cp >= 0x1f3fb && cp <= 0x1f3ff;

const matches = (re: RegExp, cp: number | undefined) => cp !== undefined && re.test(String.fromCodePoint(cp));
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
const IGNORABLE_OR_SPACE = /^[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Cc}\p{M}]$/u;
const HAN = /^\p{scx=Han}$/u;
const MONGOLIAN = /^\p{scx=Mongolian}$/u;
const CC = /^\p{Cc}$/u;
const CO = /^\p{Co}$/u;
const ZL_ZP = /^[\p{Zl}\p{Zp}]$/u;
const NONCHARACTER = /^\p{Noncharacter_Code_Point}$/u;

/**
 * Scripts whose writers need ZWNJ or ZWJ between two letters: Arabic-script
 * Persian ("می‌خواهم"), Syriac, N'Ko, Mongolian, and the Brahmic scripts where
 * a joiner after a virama selects a conjunct or half form. This follows the
 * spirit of IDNA's CONTEXTJ rules (RFC 5892, appendix A.1 and A.2).
 */
const JOINING_SCRIPTS = [
  'Arabic',
  'Syriac',
  'Nko',
  'Mongolian',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Khmer',
  'Myanmar',
].map((sc) => new RegExp(`^[\\p{scx=${sc}}]$`, 'u'));

// ---------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------

/** The code point that ends just before UTF-16 index `i`. */
function before(s: string, i: number): number | undefined {
  if (i <= 0) return undefined;
  const low = s.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const cp = s.codePointAt(i - 2);
    if (cp !== undefined && cp > 0xffff) return cp;
  }
  return s.codePointAt(i - 1);
}

const width = (cp: number) => (cp > 0xffff ? 2 : 1);

/**
 * True when the ZWJ at `i` sits inside an emoji ZWJ sequence (UTS #51): an
 * emoji, optionally with its presentation selector or skin tone, on the left,
 * and an emoji on the right (👨‍👩‍👧, 🏳️‍🌈, 🧑🏽‍💻).
 */
function inEmojiZwj(s: string, i: number): boolean {
  let j = i;
  let left = before(s, j);
  while (left !== undefined && (left === VS16 || isSkinTone(left))) {
    j -= width(left);
    left = before(s, j);
  }
  return matches(PICTOGRAPHIC, left) && matches(PICTOGRAPHIC, s.codePointAt(i + 1));
}

/** True when the joiner at `i` stands between two characters of one script that needs joiners. */
function inJoiningScript(s: string, i: number): boolean {
  const left = before(s, i);
  const right = s.codePointAt(i + 1);
  if (left === undefined || right === undefined) return false;
  const l = String.fromCodePoint(left);
  const r = String.fromCodePoint(right);
  return JOINING_SCRIPTS.some((re) => re.test(l) && re.test(r));
}

/**
 * Checks the run of tag characters around index `i`: the only legitimate use
 * of tags is an emoji tag sequence (🏴 + tag letters + CANCEL TAG, the flags
 * of England, Scotland, Wales). Anywhere else they are invisible ASCII that a
 * reader never sees ("ASCII smuggling"). Returns the index after the run when
 * it is valid, or -1.
 */
function tagRunEnd(s: string, i: number): number {
  if (before(s, i) !== BLACK_FLAG) return -1;
  let j = i;
  let specs = 0;
  for (;;) {
    const cp = s.codePointAt(j);
    if (cp === undefined || !isTag(cp)) return -1;
    j += width(cp);
    if (cp === CANCEL_TAG) return specs > 0 ? j : -1;
    if (!isTagSpec(cp)) return -1;
    specs++;
  }
}

/**
 * A variation selector is accepted when it directly follows a character it
 * can vary, and only one: runs of selectors carry hidden data.
 * - names: VS15/VS16 after an emoji (or after 0-9 # * starting a keycap),
 *   ideographic variation selectors after a Han character, Mongolian free
 *   variation selectors after a Mongolian letter;
 * - texts: one selector after any visible character.
 */
function variationAllowed(s: string, i: number, cp: number, forName: boolean): boolean {
  const base = before(s, i);
  if (base === undefined || isVariationSelector(base) || matches(IGNORABLE_OR_SPACE, base)) return false;
  if (!forName) return true;
  if (cp === VS15 || cp === VS16) {
    if (matches(PICTOGRAPHIC, base)) return true;
    const isKeycapBase = (base >= 0x30 && base <= 0x39) || base === 0x23 || base === 0x2a;
    return isKeycapBase && s.codePointAt(i + 1) === KEYCAP;
  }
  if (cp >= 0xe0100) return matches(HAN, base);
  if (cp >= 0x180b && cp <= 0x180f) return matches(MONGOLIAN, base);
  return false;
}

/**
 * Finds the first refused character of an NFC-normalised, well-formed
 * string. Only the special characters are looked at, one by one with their
 * neighbours, so ordinary text costs one regular-expression scan.
 */
function firstRefusal(s: string, forName: boolean): TextRejection | undefined {
  SPECIAL.lastIndex = 0;
  for (let m = SPECIAL.exec(s); m !== null; m = SPECIAL.exec(s)) {
    const i = m.index;
    const cp = s.codePointAt(i) as number;
    if (matches(CC, cp)) {
      if (!forName && (cp === 0x0a || cp === 0x09)) continue;
      return 'control';
    }
    if (isBidiControl(cp)) return 'bidi';
    if (cp === LRM || cp === RLM || cp === ALM) {
      if (forName) return 'bidi';
      continue;
    }
    if (matches(NONCHARACTER, cp)) return 'unsupported';
    if (matches(CO, cp)) {
      if (forName) return 'unsupported';
      continue;
    }
    if (matches(ZL_ZP, cp)) {
      if (forName) return 'control';
      continue;
    }
    if (isTag(cp)) {
      const end = tagRunEnd(s, i);
      if (end < 0) return 'invisible';
      SPECIAL.lastIndex = end;
      continue;
    }
    if (isVariationSelector(cp)) {
      if (!variationAllowed(s, i, cp, forName)) return 'invisible';
      continue;
    }
    if (!forName) continue;
    // Names: nothing invisible, except a joiner that real writing needs.
    if (cp === ZWJ && (inEmojiZwj(s, i) || inJoiningScript(s, i))) continue;
    if (cp === ZWNJ && inJoiningScript(s, i)) continue;
    return 'invisible';
  }
  return undefined;
}

/** Combining-mark rules for names: none at the start, at most NAME_MAX_MARKS in a row, no mark twice in a row. */
const LEADING_MARK = /^\p{M}/u;
const MARK_STACK = new RegExp(`[\\p{Mn}\\p{Me}]{${NAME_MAX_MARKS + 1},}`, 'u');
const REPEATED_MARK = /([\p{Mn}\p{Me}])\1/u;

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/**
 * NFC, every run of spaces (U+0020, no-break, ideographic, en/em… spaces)
 * made one U+0020, then trimmed: "alice", " alice" and "alice\u00a0" are one
 * name. Does not validate; `checkName` does.
 */
export function normalizeName(s: string): string {
  return s.normalize('NFC').replace(/\p{Zs}+/gu, ' ').trim();
}

/** Normalises a display name and decides whether it may be used. */
export function checkName(raw: string): TextCheck {
  const refuse = (reason: TextRejection): TextCheck => ({ ok: false, reason, message: NAME_MESSAGES[reason] });
  if (!isWellFormed(raw)) return refuse('malformed');
  const s = normalizeName(raw);
  if (s.length === 0) return refuse('empty');
  // A code point is at most two UTF-16 units: past twice the limit the answer
  // is known without looking at each character (a 64 KiB body costs nothing).
  if (s.length > 2 * NAME_MAX_CHARS) return refuse('too_long');
  if (!PLAIN_NAME.test(s)) {
    const refusal = firstRefusal(s, true);
    // Every blank character is refused in a name, so an all-blank name fails
    // here too; it is told so in its own words.
    if (refusal === 'invisible' && BLANK_ONLY.test(s)) return refuse('blank');
    if (refusal) return refuse(refusal);
    if (LEADING_MARK.test(s) || MARK_STACK.test(s) || REPEATED_MARK.test(s)) return refuse('marks');
  }
  if (charLength(s) > NAME_MAX_CHARS) return refuse('too_long');
  return { ok: true, value: s };
}

// ---------------------------------------------------------------------------
// Message texts
// ---------------------------------------------------------------------------

/**
 * NFC, line endings made "\n" (a bot's "\r\n" and a textarea's "\n" store the
 * same), then trimmed. Does not validate; `checkText` does.
 */
export function normalizeText(s: string): string {
  return s.normalize('NFC').replace(/\r\n?/g, '\n').trim();
}

/** Normalises a message text and decides whether it may be sent. */
export function checkText(raw: string): TextCheck {
  const refuse = (reason: TextRejection): TextCheck => ({ ok: false, reason, message: TEXT_MESSAGES[reason] });
  if (!isWellFormed(raw)) return refuse('malformed');
  const s = normalizeText(raw);
  if (s.length === 0) return refuse('empty');
  if (s.length > 2 * TEXT_MAX_CHARS) return refuse('too_long');
  if (!PLAIN_TEXT.test(s)) {
    const refusal = firstRefusal(s, false);
    if (refusal) return refuse(refusal);
    if (BLANK_ONLY.test(s)) return refuse('blank');
  }
  if (charLength(s) > TEXT_MAX_CHARS) return refuse('too_long');
  return { ok: true, value: s };
}

// ---------------------------------------------------------------------------
// Telling two people with one name apart
// ---------------------------------------------------------------------------

/** Crockford's base32: no I, L, O or U, so a tag is never misread and rarely spells a word. */
const TAG_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A short, stable discriminator for a user id (four characters, 20 bits),
 * shown next to a display name so two "alice"s look different. The same id
 * gives the same tag on the server and in every browser.
 *
 * It tells people apart; it does not authenticate. Someone who creates
 * sessions until a tag repeats (about a million tries for one given tag)
 * gets a look-alike; the userId stays the identity.
 */
export function displayTag(userId: string): string {
  // FNV-1a over UTF-16 code units, then MurmurHash3's finaliser so every
  // input bit moves the 20 bits kept.
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  let tag = '';
  for (let k = 0; k < 4; k++) {
    tag += TAG_ALPHABET[(h >>> (5 * k)) & 31];
  }
  return tag;
}
