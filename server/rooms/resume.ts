/**
 * The one rule for resuming a room, shared by every carrier: a socket
 * `join { since, epoch }`, the REST join, a stream's `Last-Event-ID` and
 * REST reads `?after=&epoch=`. The room composes it with what it knows (where
 * its log ends, and the source its pages come from); the rule itself holds no
 * state, so it is tested on its own (resume.test.ts) as well as through every
 * carrier (server/test/resume.integration.test.ts).
 */
import { LIMITS, type Message } from '../../shared/protocol.ts';
import { newestWithin, pageAfter, readWithin, type PageSource } from './pages.ts';

/** Where a room's log ends, as the room knows it. */
export interface LogEnd {
  room: string;
  epoch: string;
  lastSeq: number;
}

export interface Resume {
  messages: Message[];
  /** False: `messages` is the latest page, and the client replaces its copy instead of merging. */
  recovered: boolean;
}

export interface ResumeOptions {
  /** Most messages replayed (a join: the replay limit; a REST read: one page). */
  limit: number;
  /** Size of the latest page answered when there is nothing to resume from, or it cannot be replayed. */
  latest: number;
  /**
   * A join answers the whole replay in one packet, so a replay over the byte
   * limit is not recovered; a REST read answers one page of it and the client
   * reads on.
   */
  whole: boolean;
  /** Whose reactions count as `mine`. */
  viewer?: string | undefined;
}

/**
 * Exactly what follows `since` when it can be replayed, else the latest page
 * with `recovered: false`. A resume cannot be replayed from another epoch
 * (the log was reset), from a seq beyond the log's end, or from further
 * behind than the replay limits (messages and bytes). `since` 0 holds
 * nothing to mismatch, so any epoch replays from it.
 */
export async function resume(src: PageSource, log: LogEnd, since: number | undefined, epoch: string | undefined, opts: ResumeOptions): Promise<Resume> {
  if (since === undefined) return { messages: await latestPage(src, log, opts.latest, opts.viewer), recovered: true };
  const behind = log.lastSeq - since;
  const sameLog = epoch === undefined || epoch === log.epoch || since === 0;
  if (sameLog && behind >= 0 && behind <= LIMITS.replayMax) {
    if (behind === 0) return { messages: [], recovered: true };
    const count = Math.min(behind, opts.limit);
    if (!opts.whole) return { messages: await pageAfter(src, log.room, since, count, opts.viewer), recovered: true };
    // The whole replay in one packet: read it in steps, and stop as soon as it would not fit.
    const replay = await readWithin(src, log.room, since, count, LIMITS.replayMaxBytes, opts.viewer);
    if (replay.complete) return { messages: replay.messages, recovered: true };
  }
  return { messages: await latestPage(src, log, opts.latest, opts.viewer), recovered: false };
}

/** The latest page: up to `limit` entries, the newest that fit in a page's bytes. */
export async function latestPage(src: PageSource, log: LogEnd, limit: number, viewer: string | undefined): Promise<Message[]> {
  return log.lastSeq === 0 ? [] : newestWithin(await src.readBefore(log.room, log.lastSeq + 1, limit, viewer));
}
