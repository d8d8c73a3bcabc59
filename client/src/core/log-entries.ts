/**
 * How the entries of a room's log change the messages a client holds. Since
 * protocol 2.0 an entry is a message or a change to an earlier one (an edit,
 * a delete, a reaction), each with its own seq. Live pushes and resumes carry
 * entries as they happened; pages carry messages in their current state
 * together with the changes in their seq range. Applying must therefore be
 * idempotent: a change already reflected in a page's copy must not count
 * twice. Two rules make it so:
 *
 * - a copy from a page records `asOf`, the log position its state includes,
 *   and changes at or below it are not applied to it again;
 * - every change is applied with set semantics (a reaction adds or removes
 *   one user, an edit sets the text, a delete makes a tombstone), so applying
 *   one twice, or a page copy that already included it, changes nothing.
 *
 * Pure functions over immutable arrays; an unchanged input is returned as is.
 */
import type { Message, ReactionSummary, ReplyPreview, User } from '../../../shared/protocol.ts';

/** A reaction as held: the page's summary, kept up to date by reaction entries. */
export interface HeldReaction extends ReactionSummary {
  /**
   * Users whose reaction an entry set after the page was read. The page's
   * `mine` only speaks for the reader until an entry by the reader arrives.
   */
  touched?: string[];
}

/** A message as the client holds it: its current state, with changes applied. */
export interface HeldMessage extends Omit<Message, 'reactions'> {
  reactions?: HeldReaction[];
  /** From a page: the state includes every change up to this seq. */
  asOf?: number;
}

/** Longest snippet of a reply's original, as the server cuts it (`REPLY_SNIPPET_CHARS`). */
export const SNIPPET_CHARS = 140;

/**
 * Whether an entry changes an earlier message rather than being one. A
 * moderation entry (since 2.7) is neither: it is held in place, as a line
 * saying what a moderator did.
 */
export function isChange(e: Message): boolean {
  return e.kind !== undefined && e.kind !== 'message' && e.kind !== 'moderation';
}

/** The copy of a message an entry list holds, tagged with the page's `asOf` when it came from one. */
function copyOf(m: Message, asOf: number | undefined): HeldMessage {
  return asOf === undefined ? m : { ...m, asOf };
}

function sortedBySeq<T extends { seq: number }>(list: readonly T[]): readonly T[] {
  for (let i = 1; i < list.length; i++) {
    if ((list[i] as T).seq < (list[i - 1] as T).seq) return [...list].sort((a, b) => a.seq - b.seq);
  }
  return list;
}

/**
 * Merges message copies into a seq-ordered list. A seq held already keeps
 * its copy unless `replace` (the incoming copies come from a page, whose
 * state is newer than what a live copy had).
 */
export function mergeCopies(existing: readonly HeldMessage[], incoming: readonly HeldMessage[], replace: boolean): readonly HeldMessage[] {
  if (incoming.length === 0) return existing;
  const sorted = sortedBySeq(incoming);
  const last = existing[existing.length - 1];
  const first = sorted[0] as HeldMessage;
  const out: HeldMessage[] = [];
  let changed = false;
  // Fast path: the live stream appends after everything held.
  if (last === undefined || first.seq > last.seq) {
    out.push(...existing);
    for (const m of sorted) {
      if (out[out.length - 1]?.seq === m.seq) continue;
      out.push(m);
    }
    return out;
  }
  let i = 0;
  let j = 0;
  while (i < existing.length || j < sorted.length) {
    const a = existing[i];
    const b = sorted[j];
    if (b === undefined || (a !== undefined && a.seq < b.seq)) {
      out.push(a as HeldMessage);
      i++;
    } else if (a === undefined || b.seq < a.seq) {
      if (out[out.length - 1]?.seq !== b.seq) {
        out.push(b);
        changed = true;
      }
      j++;
    } else {
      // The same seq on both sides.
      if (replace && b !== a) {
        out.push(b);
        changed = true;
      } else {
        out.push(a);
      }
      i++;
      j++;
      while (sorted[j]?.seq === (a as HeldMessage).seq) j++;
    }
  }
  return changed ? out : existing;
}

/** Index of the message with `seq` in a seq-ordered list, or -1. */
export function indexOfSeq(list: readonly { seq: number }[], seq: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = (list[mid] as { seq: number }).seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** A message made a tombstone: its text, edits and reactions are gone. */
export function tombstone(m: HeldMessage): HeldMessage {
  const { reactions: _r, editedAt: _e, mentions: _m, ...rest } = m;
  return { ...rest, text: '', deleted: true };
}

/** The snippet a reply shows of its original. */
export function snippet(text: string): string {
  return [...text].slice(0, SNIPPET_CHARS).join('');
}

/** One user's reaction set on or off, with set semantics. */
export function react(reactions: HeldReaction[] | undefined, emoji: string, user: User, on: boolean): HeldReaction[] | undefined {
  const list = reactions ?? [];
  const at = list.findIndex((r) => r.emoji === emoji);
  const current = list[at];
  const touch = (r: HeldReaction): HeldReaction => (r.touched?.includes(user.userId) ? r : { ...r, touched: [...(r.touched ?? []), user.userId] });
  if (current === undefined) {
    if (!on) return reactions;
    return [...list, { emoji, count: 1, mine: false, users: [user], touched: [user.userId] }];
  }
  const listed = current.users.some((u) => u.userId === user.userId);
  let next: HeldReaction;
  if (on) {
    if (listed) return reactions;
    next = touch({ ...current, count: current.count + 1, users: [...current.users, user] });
  } else if (listed) {
    next = touch({ ...current, count: current.count - 1, users: current.users.filter((u) => u.userId !== user.userId) });
  } else if (current.count > current.users.length) {
    // A page lists the first few who reacted: this one may be among the rest.
    next = touch({ ...current, count: current.count - 1 });
  } else {
    return reactions;
  }
  const out = [...list];
  if (next.count <= 0) out.splice(at, 1);
  else out[at] = next;
  return out.length === 0 ? undefined : out;
}

/** One change applied to the message it targets; the same object when it changes nothing. */
export function applyChange(target: HeldMessage, change: Message): HeldMessage {
  if (target.deleted || change.seq <= (target.asOf ?? 0)) return target;
  switch (change.kind) {
    case 'edit': {
      if (target.text === change.text && target.editedAt === change.ts) return target;
      // An edit replaces the mentions too (none, if it has none).
      const { mentions: _m, ...rest } = target;
      return { ...rest, text: change.text, editedAt: change.ts, ...(change.mentions ? { mentions: change.mentions } : {}) };
    }
    case 'delete':
      // A moderator's delete of someone else's message: the tombstone says so.
      return change.mod ? { ...tombstone(target), mod: change.mod } : tombstone(target);
    case 'reaction': {
      if (change.emoji === undefined) return target;
      const reactions = react(target.reactions, change.emoji, { userId: change.authorId, name: change.author }, change.on === true);
      if (reactions === target.reactions) return target;
      const { reactions: _old, ...rest } = target;
      return reactions === undefined ? rest : { ...rest, reactions };
    }
    default:
      return target;
  }
}

/** A reply's preview of its original after an edit or a delete of it. */
function updatePreview(reply: ReplyPreview, change: Message): ReplyPreview {
  if (change.kind === 'delete') return reply.deleted ? reply : { ...reply, text: '', deleted: true };
  if (change.kind === 'edit' && !reply.deleted) {
    const text = snippet(change.text);
    return text === reply.text ? reply : { ...reply, text };
  }
  return reply;
}

/**
 * Applies entries to a seq-ordered list of messages: messages merge by seq
 * (a page's copies, marked with `asOf`, replace older copies), then each
 * change, in seq order, updates its target if held, and the previews of the
 * replies to it. A change whose target is not held changes nothing here; a
 * later page shows its effect.
 */
export function applyEntries(messages: readonly HeldMessage[], entries: readonly Message[], asOf?: number): readonly HeldMessage[] {
  if (entries.length === 0) return messages;
  const sorted = sortedBySeq(entries);
  const copies: HeldMessage[] = [];
  const changes: Message[] = [];
  for (const e of sorted) (isChange(e) ? changes : copies).push(e);
  let out = mergeCopies(messages, copies.map((m) => copyOf(m, asOf)), asOf !== undefined);
  if (changes.length === 0) return out;
  let copy: HeldMessage[] | null = null;
  const writable = (): HeldMessage[] => (copy ??= [...out]);
  for (const change of changes) {
    const target = change.target;
    if (target === undefined) continue;
    const at = indexOfSeq(copy ?? out, target);
    if (at >= 0) {
      const before = (copy ?? out)[at] as HeldMessage;
      const after = applyChange(before, change);
      if (after !== before) writable()[at] = after;
    }
    if (change.kind === 'edit' || change.kind === 'delete') {
      const list = copy ?? out;
      for (let k = 0; k < list.length; k++) {
        const m = list[k] as HeldMessage;
        if (m.replyTo !== target || m.reply === undefined || change.seq <= (m.asOf ?? 0)) continue;
        const reply = updatePreview(m.reply, change);
        if (reply !== m.reply) writable()[k] = { ...m, reply };
      }
    }
  }
  if (copy !== null) out = copy;
  return out;
}
