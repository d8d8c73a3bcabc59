/**
 * What a room is called where people read it: `#name` for a public room, its
 * title for a private one, the other person's name for a direct message; and
 * the tab title, which leads with the unread count when there is news the
 * user is not looking at. Pure, so the wording is table-tested.
 */
import type { MyRoomEntry } from './my-rooms.ts';
import { countText } from './unread.ts';

/** The product's name at the end of every tab title. */
export const APP_NAME = 'Fiberchat';

/** A room's name for people. */
export function roomLabel(room: string, entry?: Pick<MyRoomEntry, 'visibility' | 'title' | 'peer'>): string {
  if (entry?.visibility === 'dm') return entry.peer?.name ?? 'Direct message';
  if (entry?.visibility === 'private') return entry.title ?? room;
  return `#${room}`;
}

/**
 * The accessible name of a room in the list: its label, then what is unread
 * ("#design, 3 unread, 1 mention"), then how many are there.
 */
export function roomEntryName(label: string, unread: number, mentions: number, online?: number): string {
  const parts = [label];
  if (unread > 0) parts.push(`${countText(unread)} unread`);
  if (mentions > 0) parts.push(`${countText(mentions)} ${mentions === 1 ? 'mention' : 'mentions'}`);
  if (online !== undefined) parts.push(`${online} online`);
  return parts.join(', ');
}

export interface TitleInput {
  /** The open room's label. */
  label: string;
  /** Unread messages in every room, the open one included. */
  total: number;
  /** Unread messages in rooms other than the open one. */
  elsewhere: number;
  /** The tab is hidden (another tab, minimised). */
  hidden: boolean;
}

/**
 * `(3) #lobby · Fiberchat` while anything is unread in another room or the
 * tab is hidden (the open room's news is on screen otherwise), else
 * `#lobby · Fiberchat`.
 */
export function tabTitle({ label, total, elsewhere, hidden }: TitleInput): string {
  const base = `${label} · ${APP_NAME}`;
  return total > 0 && (elsewhere > 0 || hidden) ? `(${countText(total)}) ${base}` : base;
}
