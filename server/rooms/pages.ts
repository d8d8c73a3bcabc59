/**
 * Pages of messages bounded by size as well as by count, so that no single
 * answer (a join, a history page, a REST read) can be large enough to fill a
 * connection's outbound budget or the server's memory: a page of long
 * messages simply holds fewer of them (LIMITS.pageMaxBytes).
 */
import { LIMITS, type Message } from '../../shared/protocol.ts';
import type { Store } from '../store/store.ts';

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

/** Up to `limit` entries just below `before`, ascending, the newest that fit in a page, as `viewer` sees them. */
export async function pageBefore(store: Store, room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
  return newestWithin(await store.readBefore(room, before, limit, viewer));
}

/** Up to `limit` entries after `after`, ascending, the oldest that fit in a page, as `viewer` sees them. */
export async function pageAfter(store: Store, room: string, after: number, limit: number, viewer?: string): Promise<Message[]> {
  return oldestWithin(await store.readAfter(room, after, limit, viewer));
}
