/**
 * Caps on open connections per client address and per identity, so that no
 * one client can take every file descriptor and socket buffer the server has
 * (DESIGN invariant 9). A connection is counted from `acquire` to `release`;
 * the tables hold only keys with at least one open connection, so their size
 * is bounded by the open connections themselves.
 *
 * Pure bookkeeping, no timers and no I/O: the socket edge calls `acquire`
 * when a connection is authenticated and `release` when it closes.
 */

export type CapRefusal = 'address' | 'identity';
export type CapResult = { ok: true } | { ok: false; refused: CapRefusal };

export interface ConnectionCapLimits {
  /**
   * Open connections from one client address (see `addressKey` in
   * client-address.ts: an IPv6 client counts by its /64). Generous, because a
   * school, an office or a carrier-grade NAT puts many people behind one
   * address.
   */
  perAddress: number;
  /** Open connections of one identity (one session's userId): tabs, devices, reconnects in flight. */
  perIdentity: number;
}

export const DEFAULT_CONNECTION_CAPS: ConnectionCapLimits = { perAddress: 256, perIdentity: 32 };

const OK: CapResult = { ok: true };

export class ConnectionCaps {
  readonly limits: ConnectionCapLimits;
  private readonly byAddress = new Map<string, number>();
  private readonly byIdentity = new Map<string, number>();

  constructor(limits: Partial<ConnectionCapLimits> = {}) {
    this.limits = { ...DEFAULT_CONNECTION_CAPS, ...limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`connection cap ${k} must be a positive integer, got ${v}`);
    }
  }

  /**
   * Counts one more connection for `address` and `userId`, or refuses it
   * and counts nothing (all or nothing, so a refusal never leaks a slot).
   * The address is checked first: it is the wider of the two.
   */
  acquire(address: string, userId: string): CapResult {
    if ((this.byAddress.get(address) ?? 0) >= this.limits.perAddress) return { ok: false, refused: 'address' };
    if ((this.byIdentity.get(userId) ?? 0) >= this.limits.perIdentity) return { ok: false, refused: 'identity' };
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    this.byIdentity.set(userId, (this.byIdentity.get(userId) ?? 0) + 1);
    return OK;
  }

  /**
   * Gives back a connection counted by `acquire`. Keys reaching zero are
   * removed. Releasing what was never acquired changes nothing, so a stray
   * second release cannot free a slot someone else holds.
   */
  release(address: string, userId: string): void {
    const a = this.byAddress.get(address);
    const u = this.byIdentity.get(userId);
    if (a === undefined || u === undefined) return;
    decrement(this.byAddress, address, a);
    decrement(this.byIdentity, userId, u);
  }

  /** Open connections counted for an address. */
  forAddress(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /** Open connections counted for an identity. */
  forIdentity(userId: string): number {
    return this.byIdentity.get(userId) ?? 0;
  }

  /** Keys held in memory: addresses and identities with at least one open connection. */
  get size(): { addresses: number; identities: number } {
    return { addresses: this.byAddress.size, identities: this.byIdentity.size };
  }
}

function decrement(map: Map<string, number>, key: string, n: number): void {
  if (n <= 1) map.delete(key);
  else map.set(key, n - 1);
}
