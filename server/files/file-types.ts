/**
 * What an uploaded file is, decided from its bytes (never from what the
 * client says), and how it may be served so that no upload can run script
 * in the app's origin: only inert types are served as themselves, inline;
 * everything else is `application/octet-stream` as an attachment. Every
 * file response also forbids sniffing and sandboxes the document, so even
 * a browser that renders it runs nothing and reaches nothing.
 */
import { fileTypeFromBuffer } from 'file-type';

/** Types a browser shows without running anything: raster images, PDF, plain text, audio and video. */
const INLINE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'application/pdf',
  'text/plain',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/flac',
  'audio/aac',
  'audio/mp4',
  'video/mp4',
  'video/webm',
  'video/ogg',
]);

/** Raster images a thumbnail can be made of (not SVG: it is a document, and never shown inline). */
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

/** How many leading bytes the sniffing reads. */
export const SNIFF_BYTES = 4100;

/**
 * The type of a file from its first bytes: a format with a signature as
 * `file-type` knows it; else text (valid UTF-8 without NUL or other C0
 * controls but tab, newline, form feed and carriage return), as text/html
 * or image/svg+xml when it is markup a browser would render as a document
 * (both off the inline list: downloads), else text/plain; else
 * application/octet-stream.
 */
export async function sniffType(head: Uint8Array): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (found) return found.mime === 'application/xml' && /<svg[\s>/]/i.test(new TextDecoder().decode(head)) ? 'image/svg+xml' : found.mime;
  if (!looksLikeText(head)) return 'application/octet-stream';
  return markupType(new TextDecoder().decode(head)) ?? 'text/plain';
}

/** HTML or SVG, as a browser sniffing it would take it: the text opens with a tag it knows. */
function markupType(text: string): string | undefined {
  const start = text.replace(/^\uFEFF/, '').trimStart().slice(0, 1024).toLowerCase();
  if (!start.startsWith('<')) return undefined;
  if (/<svg[\s>/]/.test(start)) return 'image/svg+xml';
  if (/^<(!doctype html|html|head|body|script|iframe|!--|title|style|div|p|a|img|table|b|br|h1|font)[\s>/]/.test(start)) return 'text/html';
  return undefined;
}

function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return true;
  for (const b of head) if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f) return false;
  try {
    // A multi-byte character cut at the end of the head is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - trailingPartial(head)));
    return true;
  } catch {
    return false;
  }
}

/** Bytes at the end that start a UTF-8 sequence the head cut off (0 to 3). */
function trailingPartial(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

export function isInline(type: string): boolean {
  return INLINE.has(type);
}

export function isImage(type: string): boolean {
  return IMAGES.has(type);
}

/** A file name as stored and shown: no path, no control or bidi characters, at most 200 characters; never empty. */
export function cleanFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  return [...clean].slice(0, 200).join('') || 'file';
}

/** The headers of a file response: the stored type only when it is inert, always nosniff and a sandbox. */
export function fileHeaders(type: string, name: string, size: number): Record<string, string> {
  const inline = isInline(type);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return {
    'content-type': inline ? (type === 'text/plain' ? 'text/plain; charset=utf-8' : type) : 'application/octet-stream',
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    'content-length': String(size),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'private, no-cache',
  };
}
