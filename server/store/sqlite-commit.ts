/**
 * The SQLite store's commit: one synchronous transaction per room's batch,
 * in which the shared `plan` (log-rules.ts) reads what it needs and the
 * plan's operations are written, so its lookups and its writes see one
 * snapshot. Commits of many rooms issued in one event-loop turn share one
 * transaction (group-commit.ts), each room's part in its own savepoint.
 */
import type Database from 'better-sqlite3';
import { GroupCommitter, type Outcome } from './group-commit.ts';
import { plan, type PlanOp } from './log-rules.ts';
import { ENTRY_COLUMNS, MODERATED, rowToEntry, type EntryRow } from './rows.ts';
import type { SqliteSearchIndex } from './sqlite-search.ts';
import type { CommitListener, CommitResult, Draft } from './store.ts';

/**
 * A group holds at most this many drafts (but always one room's whole
 * batch): about one full room turn (ROOM_MAX_TURN's default), so a flush
 * holds the event loop no longer than one busy room's commit already does.
 */
export const GROUP_MAX_DRAFTS = 512;

/**
 * A commit waits at most about this long (ms) for others to join its group:
 * on a loaded server one poll phase can last far longer, and the ack and
 * broadcast wait for the commit.
 */
export const GROUP_MAX_WAIT_MS = 2;

export interface CommitOptions {
  /** On (default): one transaction for the commits of one turn. Off: one per room's commit. */
  groupCommit?: boolean;
  /** How long a commit may wait for others to join its group (ms); GROUP_MAX_WAIT_MS by default. */
  groupMaxWaitMs?: number;
}

interface CommitJob {
  room: string;
  drafts: readonly Draft[];
  epochIfNew: string;
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    room: db.prepare<[string], { epoch: string }>('SELECT epoch FROM rooms WHERE name = ?'),
    insertRoom: db.prepare<[string, string, number, string | null]>(
      "INSERT INTO rooms (name, epoch, created_at, visibility, owner_id) VALUES (?, ?, ?, 'public', ?)",
    ),
    touchRoom: db.prepare<[number, string]>('UPDATE rooms SET last_ts = ? WHERE name = ?'),
    lastSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM messages WHERE room = ?'),
    insert: db.prepare<[string, number, string, string | null, string, string, string, number, string, number | null, string | null, number | null, number | null, string | null, string | null, string | null]>(
      'INSERT INTO messages (room, seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, reply_to, mentions, attachments, mod) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    entry: db.prepare<[string, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq = ?`),
    sendFile: db.prepare<[number, string, string]>('UPDATE files SET seq = ? WHERE id = ? AND room = ? AND seq IS NULL'),
    byClient: db.prepare<[string, string, string], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND client_id = ? AND author_id = ?`),
    edit: db.prepare<[string, number, string | null, string, number]>('UPDATE messages SET text = ?, edited_at = ?, mentions = coalesce(?, mentions) WHERE room = ? AND seq = ?'),
    tombstone: db.prepare<[string | null, string, number]>("UPDATE messages SET text = '', deleted = 1, mentions = NULL, attachments = NULL, edited_at = NULL, mod = ? WHERE room = ? AND seq = ?"),
    wipeEdits: db.prepare<[string, number]>("UPDATE messages SET text = '' WHERE room = ? AND target = ? AND kind = 'edit'"),
    dropReactions: db.prepare<[string, number]>('DELETE FROM reactions WHERE room = ? AND target = ?'),
    hasReaction: db.prepare<[string, number, string, string], { x: number }>('SELECT 1 AS x FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_id = ?'),
    addReaction: db.prepare<[string, number, string, string, string]>('INSERT OR IGNORE INTO reactions (room, target, emoji, user_id, user_name) VALUES (?, ?, ?, ?, ?)'),
    removeReaction: db.prepare<[string, number, string, string]>('DELETE FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_id = ?'),
  };
}

/** Commits rooms' batches to one database, grouped by turn unless told not to. */
export class SqliteCommitter {
  private readonly q: Statements;
  private readonly commitTx: Database.Transaction<(room: string, drafts: readonly Draft[], epochIfNew: string) => CommitResult>;
  private readonly group: GroupCommitter<CommitJob, CommitResult> | undefined;
  private readonly listeners: CommitListener[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly index: SqliteSearchIndex,
    opts: CommitOptions = {},
  ) {
    this.q = prepare(db);
    this.commitTx = db.transaction((room: string, drafts: readonly Draft[], epochIfNew: string) => this.commitIn(room, drafts, epochIfNew));
    if (opts.groupCommit ?? true) {
      const groupTx = db.transaction((jobs: readonly CommitJob[]) => jobs.map((j) => this.commitInGroup(j)));
      this.group = new GroupCommitter<CommitJob, CommitResult>({
        run: (jobs) => groupTx.immediate(jobs),
        weight: (j) => j.drafts.length,
        maxWeight: GROUP_MAX_DRAFTS,
        maxWaitMs: opts.groupMaxWaitMs ?? GROUP_MAX_WAIT_MS,
        onGroup: (rooms, drafts, waitedMs) => this.told(rooms, drafts, waitedMs),
      });
    }
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    if (this.group) return this.group.submit({ room, drafts, epochIfNew });
    this.told(1, drafts.length, 0);
    return this.commitTx.immediate(room, drafts, epochIfNew);
  }

  /** `listener` hears of every transaction: how many rooms and drafts it held, and how long the first waited. */
  observe(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Commits (or refuses) every commit already asked for, now. */
  flushAll(): void {
    this.group?.flushAll();
  }

  /**
   * One room's part of a group: its own savepoint (commitTx nests), so a
   * room whose statements fail is rolled back alone and the others commit.
   */
  private commitInGroup(j: CommitJob): Outcome<CommitResult> {
    // Some errors (disk full, I/O) make SQLite roll back the whole
    // transaction: the rest of the group must not run outside it, each in
    // its own autocommit. Throwing fails the group, so every room refuses.
    if (!this.db.inTransaction) throw new Error('the group transaction was rolled back');
    try {
      return { ok: true, value: this.commitTx(j.room, j.drafts, j.epochIfNew) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private told(rooms: number, drafts: number, waitedMs: number): void {
    for (const l of this.listeners) l(rooms, drafts, waitedMs);
  }

  /** The commit's body, inside the transaction. */
  private commitIn(room: string, drafts: readonly Draft[], epochIfNew: string): CommitResult {
    const q = this.q;
    const info = q.room.get(room);
    const p = plan(room, drafts, {
      byClient: (authorId, clientId) => {
        const row = q.byClient.get(room, clientId, authorId);
        return row && rowToEntry(row);
      },
      entry: (seq) => {
        const row = q.entry.get(room, seq);
        return row && rowToEntry(row);
      },
      hasReaction: (target, emoji, userId) => q.hasReaction.get(room, target, emoji, userId) !== undefined,
      lastSeq: () => q.lastSeq.get(room)?.s ?? 0,
    });
    let epoch = info?.epoch;
    if (p.ops.length > 0 && epoch === undefined) {
      epoch = epochIfNew;
      q.insertRoom.run(room, epoch, Date.now(), drafts[0]?.authorId ?? null);
    }
    let lastTs: number | undefined;
    for (const op of p.ops) lastTs = this.apply(room, op) ?? lastTs;
    if (lastTs !== undefined) q.touchRoom.run(lastTs, room);
    return { log: { epoch: epoch ?? epochIfNew, lastSeq: p.lastSeq }, results: p.results };
  }

  /** Performs one operation of a plan; answers the ts of an inserted entry. */
  private apply(room: string, op: PlanOp): number | undefined {
    const q = this.q;
    switch (op.op) {
      case 'insert': {
        const e = op.entry;
        q.insert.run(
          room,
          e.seq,
          e.id,
          e.clientId ?? null,
          e.author,
          e.authorId,
          e.text,
          e.ts,
          e.kind ?? 'message',
          e.target ?? null,
          e.emoji ?? null,
          e.on === undefined ? null : e.on ? 1 : 0,
          e.replyTo ?? null,
          e.mentions ? JSON.stringify(e.mentions) : null,
          e.attachments ? JSON.stringify(e.attachments) : null,
          e.mod ? JSON.stringify(e.mod) : null,
        );
        // In the same transaction: a file is sent exactly when its message is stored.
        for (const a of e.attachments ?? []) q.sendFile.run(e.seq, a.id, room);
        if ((e.kind ?? 'message') === 'message' && e.text !== '') this.index.add(room, e.seq, e.ts, e.text);
        return e.ts;
      }
      case 'edit':
        q.edit.run(op.text, op.editedAt, op.mentions ? JSON.stringify(op.mentions) : null, room, op.target);
        this.index.replace(room, op.target, op.text);
        return undefined;
      case 'delete':
        q.tombstone.run(op.moderated ? MODERATED : null, room, op.target);
        q.wipeEdits.run(room, op.target);
        q.dropReactions.run(room, op.target);
        this.index.remove(room, op.target);
        return undefined;
      case 'react':
        if (op.on) q.addReaction.run(room, op.target, op.emoji, op.user.userId, op.user.name);
        else q.removeReaction.run(room, op.target, op.emoji, op.user.userId);
        return undefined;
    }
  }
}
