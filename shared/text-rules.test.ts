import { describe, expect, it } from 'vitest';
import {
  NAME_MAX_CHARS,
  TEXT_MAX_CHARS,
  charLength,
  checkName,
  checkText,
  displayTag,
  errorCodeFor,
  normalizeName,
  normalizeText,
  type TextRejection,
} from './text-rules.ts';

type Row = [label: string, input: string, expected: string | TextRejection];

/** Runs a table: a string expectation is the accepted value, a reason is a refusal. */
function table(check: typeof checkName, rows: Row[]) {
  it.each(rows)('%s', (_label, input, expected) => {
    const r = check(input);
    if (r.ok) return expect(r.value).toBe(expected);
    expect(r.reason).toBe(expected);
    // A sentence for a person, which never repeats what was typed.
    expect(r.message).toMatch(/^[A-Z][^\n]+[a-z0-9]$/);
    expect(r.message).not.toContain(input.trim() || '\u0000');
  });
}

const REASONS: TextRejection[] = ['empty', 'blank', 'too_long', 'malformed', 'control', 'bidi', 'invisible', 'marks', 'unsupported'];

describe('checkName', () => {
  describe('accepts and normalises', () =>
    table(checkName, [
      ['plain ASCII', 'alice', 'alice'],
      ['trimmed', '  alice \t', 'alice'],
      ['NFD composed to NFC', 'Jose\u0301', 'Jos\u00e9'],
      ['no-break and ideographic spaces become one space', 'Ana\u00a0\u3000Lu', 'Ana Lu'],
      ['runs of spaces collapse', 'Ana   Lu', 'Ana Lu'],
      ['BOM at the edges is trimmed', '\ufeffalice\ufeff', 'alice'],
      ['accents, Greek, Cyrillic, CJK', 'Ζωή Ёжик 王小明', 'Ζωή Ёжик 王小明'],
      ['emoji', 'bob 🎉', 'bob 🎉'],
      ['emoji presentation (VS16)', 'love ❤\ufe0f', 'love ❤\ufe0f'],
      ['text presentation (VS15)', 'sun ☀\ufe0e', 'sun ☀\ufe0e'],
      ['keycap sequence', 'team #\ufe0f\u20e3 1\ufe0f\u20e3', 'team #\ufe0f\u20e3 1\ufe0f\u20e3'],
      ['family ZWJ sequence', 'the 👨\u200d👩\u200d👧', 'the 👨\u200d👩\u200d👧'],
      ['rainbow flag (VS16 then ZWJ)', '🏳\ufe0f\u200d🌈', '🏳\ufe0f\u200d🌈'],
      ['skin tone in a ZWJ sequence', 'dev 🧑🏽\u200d💻', 'dev 🧑🏽\u200d💻'],
      ['skin tone modifier', '👍🏿', '👍🏿'],
      ['country flag (regional indicators)', 'Ana 🇵🇹', 'Ana 🇵🇹'],
      ['subdivision flag (tag sequence)', '🏴\u{e0067}\u{e0062}\u{e0077}\u{e006c}\u{e0073}\u{e007f} Wyn', '🏴\u{e0067}\u{e0062}\u{e0077}\u{e006c}\u{e0073}\u{e007f} Wyn'],
      ['Persian with ZWNJ', 'می\u200cخواهم', 'می\u200cخواهم'],
      ['Devanagari half form with ZWJ after virama', 'क्\u200dष', 'क्\u200dष'],
      ['ideographic variation sequence', '葛\u{e0100}', '葛\u{e0100}'],
      ['Hebrew and Arabic letters', 'דנה سارا', 'דנה سارا'],
      ['four marks on one letter', 'bx\u0300\u0301\u0302\u0303', 'bx\u0300\u0301\u0302\u0303'],
      ['Vietnamese stacked accents (two marks)', 'Nguye\u0302\u0303n', 'Nguy\u1ec5n'],
      [`exactly ${NAME_MAX_CHARS} code points`, '😀'.repeat(NAME_MAX_CHARS), '😀'.repeat(NAME_MAX_CHARS)],
    ]));

  describe('refuses', () =>
    table(checkName, [
      ['empty', '', 'empty'],
      ['only spaces', ' \u00a0 \u3000 ', 'empty'],
      ['lone high surrogate', 'x\ud800y', 'malformed'],
      ['lone low surrogate', '\udc00bob', 'malformed'],
      ['reversed surrogate pair', '\ude00\ud83d', 'malformed'],
      ['NUL', 'a\u0000b', 'control'],
      ['newline', 'a\nb', 'control'],
      ['tab inside', 'a\tb', 'control'],
      ['DEL', 'a\u007fb', 'control'],
      ['C1 (NEL)', 'a\u0085b', 'control'],
      ['C1 (CSI)', 'a\u009bb', 'control'],
      ['line separator', 'a\u2028b', 'control'],
      ['paragraph separator', 'a\u2029b', 'control'],
      ['RLO (U+202E)', 'ann\u202eexe.txt', 'bidi'],
      ['LRE (U+202A)', '\u202aann', 'bidi'],
      ['PDF (U+202C)', 'ann\u202c', 'bidi'],
      ['RLI (U+2067)', 'ann\u2067x', 'bidi'],
      ['PDI (U+2069)', 'ann\u2069x', 'bidi'],
      ['FSI (U+2068)', 'ann\u2068x', 'bidi'],
      ['LRM (U+200E)', 'ann\u200e', 'bidi'],
      ['RLM (U+200F)', 'ann\u200fx', 'bidi'],
      ['ALM (U+061C)', 'ann\u061cx', 'bidi'],
      ['zero-width space', 'ali\u200bce', 'invisible'],
      ['word joiner', 'ali\u2060ce', 'invisible'],
      ['ZWNBSP inside', 'ali\ufeffce', 'invisible'],
      ['soft hyphen', 'ali\u00adce', 'invisible'],
      ['combining grapheme joiner', 'ali\u034fce', 'invisible'],
      ['ZWJ between Latin letters', 'ali\u200dce', 'invisible'],
      ['ZWNJ between Latin letters', 'ali\u200cce', 'invisible'],
      ['ZWJ at the end of an emoji', 'ok 👍\u200d', 'invisible'],
      ['ZWJ between an emoji and a letter', '👍\u200da', 'invisible'],
      ['Hangul filler inside', 'bob\u3164', 'invisible'],
      ['halfwidth Hangul filler inside', 'b\uffa0ob', 'invisible'],
      ['Hangul choseong filler inside', 'b\u115fob', 'invisible'],
      ['Mongolian vowel separator', 'b\u180eob', 'invisible'],
      ['braille blank inside', 'bo\u2800b', 'invisible'],
      ['musical null notehead inside', 'bo\u{1d159}b', 'invisible'],
      ['invisible times', 'a\u2062b', 'invisible'],
      ['Khmer inherent vowel', 'a\u17b4b', 'invisible'],
      ['interlinear annotation anchor', 'a\ufff9b', 'invisible'],
      ['VS16 after a letter', 'bob\ufe0f', 'invisible'],
      ['VS1 after a letter', 'bob\ufe00', 'invisible'],
      ['two selectors after an emoji', '❤\ufe0f\ufe0f', 'invisible'],
      ['VS16 after a digit with no keycap', 'bob1\ufe0f', 'invisible'],
      ['ideographic selector after a letter', 'bob\u{e0100}', 'invisible'],
      ['selector at the start', '\ufe0fbob', 'invisible'],
      ['tag characters hiding ASCII', 'bob\u{e0068}\u{e0069}', 'invisible'],
      ['tag run without CANCEL TAG', '🏴\u{e0067}\u{e0062}', 'invisible'],
      ['CANCEL TAG alone after the flag', '🏴\u{e007f}', 'invisible'],
      ['LANGUAGE TAG', 'bob\u{e0001}', 'invisible'],
      ['only a Hangul filler', '\u3164', 'blank'],
      ['only zero-width spaces', '\u200b\u200b', 'blank'],
      ['only braille blanks', '\u2800\u2800', 'blank'],
      ['only a Khitan filler', '\u{16fe4}', 'blank'],
      ['space, filler, space', ' \u3164 \u115f ', 'blank'],
      ['private use (a vendor logo)', 'apple \uf8ff', 'unsupported'],
      ['noncharacter', 'bob\ufdd0', 'unsupported'],
      ['noncharacter U+FFFF', 'bob\uffff', 'unsupported'],
      ['starts with a combining mark', '\u0301bob', 'marks'],
      ['five stacked marks', 'bx\u0300\u0301\u0302\u0303\u0304b', 'marks'],
      ['the same mark twice', 'bx\u0301\u0301b', 'marks'],
      [`${NAME_MAX_CHARS + 1} code points`, 'a'.repeat(NAME_MAX_CHARS + 1), 'too_long'],
      [`${NAME_MAX_CHARS + 1} emoji (surrogate pairs)`, '😀'.repeat(NAME_MAX_CHARS + 1), 'too_long'],
    ]));

  it('counts length after NFC: decomposed accents count once', () => {
    const composedLength = 'é'.repeat(NAME_MAX_CHARS);
    const r = checkName('e\u0301'.repeat(NAME_MAX_CHARS));
    expect(r).toEqual({ ok: true, value: composedLength });
  });

  it('gives a sentence for people with each refusal', () => {
    const r = checkName('ali\u200bce');
    expect(r).toEqual({ ok: false, reason: 'invisible', message: "Names can't contain invisible characters" });
  });
});

describe('checkText', () => {
  describe('accepts and normalises', () =>
    table(checkText, [
      ['plain', 'hello', 'hello'],
      ['trimmed', '\n  hello \t\n', 'hello'],
      ['newlines and tabs inside', 'a\n\tb', 'a\n\tb'],
      ['CRLF and CR become LF', 'a\r\nb\rc', 'a\nb\nc'],
      ['NFC', 'cafe\u0301', 'caf\u00e9'],
      ['LRM and RLM for right-to-left writers', 'שלום\u200f!', 'שלום\u200f!'],
      ['ALM', 'عدد\u061c 5', 'عدد\u061c 5'],
      ['family ZWJ sequence', 'hi 👨\u200d👩\u200d👧', 'hi 👨\u200d👩\u200d👧'],
      ['ZWNJ in Persian', 'می\u200cخواهم', 'می\u200cخواهم'],
      ['zero-width space between Thai words', 'สวัสดี\u200bครับ', 'สวัสดี\u200bครับ'],
      ['a single selector after a letter', 'x\ufe00', 'x\ufe00'],
      ['subdivision flag', 'go 🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}', 'go 🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}'],
      ['braille blank next to text', 'a\u2800b', 'a\u2800b'],
      ['private use next to text', 'logo \uf8ff', 'logo \uf8ff'],
      ['line separator inside', 'a\u2028b', 'a\u2028b'],
      ['a lone combining mark is visible', '\u0301', '\u0301'],
      [`exactly ${TEXT_MAX_CHARS} code points`, 'x'.repeat(TEXT_MAX_CHARS), 'x'.repeat(TEXT_MAX_CHARS)],
    ]));

  describe('refuses', () =>
    table(checkText, [
      ['empty', '', 'empty'],
      ['only whitespace', ' \n\t\r\n ', 'empty'],
      ['lone surrogate', 'x\ud800y', 'malformed'],
      ['lone low surrogate at the end', 'x\udfff', 'malformed'],
      ['NUL', 'a\u0000b', 'control'],
      ['bell', 'a\u0007b', 'control'],
      ['escape (terminal sequences)', 'a\u001b[31mb', 'control'],
      ['vertical tab', 'a\u000bb', 'control'],
      ['form feed', 'a\u000cb', 'control'],
      ['DEL', 'a\u007fb', 'control'],
      ['C1 (CSI)', 'a\u009bb', 'control'],
      ['RLO (Trojan Source)', 'access = "user\u202e \u2066// admin\u2069 \u2066"', 'bidi'],
      ['LRO', 'a\u202db', 'bidi'],
      ['RLE', 'a\u202bb', 'bidi'],
      ['LRI', 'a\u2066b', 'bidi'],
      ['PDI', 'a\u2069b', 'bidi'],
      ['PDF', 'a\u202cb', 'bidi'],
      ['tag characters hiding ASCII ("ASCII smuggling")', 'hi\u{e0069}\u{e0067}\u{e006e}', 'invisible'],
      ['a run of variation selectors hiding bytes', 'hi😀\u{e0101}\u{e0102}\u{e0103}', 'invisible'],
      ['a selector with nothing to vary', '\ufe0f hi', 'invisible'],
      ['a selector after a space', 'hi \ufe0f', 'invisible'],
      ['noncharacter', 'a\ufdefb', 'unsupported'],
      ['only zero-width spaces', '\u200b\u200b\u200b', 'blank'],
      ['only Hangul fillers', '\u3164\u3164', 'blank'],
      ['only braille blanks', '\u2800', 'blank'],
      ['only a musical null notehead', '\u{1d159}', 'blank'],
      ['only joiners and word joiners', '\u200d\u200c\u2060', 'blank'],
      ['only LRM', '\u200e', 'blank'],
      ['blank lines of fillers', '\u3164\n\u3164', 'blank'],
      [`${TEXT_MAX_CHARS + 1} code points`, 'x'.repeat(TEXT_MAX_CHARS + 1), 'too_long'],
      [`${TEXT_MAX_CHARS + 1} emoji`, '😀'.repeat(TEXT_MAX_CHARS + 1), 'too_long'],
    ]));

  it('acks exactly what is stored: the accepted value is already normal', () => {
    for (const input of ['cafe\u0301\r\n', ' 👨\u200d👩\u200d👧 ', 'שלום\u200f']) {
      const r = checkText(input);
      if (!r.ok) throw new Error(r.message);
      expect(normalizeText(r.value)).toBe(r.value);
      expect(checkText(r.value)).toEqual(r);
    }
  });

  it('gives a sentence for people with each refusal', () => {
    expect(checkText('x\ud800y')).toEqual({ ok: false, reason: 'malformed', message: "Your message has characters that can't be sent" });
  });
});

describe('errorCodeFor', () => {
  it.each(REASONS)('%s', (reason) => {
    expect(errorCodeFor(reason)).toBe(reason === 'too_long' ? 'too_large' : 'bad_request');
  });
});

describe('normalizeName and normalizeText', () => {
  it.each([
    ['Ana\u00a0\u00a0Lu ', 'Ana Lu'],
    ['\u3000王\u3000', '王'],
    ['A\u030a', '\u00c5'],
  ])('normalizeName(%j) is %j', (input, out) => expect(normalizeName(input)).toBe(out));

  it.each([
    ['a\r\n\r\nb', 'a\n\nb'],
    ['  two  spaces  ', 'two  spaces'],
    ['\u212b', '\u00c5'],
  ])('normalizeText(%j) is %j', (input, out) => expect(normalizeText(input)).toBe(out));

  it('counts code points, not UTF-16 units', () => {
    expect(charLength('a😀b')).toBe(3);
  });
});

describe('displayTag', () => {
  it.each([
    ['8f0e5c2a-7d3b-4e1f-9a6c-2b5d8e7f1a30'],
    ['00000000-0000-4000-8000-000000000000'],
    ['bot'],
    [''],
  ])('is four Crockford base32 characters and the same every time for %j', (id) => {
    const tag = displayTag(id);
    expect(tag).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(displayTag(id)).toBe(tag);
  });

  it('matches recorded values, so server and browsers agree across releases', () => {
    expect(
      ['8f0e5c2a-7d3b-4e1f-9a6c-2b5d8e7f1a30', '00000000-0000-4000-8000-000000000000', 'bot', ''].map(displayTag),
    ).toEqual(RECORDED);
  });

  it('tells apart ids that differ in one character, and spreads 10,000 ids over nearly 10,000 tags', () => {
    expect(displayTag('00000000-0000-4000-8000-000000000000')).not.toBe(displayTag('00000000-0000-4000-8000-000000000001'));
    const tags = new Set<string>();
    for (let i = 0; i < 10_000; i++) tags.add(displayTag(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`));
    // 10,000 random draws from 2^20 tags collide about 48 times.
    expect(tags.size).toBeGreaterThan(9_850);
  });
});

const RECORDED = ['QR9P', '3K5Z', '8AZD', 'B0ZW'];
