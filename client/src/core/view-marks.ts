/**
 * Marks the conversation view puts on its rows: where the "New" divider
 * goes, and which messages mention the user. Pure, so tested by table.
 */
import type { Message } from '../../../shared/protocol.ts';
import type { ChatItem } from './view-items.ts';
import { isMessage, mentions } from './unread.ts';

/**
 * The first message by someone else after the read position the room was
 * opened with: the "New" divider goes above it. Null when nothing is unread
 * (the view then opens at the bottom) or the position is not known yet.
 */
export function firstUnreadSeq(items: readonly Pick<ChatItem, 'seq' | 'own'>[], lastRead: number | null): number | null {
  if (lastRead === null) return null;
  for (const item of items) if (item.seq !== null && item.seq > lastRead && !item.own) return item.seq;
  return null;
}

/** Seqs of the messages by others that mention `me`, highlighted and marked `data-mention`. */
export function mentionSeqs(messages: readonly Message[], me: string | null): ReadonlySet<number> {
  const out = new Set<number>();
  if (me === null) return out;
  for (const m of messages) if (isMessage(m) && m.authorId !== me && !m.deleted && mentions(m, me)) out.add(m.seq);
  return out;
}
