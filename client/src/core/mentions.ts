/**
 * `@name` mentions in the composer: which `@query` the caret is in, who it
 * may complete to, the text a completion inserts, and which users a message
 * mentions when it is sent. Pure, so the rules are table-tested.
 *
 * A mention travels twice: as text (`@alice`, what people read) and as a
 * userId in the message's `mentions` (what the server counts and the
 * mentioned person's client highlights). Two people in view may show one
 * name; a completion then inserts the name with its tag (`@alice#K3F9`,
 * `displayTag` of the userId, as the name tags elsewhere in the view show it),
 * so the text tells them apart as well as the ids do.
 */
import { displayTag, type User } from '../../../shared/protocol.ts';
import { nameKey } from './name-tags.ts';

/** Suggestions shown at most. */
export const SUGGESTION_LIMIT = 8;
/** A query longer than this is no longer taken for a name (names have at most 32 code points). */
const QUERY_MAX = 32;

/** The `@query` under the caret: `text.slice(start, end)` is `@` + `query`. */
export interface MentionQuery {
  start: number;
  end: number;
  query: string;
}

/** What may stand right before an `@` that starts a mention (not an e-mail address's `@`). */
const BEFORE_AT = /[\s([{"'“‘«]/u;
/** What may not follow a name in the text (it would make the name longer). */
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

/** The mention being typed where the caret is, or null. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !BEFORE_AT.test(before[at - 1] as string)) return null;
  const query = before.slice(at + 1);
  if (query.length > QUERY_MAX || /[\n@]/.test(query) || /^\s/.test(query)) return null;
  return { start: at, end: caret, query };
}

/** One completion: the person, and the tag their name needs in this room (null: none). */
export interface Suggestion {
  user: User;
  tag: string | null;
}

/** People in view once each (by userId), the user excluded. */
export function candidates(users: Iterable<User>, me: string | null): User[] {
  const byId = new Map<string, User>();
  for (const u of users) if (u.userId !== me && !byId.has(u.userId)) byId.set(u.userId, u);
  return [...byId.values()];
}

/**
 * Who `query` may complete to: names starting with it first, then names with
 * a later word starting with it, each group alphabetical. A name two people
 * in view share gets its tag.
 */
export function suggest(users: readonly User[], query: string, limit = SUGGESTION_LIMIT): Suggestion[] {
  const q = nameKey(query);
  const shared = sharedNames(users);
  const starts: User[] = [];
  const inside: User[] = [];
  for (const u of users) {
    const key = nameKey(u.name);
    if (key.startsWith(q)) starts.push(u);
    else if (q !== '' && key.split(/\s+/).some((w) => w.startsWith(q))) inside.push(u);
  }
  const byName = (a: User, b: User) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId);
  return [...starts.sort(byName), ...inside.sort(byName)]
    .slice(0, limit)
    .map((user) => ({ user, tag: shared.has(nameKey(user.name)) ? displayTag(user.userId) : null }));
}

function sharedNames(users: readonly User[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const u of users) {
    const key = nameKey(u.name);
    if (seen.has(key)) shared.add(key);
    seen.add(key);
  }
  return shared;
}

/** The text a completion inserts, a space included. */
export function mentionText(s: Suggestion): string {
  return `@${s.user.name}${s.tag === null ? '' : `#${s.tag}`} `;
}

/** Replaces the `@query` with the completion; returns the new text and where the caret goes. */
export function complete(text: string, q: MentionQuery, s: Suggestion): { text: string; caret: number } {
  const inserted = mentionText(s);
  // A space already after the query is not doubled.
  const rest = text.slice(q.end);
  const next = text.slice(0, q.start) + (rest.startsWith(' ') ? inserted.trimEnd() : inserted) + rest;
  return { text: next, caret: q.start + inserted.length };
}

/**
 * The userIds a message mentions: every `@name` (or `@name#TAG`) in its text
 * that names one person in view. The longest name wins (`@mary ann` over
 * `@mary`). A name two people share needs its tag; without one it mentions
 * the person the composer's completion chose (`picked`), else nobody.
 */
export function resolveMentions(text: string, users: readonly User[], picked: ReadonlyMap<string, string> = new Map()): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (let i = lower.indexOf('@'); i >= 0; i = lower.indexOf('@', i + 1)) {
    if (i > 0 && !BEFORE_AT.test(text[i - 1] as string)) continue;
    let best: { name: string; ids: string[] } | null = null;
    for (const u of users) {
      const name = u.name.toLowerCase();
      if (!lower.startsWith(name, i + 1)) continue;
      const after = text[i + 1 + name.length];
      if (after !== undefined && WORD_CHAR.test(after)) continue;
      if (best === null || name.length > best.name.length) best = { name, ids: [u.userId] };
      else if (name === best.name) best.ids.push(u.userId);
    }
    if (best === null) continue;
    const tail = text.slice(i + 1 + best.name.length);
    const tagged = /^#([0-9A-Z]{4})(?![\p{L}\p{N}])/u.exec(tail);
    const byTag = tagged ? best.ids.filter((id) => displayTag(id) === tagged[1]) : [];
    let id: string | undefined;
    if (byTag.length === 1) id = byTag[0];
    else if (best.ids.length === 1) id = best.ids[0];
    else id = best.ids.find((candidate) => picked.get(best.name) === candidate);
    if (id !== undefined && !found.includes(id)) found.push(id);
  }
  return found.slice(0, 20);
}
