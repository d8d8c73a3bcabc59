/**
 * The Markdown subset messages are written in, as rules a parser follows
 * rather than a filter after it: constructs a chat does not want are not
 * parsed at all, so their characters stay plain text (a line starting with
 * `#` is not a heading, `<b>` is not HTML), and only http, https and mailto
 * URLs may become links.
 */
/**
 * micromark constructs left out (by their names in micromark and its GFM
 * extensions): headings, thematic breaks, raw HTML, indented code (only
 * fenced blocks are code), images, link reference definitions, tables,
 * footnotes and task list checkboxes.
 */
export const DISABLED_CONSTRUCTS = [
  'headingAtx',
  'setextUnderline',
  'thematicBreak',
  'htmlFlow',
  'htmlText',
  'codeIndented',
  'labelStartImage',
  'definition',
  'table',
  'gfmFootnoteDefinition',
  'gfmFootnoteCall',
  'gfmPotentialFootnoteCall',
  'tasklistCheck',
];

/** A remark plugin: the chat's subset, by switching the other constructs off in the parser. */
export function chatMarkdown(this: unknown): void {
  // `this` is unified's processor; its data carries the parser's extensions.
  const data = (this as { data(): { micromarkExtensions?: unknown[] } }).data();
  (data.micromarkExtensions ??= []).push({ disable: { null: DISABLED_CONSTRUCTS } });
}

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * The URL a link may carry, or null (no link, only its text): absolute
 * http, https and mailto URLs only. `javascript:`, `data:`, `vbscript:`,
 * relative paths and anything the URL parser rejects never become links.
 */
export function safeUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!LINK_PROTOCOLS.has(parsed.protocol)) return null;
  return parsed.href;
}
