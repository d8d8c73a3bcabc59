/**
 * The payloads of the command table (shared/commands.ts): each command's
 * request and ok answer, as zod schemas. Types are inferred from them.
 */
import { z } from 'zod';
import { SEARCH_LIMITS, dayStart } from './search-query.ts';
import { TRANSPORTS, transportRank } from './transports.ts';
import { LIMITS } from './limits.ts';
import { RoomStanding } from './moderation.ts';
import {
  CaptionText,
  ClientId,
  FileId,
  DisplayName,
  Emoji,
  Epoch,
  Message,
  MessageText,
  PageLimit,
  RoomName,
  Seq,
  User,
  queryNumber,
} from './schemas.ts';

/** An ok answer that carries nothing but `ok: true`. */
export const Empty = z.looseObject({});

/** The userIds a message mentions (the client resolves `@name` to a user it knows). */
const Mentions = z.array(z.string().min(1).max(64)).max(20);

// ----- requests -------------------------------------------------------------

export const SessionRequest = z.strictObject({ name: DisplayName });

export const JoinRequest = z.strictObject({
  room: RoomName,
  /** Last seq the client has seen in this room; omit on first join. */
  since: Seq.optional(),
  /** Epoch the client's `since` belongs to; a mismatch means "not recovered". */
  epoch: Epoch.optional(),
});

export const LeaveRequest = z.strictObject({ room: RoomName });

export const SendRequest = z
  .strictObject({
    room: RoomName,
    /** May be empty (or only blanks) when the message carries attachments. */
    text: CaptionText,
    clientId: ClientId,
    /** The message this one answers. Since 2.0. */
    replyTo: Seq.optional(),
    /** The users it mentions. Since 2.0. */
    mentions: Mentions.optional(),
    /** Files the caller uploaded to this room (`POST /api/rooms/:room/files`), in the order shown. Since 2.6. */
    attachments: z.array(FileId).min(1).max(LIMITS.attachmentsPerMessage).optional(),
  })
  .superRefine((req, ctx) => {
    if (req.text === '' && req.attachments === undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'Type a message first' });
    if (req.attachments && new Set(req.attachments).size !== req.attachments.length) {
      ctx.addIssue({ code: 'custom', path: ['attachments'], message: 'a file can be attached once' });
    }
  });

/** What an upload answers (`POST /api/rooms/:room/files`, 201). Since 2.6. */
export const UploadOk = z.object({
  file: z.object({ id: FileId, name: z.string(), size: z.number(), type: z.string(), url: z.string() }),
});

export const HistoryRequest = z
  .strictObject({
    room: RoomName,
    /** The page just below this seq (scrollback). */
    before: Seq.optional(),
    /** The page around this seq: it, the entries just below and just above (opening a search result in context). Since 2.5. */
    around: Seq.optional(),
    /** The page just above this seq, in its current state (scrolling down from a page opened with `around`). Since 2.5. */
    after: Seq.optional(),
    limit: PageLimit.optional(),
  })
  .refine((q) => [q.before, q.around, q.after].filter((v) => v !== undefined).length === 1, 'give one of before, around or after');

export const HistoryQuery = z.object({
  before: queryNumber(Seq).optional(),
  around: queryNumber(Seq).optional(),
  after: queryNumber(Seq).optional(),
  limit: queryNumber(PageLimit).optional(),
});

export const PageRequest = z
  .strictObject({
    room: RoomName,
    /** What follows this seq: a poll, or a resume with `epoch` (same rules as `join` with `since`). */
    after: Seq.optional(),
    /** The page just below this seq (scrollback). */
    before: Seq.optional(),
    limit: PageLimit.optional(),
    /** The epoch `after` belongs to. */
    epoch: Epoch.optional(),
  })
  .refine((q) => q.after === undefined || q.before === undefined, 'give either after or before, not both');

export const PageQuery = z.object({
  after: queryNumber(Seq).optional(),
  before: queryNumber(Seq).optional(),
  limit: queryNumber(PageLimit).optional(),
  epoch: Epoch.optional(),
});

export const TypingRequest = z.strictObject({
  room: RoomName,
  /** `true`: "I stopped typing" (the composer was emptied), ending the signal at once. Since 2.0. */
  stop: z.boolean().optional(),
});

/** `undefined` arrives as `null` over JSON: both mean "no payload". */
export const PingRequest = z.strictObject({}).nullish();

// ----- answers --------------------------------------------------------------

export const SessionOk = z.object({
  token: z.string(),
  name: z.string(),
  userId: z.string(),
  expiresAt: z.number(),
  /** The server's protocol version. Since 1.5. */
  protocol: z.string().optional(),
  /** This session's id (`GET /api/sessions`, `DELETE /api/sessions/:id`). Since 2.1. */
  sessionId: z.string().optional(),
  /** True when the name belongs to an account (signed in with a password or a passkey). Since 2.1. */
  registered: z.boolean().optional(),
});

export const JoinOk = z.object({
  room: z.string(),
  /** Identity of this room's log; changes only if the history was reset. */
  epoch: z.string(),
  lastSeq: z.number(),
  /** After `since` when recovered, else the latest page. Ascending by seq. */
  messages: z.array(Message),
  /** Display names of the users present, one per user (two users of one name: twice). */
  members: z.array(z.string()),
  /** The users present, told apart by userId. Since 1.5. */
  users: z.array(User).optional(),
  /** False when `since`/`epoch` could not be replayed; `messages` is then the latest page. */
  recovered: z.boolean(),
  /** The server's protocol version. Since 1.5. */
  protocol: z.string().optional(),
  /** This user's read position in the room (0: nothing read). Since 2.0. */
  lastRead: z.number().optional(),
  /** Since 2.0: public, private or a direct message, with a private room's title. */
  visibility: z.enum(['public', 'private', 'dm']).optional(),
  title: z.string().optional(),
  /** The caller's role and mute in the room, its slow mode, lock and pinned messages. Since 2.7. */
  standing: RoomStanding.optional(),
});

export const SendOk = z.object({ seq: z.number(), id: z.string(), ts: z.number(), duplicate: z.boolean().optional() });

export const HistoryOk = z.object({ messages: z.array(Message) });

export const PageOk = z.object({
  room: z.string(),
  epoch: z.string(),
  lastSeq: z.number(),
  messages: z.array(Message),
  /** Who is present (socket members and Ajax pollers alike). Since 1.2. */
  members: z.array(z.string()).default([]),
  users: z.array(User).optional(),
  /** Who is typing (names). Since 1.2. */
  typing: z.array(z.string()).default([]),
  typingUsers: z.array(User).optional(),
  /** With `after`: false when the resume could not be replayed and `messages` is the latest page. Since 1.5. */
  recovered: z.boolean().optional(),
});

export const PingOk = z.object({ ts: z.number() });

export const RoomsRequest = z.strictObject({}).nullish();
export const RoomSummary = z.object({ room: z.string(), lastSeq: z.number(), members: z.number() });
export const RoomsOk = z.object({ rooms: z.array(RoomSummary) });


// ----- changes to messages (since 2.0) ---------------------------------------

export const EditRequest = z.strictObject({ room: RoomName, target: Seq, text: MessageText, clientId: ClientId, mentions: Mentions.optional() });
export const DeleteRequest = z.strictObject({ room: RoomName, target: Seq, clientId: ClientId });
export const ReactRequest = z.strictObject({ room: RoomName, target: Seq, emoji: Emoji, on: z.boolean(), clientId: ClientId });

/** The ack of a change: its own seq in the log; `unchanged` when it changed nothing (a reaction already there). */
export const ChangeOk = z.object({
  seq: z.number(),
  id: z.string(),
  ts: z.number(),
  duplicate: z.boolean().optional(),
  unchanged: z.boolean().optional(),
});

// ----- read positions, my rooms, the directory (since 2.0) -----------------

export const ReadRequest = z.strictObject({ room: RoomName, seq: Seq });
export const ReadOk = z.object({ room: z.string(), lastRead: z.number() });

export const RoomVisibility = z.enum(['public', 'private', 'dm']);

/** One of my rooms, as the room list shows it. */
export const MyRoom = z.object({
  room: z.string(),
  visibility: RoomVisibility,
  /** A private room's title; a direct message's other person. */
  title: z.string().optional(),
  peer: User.optional(),
  lastSeq: z.number(),
  lastRead: z.number(),
  /** Messages after `lastRead` by others (changes and my own messages do not count). */
  unread: z.number(),
  /** Of those, the ones that mention me. */
  mentions: z.number(),
  /** When the last message arrived (ms), if any. */
  lastActivity: z.number().optional(),
});
export const MyRoomsOk = z.object({ rooms: z.array(MyRoom) });

export const DirectoryRequest = z.strictObject({ q: z.string().max(64).optional(), limit: z.number().int().min(1).max(100).optional() });
export const DirectoryQuery = z.object({ q: z.string().max(64).optional(), limit: queryNumber(z.number().int().min(1).max(100)).optional() });
export const DirectoryEntry = z.object({
  room: z.string(),
  /** People present now. */
  members: z.number(),
  /** How long its log is. */
  lastSeq: z.number(),
  lastActivity: z.number().optional(),
});
export const DirectoryOk = z.object({ rooms: z.array(DirectoryEntry) });

export const PartRequest = z.strictObject({ room: RoomName });

// ----- private rooms and direct messages (since 2.0) ------------------------

export const CreateRoomRequest = z.strictObject({ title: DisplayName });
export const CreateRoomOk = z.object({ room: z.string(), title: z.string() });
export const InviteRequest = z.strictObject({ room: RoomName, userId: z.string().min(1).max(64) });
export const InviteLinkRequest = z.strictObject({ room: RoomName });
export const InviteLinkOk = z.object({ token: z.string() });
export const RevokeInviteRequest = z.strictObject({ room: RoomName, token: z.string().min(1).max(128) });
export const AcceptInviteRequest = z.strictObject({ token: z.string().min(1).max(128) });
export const RemoveMemberRequest = z.strictObject({ room: RoomName, userId: z.string().min(1).max(64) });
export const MembersRequest = z.strictObject({ room: RoomName });
/** A member and their role (`moderator` since 2.7; a public room lists its moderators first). */
export const RoomMember = z.object({ userId: z.string(), name: z.string(), role: z.enum(['owner', 'moderator', 'member']) });
export const MembersOk = z.object({
  room: z.string(),
  visibility: RoomVisibility,
  title: z.string().optional(),
  members: z.array(RoomMember),
});
export const DmRequest = z.strictObject({ userId: z.string().min(1).max(64) });
export const DmOk = z.object({ room: z.string(), peer: User });
export const UsersRequest = z.strictObject({ q: z.string().min(1).max(32) });
export const UsersOk = z.object({ users: z.array(User) });

// ----- search (since 2.4) ----------------------------------------------------

/** A day, as the search grammar's `before:` and `after:` take it. */
const SearchDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD').refine((d) => dayStart(d) !== undefined, 'not a real date');
/** An opaque position from a previous page's `next`. */
const SearchCursor = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a cursor from a previous answer');

const searchFields = {
  /** What a person types: words, "phrases", -exclusions, and in:/from:/has:link/before:/after: filters. */
  q: z.string().max(SEARCH_LIMITS.maxQueryChars),
  /** As `in:#room` in q. */
  room: RoomName.optional(),
  /** As `from:@name` in q. */
  from: z.string().min(1).max(64).optional(),
  before: SearchDay.optional(),
  after: SearchDay.optional(),
  cursor: SearchCursor.optional(),
};
export const SearchRequest = z.strictObject({ ...searchFields, limit: z.number().int().min(1).max(SEARCH_LIMITS.maxLimit).optional() });
export const SearchQueryString = z.object({ ...searchFields, limit: queryNumber(z.number().int().min(1).max(SEARCH_LIMITS.maxLimit)).optional() });
export const SearchResult = z.object({
  room: z.string(),
  seq: z.number(),
  id: z.string(),
  author: z.string(),
  authorId: z.string(),
  ts: z.number(),
  /** The message's whole current text. */
  text: z.string(),
  /** Plain text around the first match (cut ends marked …). */
  snippet: z.string(),
  /** [start, end) UTF-16 offsets into `snippet` of what matched, ascending: the client marks them up, never the server. */
  highlights: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])),
  /** A private room's title. */
  title: z.string().optional(),
});
export const SearchOk = z.object({
  /** Newest first. */
  results: z.array(SearchResult),
  /** Ask again with `cursor: next` for the results below these. */
  next: z.string().optional(),
  /** The search's time ran out before the page was full; `next` goes on from where it stopped. */
  partial: z.boolean().optional(),
});

// ----- what clients tell operators (since 2.0) -------------------------------

/** The carriers, best first (a fallback goes down this list, an upgrade up). */
export const TransportName = z.enum(TRANSPORTS);

/**
 * A client moved to another carrier: `fallback` when the better one failed
 * (`reason`: how it failed), `upgrade` when a better one proved itself.
 * Counted per node on /metrics; the direction must match the event.
 */
export const ReportRequest = z
  .strictObject({
    event: z.enum(['fallback', 'upgrade']),
    from: TransportName,
    to: TransportName,
    reason: z.enum(['refused', 'timeout', 'lost', 'unresponsive']).optional(),
  })
  .refine((r) => (r.event === 'fallback' ? transportRank(r.to) > transportRank(r.from) : transportRank(r.to) < transportRank(r.from)), {
    message: 'a fallback goes to a lower transport, an upgrade to a higher one',
  });
