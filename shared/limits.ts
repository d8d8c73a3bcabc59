/**
 * Numbers both sides of the wire rely on. Each is part of the contract
 * (docs/PROTOCOL.md); the server's tunable settings live in server/config.ts.
 */
import { NAME_MAX_CHARS, TEXT_MAX_CHARS } from './text-rules.ts';

export const LIMITS = {
  /** Longest message text, in code points, after NFC and trimming. */
  textMaxChars: TEXT_MAX_CHARS,
  /** Longest display name, in code points, after NFC and trimming. */
  nameMaxChars: NAME_MAX_CHARS,
  /** Messages a join returns when the client has nothing yet (`since` absent). */
  joinPage: 50,
  /** Largest page a `history` request or REST read may ask for. */
  historyMaxPage: 200,
  /** Default page size for `history` and REST reads. */
  historyDefaultPage: 50,
  /**
   * Largest gap a resume (`join` with `since`, a REST read with `after`)
   * replays. A client further behind gets `recovered: false` and the latest
   * page, and reloads instead of replaying an unbounded backlog in one answer.
   */
  replayMax: 1000,
  /**
   * A page (history, a REST read, a join's latest page) holds at most this
   * many bytes of messages, even when `limit` would allow more: a page of
   * long messages holds fewer. Read on from its first (or last) seq.
   */
  pageMaxBytes: 256 * 1024,
  /**
   * A resume replays at most this many bytes of messages; a client further
   * behind gets the latest page and `recovered: false`, as when it is more
   * than `replayMax` messages behind.
   */
  replayMaxBytes: 512 * 1024,
  /** Largest socket.io packet and HTTP body the server accepts, in bytes. */
  maxPacketBytes: 64 * 1024,
  /** Files one message may carry. */
  attachmentsPerMessage: 10,
  /** Rooms one connection may be in at once. */
  roomsPerConnection: 100,
} as const;

/** Time constants the client and the server must agree on. */
export const TIMING = {
  /** A typing signal lasts this long on the server unless renewed. */
  typingTtlMs: 6_000,
  /** Clients renew a typing signal at most this often while the user types. */
  typingRenewMs: 2_000,
  /** The server pings every connection this often (socket.io's `pingInterval`)… */
  heartbeatIntervalMs: 10_000,
  /** …and drops one that has not answered this long after a ping (`pingTimeout`). */
  heartbeatTimeoutMs: 10_000,
  /** One Ajax poll keeps its user present this long (a few poll intervals). */
  pollLeaseMs: 30_000,
} as const;
