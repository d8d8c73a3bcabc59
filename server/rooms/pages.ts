/**
 * Pages of messages bounded by size as well as by count, so that no single
 * answer (a join, a history page, a REST read) can be large enough to fill a
 * connection's outbound budget or the server's memory: a page of long
 * messages simply holds fewer of them (LIMITS.pageMaxBytes).
 */
import { LIMITS, type Message } from '../../shared/protocol.ts';
import type { Store } from '../store/store.ts';

/** What a page is read from: the store, or a room's tail of it (tail-cache.ts) that answers the same. */
export type PageSource = Pick<Store, 'readAfter' | 'readBefore'>;

/**
 * What a message costs on the wire, approximately and cheaply: its text and
 * names as UTF-16 code units counted twice (an upper bound for the UTF-8 of
 * most scripts and emoji), plus the fixed fields of the JSON record.
 */
export function messageBytes(m: Message): number {
  return 2 * (m.text.length + m.author.length) + 160;
}

export function pageBytes(messages: readonly Message[]): number {
  let n = 0;
  for (const m of messages) n += messageBytes(m);
  return n;
}

/** The newest messages of an ascending list that fit in `maxBytes` (at least one). */
export function newestWithin(messages: Message[], maxBytes = LIMITS.pageMaxBytes): Message[] {
  let n = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    n += messageBytes(messages[i] as Message);
    if (n > maxBytes && i < messages.length - 1) return messages.slice(i + 1);
  }
  return messages;
}

/** The oldest messages of an ascending list that fit in `maxBytes` (at least one). */
export function oldestWithin(messages: Message[], maxBytes = LIMITS.pageMaxBytes): Message[] {
  let n = 0;
  for (let i = 0; i < messages.length; i++) {
    n += messageBytes(messages[i] as Message);
    if (n > maxBytes && i > 0) return messages.slice(0, i);
  }
  return messages;
}

/**
 * The first read of a page asks for this many entries; the rest of the page
 * is read only if they were small enough for more to fit. So a page of long
 * messages costs about what it returns, not `limit` full rows (a page of 200
 * messages of 16 KB would otherwise read 3 MB to answer 256 KiB).
 */
const PROBE = 25;

/** How many more entries like `probe` fit in `maxBytes` beside it (at least one, to make progress). */
function fitsMore(probe: readonly Message[], maxBytes: number): number {
  const bytes = pageBytes(probe);
  return Math.max(1, Math.floor((maxBytes - bytes) / Math.max(1, bytes / probe.length)) + 1);
}

/** Up to `limit` entries just below `before`, ascending, the newest that fit in `maxBytes`, as `viewer` sees them. */
export async function pageBefore(
  store: PageSource,
  name: string,
  before: number,
  limit: number,
  viewer?: string,
  maxBytes: number = LIMITS.pageMaxBytes,
): Promise<Message[]> {
  if (limit <= 0) return [];
  const first = await store.readBefore(name, before, Math.min(limit, PROBE), viewer);
  const oldest = first[0];
  if (oldest === undefined || first.length < Math.min(limit, PROBE) || limit <= PROBE || pageBytes(first) >= maxBytes) {
    return newestWithin(first, maxBytes);
  }
  const more = await store.readBefore(name, oldest.seq, Math.min(limit - first.length, fitsMore(first, maxBytes)), viewer);
  return newestWithin([...more, ...first], maxBytes);
}

/** Up to `limit` entries after `after`, ascending, the oldest that fit in `maxBytes`, as `viewer` sees them. */
export async function pageAfter(
  store: PageSource,
  name: string,
  after: number,
  limit: number,
  viewer?: string,
  maxBytes: number = LIMITS.pageMaxBytes,
): Promise<Message[]> {
  if (limit <= 0) return [];
  return oldestWithin(await readWithin(store, name, after, limit, maxBytes, viewer).then((r) => r.messages), maxBytes);
}

/** Where a history page lies: just below a seq, around one (it included), or just above one. */
export type PageRange = { before: number } | { around: number } | { after: number };

/**
 * The history page of `range`, ascending, within one page's bytes. Around a
 * seq, the page holds it and splits what is left of `limit` and of the bytes
 * between the entries just below it and those just above.
 */
export async function pageAt(store: PageSource, name: string, range: PageRange, limit: number, viewer?: string): Promise<Message[]> {
  if ('before' in range) return pageBefore(store, name, range.before, limit, viewer);
  if ('after' in range) return pageAfter(store, name, range.after, limit, viewer);
  const below = Math.ceil(limit / 2);
  const half = Math.floor(LIMITS.pageMaxBytes / 2);
  const older = await pageBefore(store, name, range.around + 1, below, viewer, half);
  const newer = await pageAfter(store, name, range.around, limit - below, viewer, half);
  return [...older, ...newer];
}

/** The range a history request names (the schema lets exactly one through). */
export function rangeOf(req: { before?: number | undefined; around?: number | undefined; after?: number | undefined }): PageRange {
  if (req.around !== undefined) return { around: req.around };
  if (req.after !== undefined) return { after: req.after };
  return { before: req.before ?? Number.MAX_SAFE_INTEGER };
}

/**
 * Up to `count` entries after `after`, read in steps, stopping once they
 * exceed `maxBytes`: `complete` says whether all of them were read within it.
 * A resume that would not fit is known without reading all of it.
 */
export async function readWithin(
  store: PageSource,
  name: string,
  after: number,
  count: number,
  maxBytes: number,
  viewer?: string,
): Promise<{ messages: Message[]; complete: boolean }> {
  const out: Message[] = [];
  let bytes = 0;
  let step = Math.min(count, PROBE);
  let from = after;
  while (out.length < count) {
    const batch = await store.readAfter(name, from, Math.min(step, count - out.length), viewer);
    out.push(...batch);
    bytes += pageBytes(batch);
    const last = batch.at(-1);
    if (bytes > maxBytes) return { messages: out, complete: false };
    if (last === undefined || batch.length < step) break;
    from = last.seq;
    step = Math.min(count - out.length, fitsMore(out, maxBytes));
  }
  return { messages: out, complete: true };
}
