/**
 * What the conversation view shows: the room's messages by seq, then the
 * user's unsent messages, each marked own/sending/sent/failed and grouped
 * with its neighbours by author. Pure, so grouping and de-duplication are
 * tested without a DOM.
 */
import type { Message, User } from '../../../shared/protocol.ts';
import { nameTagger, usersInView, type TagOf } from './name-tags.ts';
import type { OutboxEntry } from './outbox.ts';
import type { RoomState } from './room-log.ts';

/** Messages by one author closer together than this share one header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

export type DeliveryState = 'sending' | 'sent' | 'failed';

export interface ChatItem {
  /** Stable across the sending → sent change, so the row is not re-created. */
  key: string;
  /** Absent while the message is only local. */
  seq: number | null;
  clientId: string | null;
  author: string;
  authorId: string;
  /**
   * `displayTag(authorId)` when another user in view (present, typing, or
   * author of a loaded message) has a name that reads the same; else null.
   */
  tag: string | null;
  text: string;
  /** Server time, or the local time it was typed while unsent. */
  ts: number;
  /** Written by this user's own userId (never by name: another user may share it). */
  own: boolean;
  /** Only for the user's own messages. */
  delivery: DeliveryState | null;
  error: string | null;
  /** First of a run by the same author: shows the author and time header. */
  groupStart: boolean;
}

function keyOf(authorId: string, clientId: string | undefined, id: string): string {
  return clientId !== undefined ? `c:${authorId}:${clientId}` : `m:${id}`;
}

/** Builds the rows of a room for the user `me` (null when signed out). */
export function buildItems(room: RoomState, outbox: readonly OutboxEntry[], me: User | null): ChatItem[] {
  const items: ChatItem[] = [];
  const inLog = new Set<string>();
  const tagOf = nameTagger(usersInView(room, me));
  for (const m of room.messages) {
    const own = me !== null && m.authorId === me.userId;
    if (own && m.clientId !== undefined) inLog.add(m.clientId);
    items.push(fromMessage(m, own, tagOf));
  }
  for (const e of outbox) {
    if (e.room !== room.name || inLog.has(e.clientId)) continue;
    items.push(fromEntry(e, me, tagOf));
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as ChatItem;
    const prev = items[i - 1];
    item.groupStart = prev === undefined || prev.authorId !== item.authorId || item.ts - prev.ts > GROUP_WINDOW_MS;
  }
  return items;
}

function fromMessage(m: Message, own: boolean, tagOf: TagOf): ChatItem {
  return {
    key: keyOf(m.authorId, m.clientId, m.id),
    seq: m.seq,
    clientId: m.clientId ?? null,
    author: m.author,
    authorId: m.authorId,
    tag: tagOf({ userId: m.authorId, name: m.author }),
    text: m.text,
    ts: m.ts,
    own,
    delivery: own ? 'sent' : null,
    error: null,
    groupStart: true,
  };
}

function fromEntry(e: OutboxEntry, me: User | null, tagOf: TagOf): ChatItem {
  const authorId = me?.userId ?? '';
  return {
    key: keyOf(authorId, e.clientId, e.clientId),
    seq: null,
    clientId: e.clientId,
    author: me?.name ?? '',
    authorId,
    tag: me ? tagOf(me) : null,
    text: e.text,
    ts: e.createdAt,
    own: true,
    delivery: e.state,
    error: e.error,
    groupStart: true,
  };
}

/**
 * Virtuoso's `firstItemIndex`: it must drop by exactly the number of rows
 * prepended. Seqs are gap-free, so "first seq − 1" does that; a replaced
 * list gets a new generation and a fresh list instead.
 */
export function firstItemIndex(room: RoomState): number {
  const first = room.messages[0]?.seq ?? room.lastSeq + 1;
  return Math.max(0, first - 1);
}
