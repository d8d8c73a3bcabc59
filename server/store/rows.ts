/**
 * How the SQL stores (SQLite, PostgreSQL) map their rows to log entries:
 * one table for every entry kind, a message row holding its current state.
 */
import type { Attachment, EntryKind, Message, ModNote } from '../../shared/protocol.ts';

/** The columns of `messages`, as both SQL stores name them. */
export const ENTRY_COLUMNS = 'room, seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, edited_at, deleted, reply_to, mentions, attachments, mod';

/** A tombstone's note (the `mod` column) when a moderator removed the message. */
export const MODERATED = JSON.stringify({ action: 'delete' });

export interface EntryRow {
  room: string;
  seq: number;
  id: string;
  client_id: string | null;
  author: string;
  author_id: string;
  text: string;
  ts: number;
  kind: string;
  target: number | null;
  emoji: string | null;
  /** SQLite: 0/1; PostgreSQL: boolean. */
  on_flag: number | boolean | null;
  edited_at: number | null;
  deleted: number | boolean;
  reply_to: number | null;
  /** SQLite: a JSON array; PostgreSQL: text[]. */
  mentions: string | string[] | null;
  /** A JSON array of attachments, in both stores. */
  attachments: string | null;
  /** A moderator's note (JSON), since 2.7. */
  mod: string | null;
}

export function rowToEntry(r: EntryRow): Message {
  const m: Message = { room: r.room, seq: r.seq, id: r.id, author: r.author, authorId: r.author_id, text: r.text, ts: r.ts };
  if (r.client_id !== null) m.clientId = r.client_id;
  if (r.kind !== 'message') m.kind = r.kind as EntryKind;
  if (r.target !== null) m.target = r.target;
  if (r.emoji !== null) m.emoji = r.emoji;
  if (r.on_flag !== null) m.on = r.on_flag === true || r.on_flag === 1;
  if (r.edited_at !== null) m.editedAt = r.edited_at;
  if (r.deleted === true || r.deleted === 1) m.deleted = true;
  if (r.reply_to !== null) m.replyTo = r.reply_to;
  if (r.mentions !== null) {
    const list = typeof r.mentions === 'string' ? (JSON.parse(r.mentions) as string[]) : r.mentions;
    if (list.length > 0) m.mentions = list;
  }
  if (r.attachments !== null) m.attachments = JSON.parse(r.attachments) as Attachment[];
  if (r.mod !== null && r.mod !== undefined) m.mod = JSON.parse(r.mod) as ModNote;
  return m;
}
