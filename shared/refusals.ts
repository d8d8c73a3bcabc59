/**
 * What the server counts when it refuses or fails something, named once:
 * the `reason` label of `fiberchat_refusals_total` and the `kind` label of
 * `fiberchat_failures_total`, which the operations page and the alerting
 * rules read. A call site with a name not listed here does not compile.
 */
import type { Budget } from './commands.ts';

/** Refusals that are not a command's rate budget. */
export const FIXED_REFUSALS = [
  /** A socket connection had MAX_IN_FLIGHT commands unanswered. */
  'in_flight',
  /** An identity or address had started as many room fibers as it may. */
  'room_budget',
  /** A connection past MAX_CONNECTIONS_PER_ADDRESS / _PER_IDENTITY. */
  'connection_cap_address',
  'connection_cap_identity',
  /** TCP connections from one address past the cap, before any protocol. */
  'tcp_cap',
  /** Server-Sent Events tickets past STREAM_TICKET_RATE. */
  'rate_stream_ticket',
  /** Operator sign-ins on the operations page past their rate. */
  'rate_ops_login',
] as const;

/** `rate_<budget>`: a command past its budget (see the command table). */
export type RefusalReason = `rate_${Budget}` | (typeof FIXED_REFUSALS)[number];

/** Failures caught and counted (each also logged), by where they happened. */
export const FAILURE_KINDS = [
  /** Store calls inside a room fiber. */
  'load',
  'read',
  'commit',
  'catch_up',
  'membership',
  /** A bug in a command handler (answered `internal`). */
  'handler',
  /** Checking or ending a session; issuing or redeeming a stream ticket. */
  'session',
  /** Account commands (sign-in, passkeys, deletion). */
  'account',
  /** A search the store could not run (answered `unavailable`). */
  'search',
  /** Redis: the bus of hints, and the operations page's channel. */
  'bus',
  'ops_channel',
  /** Storing, reading or collecting uploaded files. */
  'files',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];
