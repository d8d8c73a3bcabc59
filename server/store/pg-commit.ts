/**
 * The PostgreSQL store's commit: one transaction that holds the room row's
 * lock (`SELECT … FOR UPDATE`), the room's single writer across every node.
 * Under the lock it prefetches what the batch can read (log-rules.ts
 * `touches`), runs the shared `plan` synchronously on that, and performs the
 * plan's operations in a fixed number of statements, whatever the batch's
 * size.
 */
import type pg from 'pg';
import type { Message } from '../../shared/protocol.ts';
import { kindOf, plan, touches, type Plan, type PlanLookups, type PlanOp } from './log-rules.ts';
import { SLOTS_PER_MS, textVector } from './pg-search.ts';
import { ENTRY_COLUMNS, MODERATED, rowToEntry, type EntryRow } from './rows.ts';
import type { CommitResult, Draft } from './store.ts';

interface LockedRoom {
  epoch: string;
  last_seq: number;
}

const clientKey = (authorId: string, clientId: string) => `${authorId}\u0000${clientId}`;
const reactionKey = (target: number, emoji: string, userId: string) => `${target}\u0000${emoji}\u0000${userId}`;

/** What a room without a row holds: nothing (its row is created before its first entry). */
const EMPTY: PlanLookups = { byClient: () => undefined, entry: () => undefined, hasReaction: () => false, lastSeq: () => 0 };

/** Commits `drafts` to `room` inside the caller's transaction. */
export async function commitIn(client: pg.PoolClient, room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
  const lock = async () =>
    (await client.query<LockedRoom>('SELECT epoch, last_seq FROM rooms WHERE name = $1 FOR UPDATE', [room])).rows[0];
  let row = await lock();
  if (!row) {
    // A room without a row has no entries: plan against nothing, and create
    // the row only when the plan stores something (a batch of refusals leaves
    // nothing behind).
    const p = plan(room, drafts, EMPTY);
    if (p.ops.length === 0) return { log: { epoch: epochIfNew, lastSeq: 0 }, results: p.results };
    // Two nodes may create the room at once: one insert wins (and holds the
    // new row's lock until it commits), the other waits on it, inserts nothing,
    // and plans again below against what the winner stored.
    const created = await client.query(
      "INSERT INTO rooms (name, epoch, last_seq, visibility, owner_id) VALUES ($1, $2, 0, 'public', $3) ON CONFLICT (name) DO NOTHING",
      [room, epochIfNew, drafts[0]?.authorId ?? null],
    );
    if (created.rowCount === 1) {
      await perform(client, room, p);
      return { log: { epoch: epochIfNew, lastSeq: p.lastSeq }, results: p.results };
    }
    row = await lock();
    if (!row) throw new Error(`room row missing after insert: ${room}`);
  }
  // Read under the lock, so what other nodes committed to this room is visible.
  const p = plan(room, drafts, await prefetch(client, room, drafts, row));
  if (p.ops.length > 0) await perform(client, room, p);
  return { log: { epoch: row.epoch, lastSeq: p.lastSeq }, results: p.results };
}

/** Everything `plan` may ask about this batch, in at most three queries. */
async function prefetch(client: pg.PoolClient, room: string, drafts: readonly Draft[], row: LockedRoom): Promise<PlanLookups> {
  const { seqs, reactions } = touches(drafts);
  const stored = await client.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM messages
     WHERE room = $1 AND (author_id, client_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [room, drafts.map((d) => d.authorId), drafts.map((d) => d.clientId)],
  );
  const byClient = new Map(stored.rows.map((r) => [clientKey(r.author_id, r.client_id ?? ''), rowToEntry(r)]));
  const entries = new Map<number, Message>();
  if (seqs.length > 0) {
    const r = await client.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = $1 AND seq = ANY($2::bigint[])`, [room, seqs]);
    for (const e of r.rows) entries.set(e.seq, rowToEntry(e));
  }
  const reacted = new Set<string>();
  if (reactions.length > 0) {
    const r = await client.query<{ target: number; emoji: string; user_id: string }>(
      `SELECT target, emoji, user_id FROM reactions
       WHERE room = $1 AND (target, emoji, user_id) IN (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[]))`,
      [room, reactions.map((x) => x.target), reactions.map((x) => x.emoji), reactions.map((x) => x.userId)],
    );
    for (const x of r.rows) reacted.add(reactionKey(x.target, x.emoji, x.user_id));
  }
  return {
    byClient: (authorId, clientId) => byClient.get(clientKey(authorId, clientId)),
    entry: (seq) => entries.get(seq),
    hasReaction: (target, emoji, userId) => reacted.has(reactionKey(target, emoji, userId)),
    lastSeq: () => row.last_seq,
  };
}

/**
 * Performs a plan's operations: the entries in one INSERT (which also
 * advances the room's counter and indexes the new messages for search),
 * then the edits (which replace the edited messages' search text), the
 * reactions and the deletes (which take the messages out of the index),
 * each kind in one statement. Collapsing a kind into one statement
 * keeps the plan's order because the rules never let a later kind undo an
 * earlier one: nothing may edit or react to a message once it is deleted,
 * and an edit does not touch reactions.
 */
async function perform(client: pg.PoolClient, room: string, p: Plan): Promise<void> {
  const inserts: Message[] = [];
  const edits = new Map<number, { text: string; editedAt: number; mentions: string[] | undefined }>();
  const deletes: number[] = [];
  const moderated = p.ops.flatMap((op) => (op.op === 'delete' && op.moderated ? [op.target] : []));
  for (const op of p.ops) collect(op, inserts, edits, deletes);
  await insertEntries(client, room, inserts, p.lastSeq);
  if (edits.size > 0) {
    const list = [...edits];
    await client.query(
      // The message keeps its place in search order; its tokens are the new text's.
      `UPDATE messages m SET text = x.text, edited_at = x.edited_at, mentions = coalesce(${jsonToArray('x.mentions')}, m.mentions),
         search = x.search::tsvector
       FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[]) AS x(target, text, edited_at, mentions, search)
       WHERE m.room = $1 AND m.seq = x.target`,
      [
        room,
        list.map(([t]) => t),
        list.map(([, e]) => e.text),
        list.map(([, e]) => e.editedAt),
        list.map(([, e]) => json(e.mentions)),
        list.map(([, e]) => textVector(e.text)),
      ],
    );
  }
  await react(client, room, p.ops);
  if (deletes.length > 0) {
    // Disjoint rows (the tombstones are messages, the wiped rows edits), so one statement may hold both updates.
    await client.query(
      `WITH tombstones AS (
         UPDATE messages SET text = '', deleted = true, mentions = NULL, attachments = NULL, edited_at = NULL, search = NULL, search_pos = NULL,
           mod = CASE WHEN seq = ANY($3::bigint[]) THEN $4 ELSE NULL END
         WHERE room = $1 AND seq = ANY($2::bigint[])
       ), wiped AS (
         UPDATE messages SET text = '' WHERE room = $1 AND target = ANY($2::bigint[]) AND kind = 'edit'
       )
       DELETE FROM reactions WHERE room = $1 AND target = ANY($2::bigint[])`,
      [room, deletes, moderated, MODERATED],
    );
  }
}

function collect(op: PlanOp, inserts: Message[], edits: Map<number, { text: string; editedAt: number; mentions: string[] | undefined }>, deletes: number[]): void {
  switch (op.op) {
    case 'insert':
      inserts.push(op.entry);
      return;
    case 'edit': {
      // Several edits of one message in a batch: the last text wins; mentions stay unless an edit names them.
      const before = edits.get(op.target);
      edits.set(op.target, { text: op.text, editedAt: op.editedAt, mentions: op.mentions ?? before?.mentions });
      return;
    }
    case 'delete':
      deletes.push(op.target);
      return;
    case 'react':
      return; // see react()
  }
}

/** Tries at a position a message's commit makes before it gives up (each try after the first is a rare race lost). */
const POSITION_TRIES = 16;

/**
 * Inserts the entries in one statement, which also advances the room's
 * counter and activity, and indexes each message with text for search.
 *
 * A message's search position is its send time × SLOTS_PER_MS plus a slot:
 * a PostgreSQL SEQUENCE's next value modulo SLOTS_PER_MS. No lock across
 * rooms (only the room's own row is locked here), so concurrent commits
 * draw consecutive values and land in different slots of a ms; a clash
 * (two messages of one ms whose values differ by a multiple of 1024, or an
 * older message the backfill placed there) is caught by the unique index on
 * `search_pos`: the insert skips that row (ON CONFLICT DO NOTHING, after
 * waiting for the other writer) and it is inserted again at a fresh slot,
 * and after a few misses in later ms. Positions are so unique and in send
 * order, except that messages of one ms may come in either order.
 */
async function insertEntries(client: pg.PoolClient, room: string, entries: readonly Message[], lastSeq: number): Promise<void> {
  let left = entries;
  for (let attempt = 0; left.length > 0; attempt++) {
    if (attempt === POSITION_TRIES) throw new Error(`no free search position for ${left.length} message(s) of ${room}`);
    const inserted = await insertRows(client, room, left, attempt === 0 ? lastSeq : undefined, Math.max(0, attempt - 2));
    left = left.filter((m) => !inserted.has(m.seq));
  }
  // In the same transaction: a file is sent exactly when its message is stored.
  const sent = entries.flatMap((m) => (m.attachments ?? []).map((a) => [a.id, m.seq] as const));
  if (sent.length > 0) {
    await client.query(
      'UPDATE files f SET seq = x.seq FROM unnest($2::text[], $3::bigint[]) AS x(id, seq) WHERE f.id = x.id AND f.room = $1 AND f.seq IS NULL',
      [room, sent.map(([id]) => id), sent.map(([, seq]) => seq)],
    );
  }
}

/** One try of `insertEntries`: the seqs stored (a row whose position was taken is not). */
async function insertRows(client: pg.PoolClient, room: string, entries: readonly Message[], lastSeq: number | undefined, spillMs: number): Promise<Set<number>> {
  const col = <T>(f: (m: Message) => T) => entries.map(f);
  const insert = `INSERT INTO messages (room, seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, reply_to, mentions, search, search_pos, attachments, mod)
       SELECT $1, seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, reply_to, ${jsonToArray('mentions')},
         search::tsvector, CASE WHEN search IS NULL THEN NULL ELSE (ts + $16) * ${SLOTS_PER_MS} + nextval('search_pos_seq') % ${SLOTS_PER_MS} END, attachments, mod
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::bigint[], $11::text[], $12::boolean[], $13::bigint[], $14::text[], $15::text[], $17::text[], $18::text[])
         AS x(seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, reply_to, mentions, search, attachments, mod)
       ON CONFLICT (search_pos) WHERE search_pos IS NOT NULL DO NOTHING
       RETURNING seq`;
  const params: unknown[] = [
    room,
    col((m) => m.seq),
    col((m) => m.id),
    col((m) => m.clientId ?? null),
    col((m) => m.author),
    col((m) => m.authorId),
    col((m) => m.text),
    col((m) => m.ts),
    col(kindOf),
    col((m) => m.target ?? null),
    col((m) => m.emoji ?? null),
    col((m) => m.on ?? null),
    col((m) => m.replyTo ?? null),
    col((m) => json(m.mentions)),
    col((m) => (kindOf(m) === 'message' && m.text !== '' ? textVector(m.text) : null)),
    spillMs,
    col((m) => (m.attachments ? JSON.stringify(m.attachments) : null)),
    col((m) => (m.mod ? JSON.stringify(m.mod) : null)),
  ];
  const sql =
    lastSeq === undefined
      ? insert
      : `WITH inserted AS (${insert}), counter AS (UPDATE rooms SET last_seq = $19, last_ts = $20 WHERE name = $1) SELECT seq FROM inserted`;
  if (lastSeq !== undefined) params.push(lastSeq, entries.at(-1)?.ts ?? null);
  const r = await client.query<{ seq: number }>(sql, params);
  return new Set(r.rows.map((x) => x.seq));
}

/**
 * The batch's reactions, in two statements: take away every reaction the
 * batch took back at least once, then add those it leaves on, in the order
 * of their last adding. A reaction taken back and given again is so listed
 * last, as if each operation had run in turn.
 */
async function react(client: pg.PoolClient, room: string, ops: readonly PlanOp[]): Promise<void> {
  const final = new Map<string, { target: number; emoji: string; userId: string; name: string; on: boolean; takenBack: boolean }>();
  for (const op of ops) {
    if (op.op !== 'react') continue;
    const k = reactionKey(op.target, op.emoji, op.user.userId);
    const takenBack = (final.get(k)?.takenBack ?? false) || !op.on;
    final.delete(k); // set anew, so the map's order is the order of last change
    final.set(k, { target: op.target, emoji: op.emoji, userId: op.user.userId, name: op.user.name, on: op.on, takenBack });
  }
  if (final.size === 0) return;
  const off = [...final.values()].filter((r) => r.takenBack);
  if (off.length > 0) {
    await client.query(
      `DELETE FROM reactions WHERE room = $1 AND (target, emoji, user_id) IN (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[]))`,
      [room, off.map((r) => r.target), off.map((r) => r.emoji), off.map((r) => r.userId)],
    );
  }
  const on = [...final.values()].filter((r) => r.on);
  if (on.length > 0) {
    await client.query(
      `INSERT INTO reactions (room, target, emoji, user_id, user_name)
       SELECT $1, target, emoji, user_id, user_name
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(target, emoji, user_id, user_name, i)
       ORDER BY i`,
      [room, on.map((r) => r.target), on.map((r) => r.emoji), on.map((r) => r.userId), on.map((r) => r.name)],
    );
  }
}

/** A list as JSON text (or null), for a column of arrays that differ in length: a PostgreSQL array parameter must be rectangular. */
function json(list: readonly string[] | undefined): string | null {
  return list === undefined ? null : JSON.stringify(list);
}

/** SQL turning such JSON text back into text[] (null stays null). */
function jsonToArray(expr: string): string {
  return `CASE WHEN ${expr} IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(${expr}::jsonb)) END`;
}
