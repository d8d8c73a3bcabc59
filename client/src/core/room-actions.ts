/**
 * What a person does to messages and rooms besides sending: edit, delete,
 * react, reply, bring an original into view, and manage private rooms and
 * direct messages. Changes to messages are commands with a clientId (a retry
 * is stored once); once acked, the change is applied to the room's copy at
 * once, as the entry the server logged, and its broadcast copy merges away.
 */
import type { Message, OkOf, RequestOf, User } from '../../../shared/protocol.ts';
import type { ChatStore, Composing } from './chat-store.ts';
import { errorText } from './error-text.ts';
import { indexOfSeq } from './log-entries.ts';
import type { Link } from './link.ts';
import { infoFromMembers, mergeInfo, roomTitle, type RoomInfo } from './room-info.ts';
import { applyLive, hasOlder, previewOf, withReplyPreview, type RoomState } from './room-log.ts';
import { isChange } from './log-entries.ts';

/** The answer to something the user asked for: done, or a sentence saying why not. */
export type ActionResult<T = object> = ({ ok: true } & T) | { ok: false; message: string };

export interface RoomActionsDeps {
  store: ChatStore;
  link: Link;
  newClientId: () => string;
  /** Loads the page before the oldest held entry (scrollback). */
  loadOlder: (room: string) => Promise<void>;
  /** Shows the page around a seq far back; true once the message is held. */
  loadAround: (room: string, seq: number) => Promise<boolean>;
  /** Leaves an older stretch on show for the live tail. */
  backToLive: (room: string) => void;
}

const OFFLINE: ActionResult<never> = { ok: false, message: "You're offline. Try again once connected." };
/**
 * How far below the held copy (in seqs) a message is brought into view by
 * scrollback (about a page); further back, the page around it is opened on
 * its own, and the reader scrolls down from there.
 */
const REVEAL_SCROLLBACK_SEQS = 100;
/** Scrollback pages that may take before the jump opens the page around it instead. */
const REVEAL_MAX_PAGES = 2;

const NO_COMPOSING: Composing = { replyTo: null, editing: null };

export class RoomActions {
  private reveals = 0;

  constructor(private readonly deps: RoomActionsDeps) {}

  private snap() {
    return this.deps.store.getSnapshot();
  }

  // ----- composing: reply and edit -----------------------------------------

  private setComposing(room: string, patch: Partial<Composing>): void {
    const before = this.snap().composing[room] ?? NO_COMPOSING;
    const next = { ...before, ...patch };
    if (next.replyTo === before.replyTo && next.editing === before.editing) return;
    this.deps.store.set({ composing: { ...this.snap().composing, [room]: next } });
  }

  /** The next message sent in `room` answers `seq`. */
  startReply(room: string, seq: number): void {
    this.setComposing(room, { replyTo: seq, editing: null });
  }

  cancelReply(room: string): void {
    this.setComposing(room, { replyTo: null });
  }

  /** The reply the next send carries (cleared once it is queued). */
  replyFor(room: string): number | undefined {
    return this.snap().composing[room]?.replyTo ?? undefined;
  }

  /**
   * Opens the editor on a message; `'last'` picks the user's most recent
   * message that can still be edited (Up arrow in an empty composer).
   * False when there is none.
   */
  startEdit(room: string, which: number | 'last'): boolean {
    const me = this.snap().session?.userId;
    const r = this.snap().rooms[room];
    if (!me || !r) return false;
    const editable = (m: Message) => m.authorId === me && !m.deleted;
    let seq: number | undefined;
    if (which === 'last') seq = r.messages.findLast(editable)?.seq;
    else if (r.messages.some((m) => m.seq === which && editable(m))) seq = which;
    if (seq === undefined) return false;
    this.setComposing(room, { editing: seq });
    return true;
  }

  cancelEdit(room: string): void {
    this.setComposing(room, { editing: null });
  }

  // ----- changes to messages -----------------------------------------------

  /** Replaces the text of one of the user's messages. */
  async edit(room: string, target: number, text: string): Promise<ActionResult> {
    const res = await this.change('edit', room, { room, target, text, clientId: this.deps.newClientId() });
    if (res.ok) this.cancelEdit(room);
    return res;
  }

  /** Deletes a message (the user's own, or any in a room they own). */
  async remove(room: string, target: number): Promise<ActionResult> {
    const res = await this.change('delete', room, { room, target, clientId: this.deps.newClientId() });
    if (res.ok && this.snap().composing[room]?.editing === target) this.cancelEdit(room);
    return res;
  }

  /** Adds (`on`) or takes back the user's reaction. */
  react(room: string, target: number, emoji: string, on: boolean): Promise<ActionResult> {
    return this.change('react', room, { room, target, emoji, on, clientId: this.deps.newClientId() });
  }

  /** Sends one change and, once acked, applies the entry it became. */
  private async change<K extends 'edit' | 'delete' | 'react'>(
    name: K,
    room: string,
    req: K extends 'edit' ? { room: string; target: number; text: string; clientId: string } : K extends 'delete' ? { room: string; target: number; clientId: string } : { room: string; target: number; emoji: string; on: boolean; clientId: string },
  ): Promise<ActionResult> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request(name, req as never);
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    const ack = res as OkOf<'edit'>;
    if (ack.unchanged) return { ok: true };
    const { session } = live;
    const entry: Message = {
      room,
      seq: ack.seq,
      id: ack.id,
      ts: ack.ts,
      clientId: req.clientId,
      author: session.name,
      authorId: session.userId,
      text: 'text' in req ? req.text : '',
      kind: name === 'react' ? 'reaction' : name,
      target: req.target,
      ...('emoji' in req ? { emoji: req.emoji, on: req.on } : {}),
    };
    this.deps.store.updateRoom(room, (r) => (r.loaded ? applyLive(r, [entry]).room : r));
    return { ok: true };
  }

  // ----- replies ----------------------------------------------------------

  /** Originals being read, so that many replies to one original ask once. */
  private readonly fetching = new Set<string>();

  /**
   * Reads the original of a reply that arrived without a preview of it (a
   * live push carries only `replyTo`) and is not held: the one entry at
   * `seq`, as it is now.
   */
  async fetchOriginal(room: string, seq: number): Promise<void> {
    const key = `${room}\u0000${seq}`;
    const live = this.deps.link();
    if (!live || this.fetching.has(key)) return;
    this.fetching.add(key);
    try {
      const res = await live.transport.request('history', { room, before: seq + 1, limit: 1 });
      const original = res.ok ? res.messages.find((m) => m.seq === seq && !isChange(m)) : undefined;
      if (original) this.deps.store.updateRoom(room, (r) => withReplyPreview(r, previewOf(original)));
    } finally {
      this.fetching.delete(key);
    }
  }

  // ----- search -------------------------------------------------------------

  /** Messages matching what the person typed (the `search` command), newest first. */
  async search(req: RequestOf<'search'>): Promise<ActionResult<OkOf<'search'>>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('search', req);
    return res.ok ? res : { ok: false, message: errorText(res.error) };
  }

  // ----- bringing a message into view --------------------------------------

  /**
   * Brings message `seq` into view (a reply's original, a search result),
   * then asks the view to scroll to it: a message just below the held copy by
   * scrollback, one in the live tail held aside by going back to it, one
   * further back by opening the page around it (the view scrolls on both
   * ways from there). False when it is not in the room's log any more.
   */
  async reveal(room: string, seq: number): Promise<boolean> {
    const shown = () => {
      this.deps.store.set({ reveal: { room, seq, n: ++this.reveals } });
      return true;
    };
    for (let pages = 0; pages < REVEAL_MAX_PAGES; pages++) {
      const r = await this.settled(room);
      if (!r) return false;
      if (indexOfSeq(r.messages, seq) >= 0) return shown();
      if (r.detached && indexOfSeq(r.detached.tail, seq) >= 0) {
        this.deps.backToLive(room);
        return shown();
      }
      if (!hasOlder(r) || seq >= r.floor || r.floor - seq > REVEAL_SCROLLBACK_SEQS) break;
      await this.deps.loadOlder(room);
      const after = this.snap().rooms[room];
      if (!after || (after.floor === r.floor && after.olderState !== 'loading')) break;
    }
    const r = await this.settled(room);
    if (r && indexOfSeq(r.messages, seq) >= 0) return shown();
    return (await this.deps.loadAround(room, seq)) ? shown() : false;
  }

  /** The room once no scrollback page is in flight. */
  private settled(room: string): Promise<RoomState | undefined> {
    const now = this.snap().rooms[room];
    if (now?.olderState !== 'loading') return Promise.resolve(now);
    return new Promise((resolve) => {
      const off = this.deps.store.subscribe(() => {
        const r = this.snap().rooms[room];
        if (r?.olderState === 'loading') return;
        off();
        resolve(r);
      });
    });
  }

  // ----- rooms: private rooms, invitations, direct messages ----------------

  private learn(room: string, patch: RoomInfo): void {
    const { roomInfo } = this.snap();
    const next = mergeInfo(roomInfo[room], patch);
    if (next !== roomInfo[room]) this.deps.store.set({ roomInfo: { ...roomInfo, [room]: next } });
  }

  /** Asks the server who is in `room` (and its kind, title and owner). */
  async loadInfo(room: string): Promise<ActionResult<{ info: RoomInfo }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('members', { room });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    const info = infoFromMembers(res, live.session.userId, this.snap().roomInfo[room]);
    this.learn(room, info);
    return { ok: true, info: this.snap().roomInfo[room] ?? info };
  }

  /** Creates a private room owned by the user. */
  async createRoom(title: string): Promise<ActionResult<{ room: string }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('createRoom', { title });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    this.learn(res.room, { visibility: 'private', title: res.title, ownerId: live.session.userId });
    return { ok: true, room: res.room };
  }

  /** Adds a user to a private room the user owns, then reads the member list again. */
  async invite(room: string, userId: string): Promise<ActionResult> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('invite', { room, userId });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    await this.loadInfo(room);
    return { ok: true };
  }

  /** Removes a member from a private room the user owns, then reads the member list again. */
  async removeMember(room: string, userId: string): Promise<ActionResult> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('removeMember', { room, userId });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    await this.loadInfo(room);
    return { ok: true };
  }

  /** Makes an invite link token for a private room the user owns. */
  async inviteLink(room: string): Promise<ActionResult<{ token: string }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('inviteLink', { room });
    return res.ok ? { ok: true, token: res.token } : { ok: false, message: errorText(res.error) };
  }

  async revokeInvite(room: string, token: string): Promise<ActionResult> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('revokeInvite', { room, token });
    return res.ok ? { ok: true } : { ok: false, message: errorText(res.error) };
  }

  /** Joins the private room an invite link opens. */
  async acceptInvite(token: string): Promise<ActionResult<{ room: string }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('acceptInvite', { token });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    this.learn(res.room, { visibility: 'private', title: res.title });
    return { ok: true, room: res.room };
  }

  /** The direct-message room with another user, created on first use. */
  async openDm(userId: string): Promise<ActionResult<{ room: string }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const res = await live.transport.request('dm', { userId });
    if (!res.ok) return { ok: false, message: errorText(res.error) };
    this.learn(res.room, { visibility: 'dm', peer: res.peer });
    return { ok: true, room: res.room };
  }

  /** People whose name starts with `q`. */
  async searchUsers(q: string): Promise<ActionResult<{ users: User[] }>> {
    const live = this.deps.link();
    if (!live) return OFFLINE;
    const trimmed = q.trim().slice(0, 32);
    if (trimmed === '') return { ok: true, users: [] };
    const res = await live.transport.request('users', { q: trimmed });
    return res.ok ? { ok: true, users: res.users } : { ok: false, message: errorText(res.error) };
  }

  // ----- events ------------------------------------------------------------

  /** Someone added the user to a room (an invitation, a direct message). */
  invited(room: string, title: string | undefined, by: User): void {
    this.learn(room, title !== undefined ? { visibility: 'private', title } : { visibility: 'dm', peer: by });
  }

  /**
   * The user lost access to `room`: its copy is dropped (nothing of it stays
   * on screen) and the notice names it by its title.
   */
  removed(room: string): void {
    const snap = this.snap();
    const title = roomTitle(room, snap.roomInfo[room]);
    const { [room]: _r, ...rooms } = snap.rooms;
    const { [room]: _i, ...roomInfo } = snap.roomInfo;
    const { [room]: _c, ...composing } = snap.composing;
    this.deps.store.set({ rooms, roomInfo, composing, removedFrom: { room, title } });
  }

  dismissRemoved(): void {
    if (this.snap().removedFrom) this.deps.store.set({ removedFrom: null });
  }
}
