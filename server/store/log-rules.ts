/**
 * The rules of a room's log, once for every store: what each kind of entry
 * may do to the messages before it, and how a page shows a message now.
 * A store runs `plan` inside its commit transaction, with lookups that read
 * its own tables (under the room's lock, so they see what other nodes
 * committed), then performs the operations the plan returns.
 *
 * - a message is stored as sent;
 * - an edit replaces a message's text; only its author may edit, and not a
 *   deleted message;
 * - a delete turns a message into a tombstone: its text, and the text of
 *   every edit of it, is wiped; its author may delete, and so may whoever
 *   moderates the room (`staff`, as the edge read their role), whose delete
 *   of another's message leaves a tombstone marked as removed by a moderator;
 * - a moderation entry records what a moderator did (the edge checked they
 *   may); a pin must name a message that is there, not deleted;
 * - a reaction adds or takes back one user's emoji on a message; one that
 *   changes nothing is answered `unchanged` and takes no seq;
 * - a change to a seq that is not a message (or not there) is `not_found`.
 *
 * Retries (same author and clientId) are answered with the stored original,
 * whatever their kind, before any rule runs.
 */
import type { EntryKind, Message, ReactionSummary, ReplyPreview, User } from '../../shared/protocol.ts';
import type { Committed, Draft } from './store.ts';

/**
 * What a plan needs to read, synchronously (SQLite's transaction may not span
 * an await; PostgreSQL prefetches what a batch can touch, see `touches`). The
 * plan layers the batch's own earlier operations over them.
 */
export interface PlanLookups {
  byClient(authorId: string, clientId: string): Message | undefined;
  /** The entry at `seq`, in its current state. */
  entry(seq: number): Message | undefined;
  hasReaction(target: number, emoji: string, userId: string): boolean;
  lastSeq(): number;
}

/** What a batch may read: the seqs its changes and replies point at, and its reactions. For stores that prefetch. */
export function touches(drafts: readonly Draft[]): { seqs: number[]; reactions: Array<{ target: number; emoji: string; userId: string }> } {
  const seqs = new Set<number>();
  const reactions: Array<{ target: number; emoji: string; userId: string }> = [];
  for (const d of drafts) {
    if (d.target !== undefined) seqs.add(d.target);
    if (d.replyTo !== undefined) seqs.add(d.replyTo);
    if (d.kind === 'reaction' && d.target !== undefined && d.emoji !== undefined) reactions.push({ target: d.target, emoji: d.emoji, userId: d.authorId });
  }
  return { seqs: [...seqs], reactions };
}

/** What a store does, in order, to commit a plan. */
export type PlanOp =
  | { op: 'insert'; entry: Message }
  | { op: 'edit'; target: number; text: string; editedAt: number; mentions: string[] | undefined }
  | { op: 'delete'; target: number; moderated: boolean }
  | { op: 'react'; target: number; emoji: string; user: User; on: boolean };

export interface Plan {
  ops: PlanOp[];
  results: Committed[];
  /** The room's last seq after the plan. */
  lastSeq: number;
}

/** Longest snippet of the original a reply shows. */
export const REPLY_SNIPPET_CHARS = 140;
/** Reactors a page lists per emoji (the count is always complete). */
export const REACTORS_SHOWN = 20;

/** Plans a batch of drafts for `room`. Pure but for the lookups. */
export function plan(room: string, drafts: readonly Draft[], look: PlanLookups): Plan {
  let last = look.lastSeq();
  const ops: PlanOp[] = [];
  const results: Committed[] = [];
  // The batch's own effects, layered over the store's state.
  const byClient = new Map<string, Message>();
  const entries = new Map<number, Message>();
  const reactions = new Map<string, boolean>();
  const current = (seq: number) => entries.get(seq) ?? look.entry(seq);
  for (const d of drafts) {
    const key = `${d.authorId}\u0000${d.clientId}`;
    const stored = byClient.get(key) ?? look.byClient(d.authorId, d.clientId);
    if (stored) {
      results.push({ message: { ...stored }, duplicate: true });
      continue;
    }
    const refusal = check(d, current);
    if (refusal) {
      results.push(refusal);
      continue;
    }
    if (d.kind === 'reaction' && reacted(d, look, reactions) === d.on) {
      const target = current(d.target as number) as Message;
      results.push({ message: { ...target }, duplicate: false, unchanged: true });
      continue;
    }
    last += 1;
    const entry = toEntry(room, last, d);
    const target = d.target === undefined ? undefined : current(d.target);
    // A delete of someone else's message is a moderator's (the check let it through only as one).
    const moderated = d.kind === 'delete' && target !== undefined && target.authorId !== d.authorId;
    if (moderated) entry.mod = { action: 'delete' };
    // The live form of a reply shows the original as it is now (pages decorate theirs when read).
    if (d.replyTo !== undefined) {
      const original = current(d.replyTo);
      if (original) entry.reply = preview(original);
    }
    ops.push({ op: 'insert', entry });
    byClient.set(key, entry);
    entries.set(last, entry);
    results.push({ message: { ...entry }, duplicate: false });
    if (d.kind === 'edit' && target) {
      ops.push({ op: 'edit', target: target.seq, text: d.text, editedAt: d.ts, mentions: d.mentions });
      entries.set(target.seq, { ...target, text: d.text, editedAt: d.ts, ...(d.mentions ? { mentions: d.mentions } : {}) });
    } else if (d.kind === 'delete' && target) {
      ops.push({ op: 'delete', target: target.seq, moderated });
      entries.set(target.seq, tombstone(target, moderated));
    } else if (d.kind === 'reaction' && target) {
      ops.push({ op: 'react', target: target.seq, emoji: d.emoji as string, user: { userId: d.authorId, name: d.author }, on: d.on === true });
      reactions.set(reactionKey(target.seq, d.emoji as string, d.authorId), d.on === true);
    }
  }
  return { ops, results, lastSeq: last };
}

function check(d: Draft, current: (seq: number) => Message | undefined): Committed | undefined {
  if (d.kind === 'message') {
    if (d.replyTo === undefined) return undefined;
    const original = current(d.replyTo);
    return original && isMessage(original) ? undefined : { refused: 'not_found', reason: 'the message you reply to is not in this room' };
  }
  if (d.kind === 'moderation') {
    if (d.target === undefined || d.mod?.action === 'unpin') return undefined;
    const pinned = current(d.target);
    return pinned && isMessage(pinned) && !pinned.deleted ? undefined : { refused: 'not_found', reason: 'no such message in this room' };
  }
  const target = d.target === undefined ? undefined : current(d.target);
  if (!target || !isMessage(target)) return { refused: 'not_found', reason: 'no such message in this room' };
  if (target.deleted) return { refused: 'not_found', reason: 'that message was deleted' };
  if (d.kind === 'edit' && target.authorId !== d.authorId) return { refused: 'forbidden', reason: 'only its author can edit a message' };
  if (d.kind === 'delete' && target.authorId !== d.authorId && d.staff !== true) {
    return { refused: 'forbidden', reason: "only its author or the room's moderators can delete a message" };
  }
  return undefined;
}

function reacted(d: Draft, look: PlanLookups, batch: Map<string, boolean>): boolean {
  const k = reactionKey(d.target as number, d.emoji as string, d.authorId);
  return batch.get(k) ?? look.hasReaction(d.target as number, d.emoji as string, d.authorId);
}

function reactionKey(target: number, emoji: string, userId: string): string {
  return `${target}\u0000${emoji}\u0000${userId}`;
}

export function isMessage(m: Message): boolean {
  return m.kind === undefined || m.kind === 'message';
}

/** The log entry a draft becomes at `seq`. */
export function toEntry(room: string, seq: number, d: Draft): Message {
  const m: Message = { room, seq, id: d.id, clientId: d.clientId, author: d.author, authorId: d.authorId, text: d.text, ts: d.ts };
  if (d.kind !== 'message') m.kind = d.kind;
  if (d.target !== undefined) m.target = d.target;
  if (d.kind === 'reaction') {
    m.emoji = d.emoji as string;
    m.on = d.on === true;
  }
  if (d.replyTo !== undefined) m.replyTo = d.replyTo;
  if (d.mentions && d.mentions.length > 0) m.mentions = d.mentions;
  if (d.kind === 'message' && d.attachments && d.attachments.length > 0) m.attachments = d.attachments;
  if (d.kind === 'moderation' && d.mod) m.mod = d.mod;
  return m;
}

function tombstone(m: Message, moderated: boolean): Message {
  const { reactions: _r, mentions: _m, editedAt: _e, attachments: _a, ...rest } = m;
  return moderated ? { ...rest, text: '', deleted: true, mod: { action: 'delete' } } : { ...rest, text: '', deleted: true };
}

/** The kind a stored row records. */
export function kindOf(m: Message): EntryKind {
  return m.kind ?? 'message';
}

/**
 * Shows a page's messages as they are now, to `viewer`: reactions as counts
 * with whether the viewer reacted and the first few who did, and for a reply
 * a snippet of the original as it is now (or "deleted").
 */
export function decorate(
  entries: Message[],
  reactionRows: ReadonlyArray<{ target: number; emoji: string; userId: string; name: string }>,
  originals: ReadonlyMap<number, Message>,
  viewer: string | undefined,
): Message[] {
  const byTarget = new Map<number, Map<string, User[]>>();
  for (const r of reactionRows) {
    let emojis = byTarget.get(r.target);
    if (!emojis) byTarget.set(r.target, (emojis = new Map()));
    const users = emojis.get(r.emoji) ?? [];
    users.push({ userId: r.userId, name: r.name });
    emojis.set(r.emoji, users);
  }
  return entries.map((m) => {
    if (!isMessage(m)) return m;
    const out: Message = { ...m };
    const emojis = byTarget.get(m.seq);
    if (emojis && !m.deleted) {
      out.reactions = [...emojis].map(
        ([emoji, users]): ReactionSummary => ({
          emoji,
          count: users.length,
          mine: viewer !== undefined && users.some((u) => u.userId === viewer),
          users: users.slice(0, REACTORS_SHOWN),
        }),
      );
    }
    if (m.replyTo !== undefined) {
      const o = originals.get(m.replyTo);
      if (o) out.reply = preview(o);
    }
    return out;
  });
}

/** How a reply shows the message it answers. */
export function preview(o: Message): ReplyPreview {
  return o.deleted
    ? { seq: o.seq, author: o.author, authorId: o.authorId, text: '', deleted: true }
    : { seq: o.seq, author: o.author, authorId: o.authorId, text: [...o.text].slice(0, REPLY_SNIPPET_CHARS).join('') };
}
