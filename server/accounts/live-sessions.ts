/**
 * This node's live connections by the session that opened them, so that
 * ending a session reaches its connections at once: `end` closes each (the
 * socket edge says `bye session_revoked`). Connections of 1.x tokens name
 * no session and are not listed.
 */
export class LiveSessions<C> {
  private readonly bySession = new Map<string, Set<C>>();

  constructor(private readonly close: (conn: C) => void) {}

  add(sessionId: string | undefined, conn: C): void {
    if (sessionId === undefined) return;
    let set = this.bySession.get(sessionId);
    if (!set) this.bySession.set(sessionId, (set = new Set()));
    set.add(conn);
  }

  remove(sessionId: string | undefined, conn: C): void {
    if (sessionId === undefined) return;
    const set = this.bySession.get(sessionId);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.bySession.delete(sessionId);
  }

  /** Closes every connection of these sessions; answers how many. */
  end(sessionIds: readonly string[]): number {
    let n = 0;
    for (const id of sessionIds) {
      const set = this.bySession.get(id);
      if (!set) continue;
      this.bySession.delete(id);
      for (const conn of set) {
        n++;
        this.close(conn);
      }
    }
    return n;
  }

  /** Sessions with a live connection here. */
  get size(): number {
    return this.bySession.size;
  }
}
