import { describe, expect, it } from 'vitest';
import { cleanFileName, fileHeaders, isImage, isInline, sniffType } from './file-types.ts';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR', [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF', [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const GIF = bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0]);
const PDF = bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n');
const ZIP = bytes([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0], 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
const ELF = bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describe('the type comes from the bytes', () => {
  it.each([
    ['PNG', PNG, 'image/png'],
    ['JPEG', JPEG, 'image/jpeg'],
    ['GIF', GIF, 'image/gif'],
    ['PDF', PDF, 'application/pdf'],
    ['plain text', bytes('a log line\n\tindented\r\n'), 'text/plain'],
    ['UTF-8 text cut inside a character', Buffer.from('会议记录').subarray(0, 10), 'text/plain'],
    ['a ZIP', ZIP, 'application/zip'],
    ['an ELF binary', ELF, 'application/x-elf'],
    ['bytes with NUL', bytes([0x41, 0, 0x42]), 'application/octet-stream'],
    ['invalid UTF-8', bytes([0x41, 0xff, 0xfe, 0x42]), 'application/octet-stream'],
  ])('%s', async (_, head, type) => {
    expect(await sniffType(head)).toBe(type);
  });

  it('markup is never a document of ours: HTML and SVG are typed as what they are and served as attachments, never inline', async () => {
    for (const [markup, type] of [
      ['<!doctype html><script>alert(1)</script>', 'text/html'],
      ['\uFEFF  <HTML><body onload="alert(1)">', 'text/html'],
      ['<script>alert(1)</script>', 'text/html'],
      ['<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'image/svg+xml'],
      ['<?xml version="1.0"?><svg/>', 'image/svg+xml'],
      ['<?xml version="1.0"?><note/>', 'application/xml'],
    ] as const) {
      expect(await sniffType(Buffer.from(markup))).toBe(type);
      const headers = fileHeaders(type, 'x.svg', markup.length);
      expect(headers['content-type']).toBe('application/octet-stream');
      expect(headers['content-disposition']).toMatch(/^attachment;/);
    }
    // Text that merely mentions a tag is text.
    expect(await sniffType(Buffer.from('use <b> for bold'))).toBe('text/plain');
  });
});

describe('serving', () => {
  it('inert types inline as themselves; everything else as a download of bytes; always nosniff and a sandbox', () => {
    expect(fileHeaders('image/png', 'shot.png', 10)).toMatchObject({
      'content-type': 'image/png',
      'content-disposition': `inline; filename="shot.png"; filename*=UTF-8''shot.png`,
      'content-length': '10',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
    });
    expect(fileHeaders('text/plain', 'a.txt', 1)['content-type']).toBe('text/plain; charset=utf-8');
    for (const type of ['text/html', 'image/svg+xml', 'application/zip', 'application/x-elf', 'application/javascript', 'application/octet-stream']) {
      const h = fileHeaders(type, 'f', 1);
      expect({ type, ct: h['content-type'], cd: h['content-disposition']?.split(';')[0], nosniff: h['x-content-type-options'] }).toEqual({
        type,
        ct: 'application/octet-stream',
        cd: 'attachment',
        nosniff: 'nosniff',
      });
    }
    expect(isInline('image/svg+xml')).toBe(false);
    expect(isImage('image/webp')).toBe(true);
    expect(isImage('image/svg+xml')).toBe(false);
  });

  it('names are safe in the header: quotes, non-ASCII and separators cannot break out', () => {
    const h = fileHeaders('application/pdf', 'Q3 "plan" – café.pdf', 1);
    expect(h['content-disposition']).toBe(`inline; filename="Q3 _plan_ _ caf_.pdf"; filename*=UTF-8''Q3%20%22plan%22%20%E2%80%93%20caf%C3%A9.pdf`);
  });

  it('file names lose paths, controls and bidi overrides, and are never empty', () => {
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('C:\\\\Users\\\\me\\\\report.pdf')).toBe('report.pdf');
    expect(cleanFileName('invoice\u202egpj.exe')).toBe('invoicegpj.exe');
    expect(cleanFileName('a\u0000b\nc.txt')).toBe('abc.txt');
    expect(cleanFileName('...hidden')).toBe('hidden');
    expect(cleanFileName('')).toBe('file');
    expect(cleanFileName('/')).toBe('file');
    expect([...cleanFileName('x'.repeat(500))]).toHaveLength(200);
  });
});
