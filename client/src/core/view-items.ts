/**
 * What the conversation view shows: the room's messages by seq, then the
 * user's unsent messages, each marked own/sending/sent/failed and grouped
 * with its neighbours by author, with what may be done to it (edit, delete),
 * its reactions as the reader sees them and the original it replies to.
 * Pure, so grouping, de-duplication and permissions are tested without a DOM.
 */
import type { Attachment, ModNote, User } from '../../../shared/protocol.ts';
import { indexOfSeq, snippet, type HeldMessage, type HeldReaction } from './log-entries.ts';
import { nameTagger, usersInView, type TagOf } from './name-tags.ts';
import type { OutboxEntry } from './outbox.ts';
import type { RoomInfo } from './room-info.ts';
import type { RoomState } from './room-log.ts';

/** Messages by one author closer together than this share one header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

export type DeliveryState = 'sending' | 'sent' | 'failed';

/** A reaction as one reader sees it. */
export interface ReactionView {
  emoji: string;
  count: number;
  /** Whether the reader is among those who reacted. */
  mine: boolean;
  /** Who reacted, as far as known (a page lists the first few). */
  names: string[];
  /** For the tooltip and the accessible name: "👍 2: alice, bob; you reacted". */
  label: string;
}

/** The message a reply answers, as it is now. */
export interface ReplyView {
  seq: number;
  author: string;
  tag: string | null;
  /** A snippet of its text; empty when deleted or unknown. */
  text: string;
  deleted: boolean;
  /** Nothing is known of it yet (neither held nor previewed). */
  unknown: boolean;
}

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
  /** A tombstone: the message was deleted, its text is gone. */
  deleted: boolean;
  /** When it was last edited, if ever. */
  editedAt: number | null;
  reactions: readonly ReactionView[];
  reply: ReplyView | null;
  /** The files it carries (none once deleted). */
  attachments: readonly Attachment[];
  /** Only the author edits, and only a stored message that still exists. */
  canEdit: boolean;
  /** The author, or the room's owner, deletes a stored message that still exists. */
  canDelete: boolean;
  /** Stored and not deleted: it can be answered and reacted to. */
  canRespond: boolean;
  /** A line of the log saying what a moderator did (a role change, a mute, a ban…), not a message. Since 2.7. */
  system: ModNote | null;
  /** A tombstone of a message a moderator removed. */
  removedByModerator: boolean;
}

function keyOf(authorId: string, clientId: string | undefined, id: string): string {
  return clientId !== undefined ? `c:${authorId}:${clientId}` : `m:${id}`;
}

/**
 * Builds the rows of a room for the user `me` (null when signed out); `info`
 * names the room's owner, who may delete anyone's message.
 */
export function buildItems(room: RoomState, outbox: readonly OutboxEntry[], me: User | null, info?: RoomInfo): ChatItem[] {
  const items: ChatItem[] = [];
  const inLog = new Set<string>();
  const tagOf = nameTagger(usersInView(room, me));
  const ctx: Context = { room, me, tagOf, owner: me !== null && info?.ownerId === me.userId };
  for (const m of room.messages) {
    const own = me !== null && m.authorId === me.userId;
    if (own && m.clientId !== undefined) inLog.add(m.clientId);
    items.push(fromMessage(m, own, ctx));
  }
  // Unsent messages belong at the end of the conversation, not below an older stretch on show.
  for (const e of room.detached ? [] : outbox) {
    if (e.room !== room.name || inLog.has(e.clientId)) continue;
    items.push(fromEntry(e, ctx));
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as ChatItem;
    const prev = items[i - 1];
    item.groupStart = prev === undefined || prev.authorId !== item.authorId || item.ts - prev.ts > GROUP_WINDOW_MS;
  }
  return items;
}

interface Context {
  room: RoomState;
  me: User | null;
  tagOf: TagOf;
  /** The reader owns the room. */
  owner: boolean;
}

function fromMessage(m: HeldMessage, own: boolean, ctx: Context): ChatItem {
  const deleted = m.deleted === true;
  return {
    key: keyOf(m.authorId, m.clientId, m.id),
    seq: m.seq,
    clientId: m.clientId ?? null,
    author: m.author,
    authorId: m.authorId,
    tag: ctx.tagOf({ userId: m.authorId, name: m.author }),
    text: m.text,
    ts: m.ts,
    own,
    delivery: own ? 'sent' : null,
    error: null,
    groupStart: true,
    deleted,
    editedAt: deleted ? null : (m.editedAt ?? null),
    reactions: deleted ? [] : (m.reactions ?? []).map((r) => reactionView(r, ctx.me)),
    reply: m.replyTo === undefined ? null : replyView(m.replyTo, m, ctx),
    attachments: deleted ? [] : (m.attachments ?? []),
    canEdit: own && !deleted,
    canDelete: (own || ctx.owner) && !deleted && m.kind !== 'moderation',
    canRespond: !deleted && m.kind !== 'moderation',
    system: m.kind === 'moderation' ? (m.mod ?? { action: 'role' }) : null,
    removedByModerator: deleted && m.mod?.action === 'delete',
  };
}

function fromEntry(e: OutboxEntry, ctx: Context): ChatItem {
  const { me, tagOf } = ctx;
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
    deleted: false,
    editedAt: null,
    reactions: [],
    reply: e.replyTo === undefined ? null : replyView(e.replyTo, undefined, ctx),
    attachments: e.attachments ?? [],
    canEdit: false,
    canDelete: false,
    canRespond: false,
    system: null,
    removedByModerator: false,
  };
}

/** The original of a reply: from the held copy when there is one (it is kept current), else the preview that came with the reply. */
function replyView(seq: number, m: HeldMessage | undefined, ctx: Context): ReplyView {
  const held = ctx.room.messages[indexOfSeq(ctx.room.messages, seq)];
  const source = held ?? (m?.reply?.seq === seq ? m.reply : undefined);
  if (!source) return { seq, author: '', tag: null, text: '', deleted: false, unknown: true };
  const deleted = source.deleted === true;
  return {
    seq,
    author: source.author,
    tag: ctx.tagOf({ userId: source.authorId, name: source.author }),
    text: deleted ? '' : snippet(source.text),
    deleted,
    unknown: false,
  };
}

/** A reaction for the reader: whether it is theirs, who reacted, and the sentence a screen reader says. */
export function reactionView(r: HeldReaction, me: User | null): ReactionView {
  const listed = me !== null && r.users.some((u) => u.userId === me.userId);
  // The page's `mine` holds until an entry by the reader says otherwise.
  const mine = listed || (r.mine && !(me !== null && r.touched?.includes(me.userId)));
  const names = r.users.map((u) => u.name);
  const others = r.count - names.length;
  const who = names.join(', ') + (others > 0 ? `${names.length > 0 ? ' and ' : ''}${others} ${others === 1 ? 'other' : 'others'}` : '');
  return { emoji: r.emoji, count: r.count, mine, names, label: `${r.emoji} ${r.count}: ${who}${mine ? '; you reacted' : ''}` };
}

/** Where the virtual list's indexes start for a freshly loaded room: far enough up for any scrollback. */
export const FIRST_INDEX_BASE = 10_000_000;

/**
 * Virtuoso's `firstItemIndex`: it must drop by exactly the number of rows
 * prepended. Changes take seqs of their own, so messages' seqs have gaps and
 * cannot say that; the room counts the messages scrollback prepended since
 * the list was last replaced (a replaced list gets a new generation and a
 * fresh virtual list).
 */
export function firstItemIndex(room: RoomState): number {
  return Math.max(0, FIRST_INDEX_BASE - room.prepended);
}
