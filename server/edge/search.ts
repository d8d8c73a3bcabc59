/**
 * The `search` command: what a person typed, parsed by the shared grammar
 * (never handed to an engine raw), joined with the request's own filters,
 * run by the store for this caller (public rooms and the rooms they are a
 * member of now), and answered with snippets and highlight ranges.
 */
import { fail, type Ack, type OkInputOf, type ParsedRequestOf } from '../../shared/protocol.ts';
import { SEARCH_LIMITS, dayStart, isRunnable, parseSearch, type SearchQuery } from '../../shared/search-query.ts';
import { compileSearch, snippetOf } from '../store/search-text.ts';
import type { Store } from '../store/store.ts';
import type { UserCaller } from './caller.ts';

const DAY_MS = 86_400_000;
/** Names one `from:` resolves to at most (guests may share a name). */
const FROM_IDS = 20;

export interface SearchDeps {
  store: Store;
  /** How long the store may look for one page (ms). */
  timeMs: number;
  /** The store failed (logged and counted by the caller); the search is answered `unavailable`. */
  failed?: (err: unknown) => void;
}

/** A cursor as clients see it: opaque, versioned, of the store's position. */
export function encodeCursor(position: number): string {
  return Buffer.from(`s1:${position}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  const m = /^s1:(-?\d{1,17})$/.exec(Buffer.from(cursor, 'base64url').toString());
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The request's own fields, as if typed into q. */
function withFields(q: SearchQuery, req: ParsedRequestOf<'search'>): SearchQuery {
  const out = { ...q, rooms: [...q.rooms], from: [...q.from] };
  if (req.room !== undefined && !out.rooms.includes(req.room)) out.rooms.push(req.room);
  const from = req.from?.replace(/^@/, '');
  if (from && !out.from.includes(from)) out.from.push(from);
  const before = req.before === undefined ? undefined : dayStart(req.before);
  if (before !== undefined) out.before = out.before === undefined ? before : Math.min(out.before, before);
  const after = req.after === undefined ? undefined : dayStart(req.after);
  if (after !== undefined) out.after = out.after === undefined ? after + DAY_MS : Math.max(out.after, after + DAY_MS);
  return out;
}

/** The bytes a page of results carries, charged to the read-bytes budget like a page of history. */
export function resultBytes(results: ReadonlyArray<{ text: string; snippet: string }>): number {
  let n = 0;
  for (const r of results) n += 200 + 2 * (r.text.length + r.snippet.length);
  return n;
}

export function searchCommand({ store, timeMs, failed }: SearchDeps) {
  /** The ids of the people a `from:` names: anyone whose current name it is, case aside. */
  const authorIds = async (names: readonly string[]): Promise<string[]> => {
    const ids = new Set<string>();
    for (const name of names) {
      const key = name.toLowerCase();
      for (const u of await store.findUsers(name, FROM_IDS)) if (u.name.toLowerCase() === key) ids.add(u.userId);
    }
    return [...ids];
  };

  return async (caller: UserCaller, req: ParsedRequestOf<'search'>): Promise<Ack<OkInputOf<'search'>>> => {
    const parsed = parseSearch(req.q);
    if (parsed.dropped > 0) return fail('bad_request', `a search may hold at most ${SEARCH_LIMITS.maxTerms} words and phrases`);
    const q = withFields(parsed, req);
    if (!isRunnable(q)) return fail('bad_request', 'say what to look for: a word, a "phrase" or a filter such as in:#room (exclusions alone find nothing)');
    const below = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    if (req.cursor !== undefined && below === undefined) return fail('bad_request', 'that cursor is not one this server gave');
    try {
      const ids = q.from.length > 0 ? await authorIds(q.from) : undefined;
      if (ids && ids.length === 0) return { ok: true, results: [] };
      const page = await store.search({
        compiled: compileSearch(q),
        rooms: q.rooms,
        authorIds: ids,
        before: q.before,
        after: q.after,
        viewer: caller.identity.userId,
        limit: req.limit ?? SEARCH_LIMITS.defaultLimit,
        below,
        budgetMs: timeMs,
      });
      const results = page.hits.map((h) => ({
        room: h.room,
        seq: h.seq,
        id: h.id,
        author: h.author,
        authorId: h.authorId,
        ts: h.ts,
        text: h.text,
        ...snippetOf(h.text, q),
        ...(h.title === undefined ? {} : { title: h.title }),
      }));
      return {
        ok: true,
        results,
        ...(page.next === undefined ? {} : { next: encodeCursor(page.next) }),
        ...(page.partial ? { partial: true } : {}),
      };
    } catch (err) {
      failed?.(err);
      return fail('unavailable', 'search is unavailable right now; try again shortly', 1000);
    }
  };
}
