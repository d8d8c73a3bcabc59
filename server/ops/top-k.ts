/**
 * The heaviest keys of a stream (client addresses by refusals, rooms by
 * messages) in bounded memory, with old weight fading out.
 *
 * - **Bounded**: at most `capacity` keys are held. A new key arriving when
 *   full takes the place of the lightest one and inherits its weight (the
 *   Space-Saving algorithm, Metwally et al. 2005): a key that is really
 *   heavy is never lost, and a flood of one-off keys (an attacker spreading
 *   over many addresses) only churns the bottom of the table. A key's weight
 *   may thus be overestimated by at most the weight it inherited.
 * - **Decaying**: weight halves every `halfLifeMs`, so the table shows who is
 *   heavy now, not who was heavy an hour ago. Decay is forward (Cormode et
 *   al. 2009): weight added at time t is stored scaled by 2^((t - t0) / h),
 *   so decaying never touches stored entries and their order never changes
 *   with time alone; reading divides by the same factor for now.
 */
export interface TopKOptions {
  capacity: number;
  halfLifeMs: number;
  now?: () => number;
}

export interface TopEntry<M> {
  key: string;
  /** The decayed weight now. */
  weight: number;
  /** Weight per minute, for a steady stream: decayed weight × ln 2 / half-life. */
  perMin: number;
  meta: M | undefined;
}

interface Slot<M> {
  /** Weight scaled to the landmark `t0`. */
  scaled: number;
  meta: M | undefined;
}

/** Above this exponent the scaled weights are brought back to a new landmark (doubles reach 2^1023). */
const RESCALE_EXPONENT = 256;

export class DecayingTopK<M = undefined> {
  private readonly slots = new Map<string, Slot<M>>();
  private readonly capacity: number;
  private readonly halfLifeMs: number;
  private readonly now: () => number;
  private t0: number;

  constructor(opts: TopKOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (!(opts.halfLifeMs > 0)) throw new RangeError('halfLifeMs must be positive');
    this.capacity = opts.capacity;
    this.halfLifeMs = opts.halfLifeMs;
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
  }

  /** Keys held (never more than `capacity`). */
  get size(): number {
    return this.slots.size;
  }

  /** Adds `weight` to `key` (and keeps its latest `meta`, e.g. a display name). */
  add(key: string, weight = 1, meta?: M): void {
    if (!(weight > 0)) return;
    const scale = this.scaleNow();
    const slot = this.slots.get(key);
    if (slot) {
      slot.scaled += weight * scale;
      if (meta !== undefined) slot.meta = meta;
      return;
    }
    let inherited = 0;
    if (this.slots.size >= this.capacity) {
      let lightest: string | undefined;
      let min = Infinity;
      for (const [k, s] of this.slots) {
        if (s.scaled < min) {
          min = s.scaled;
          lightest = k;
        }
      }
      if (lightest !== undefined) this.slots.delete(lightest);
      inherited = min;
    }
    this.slots.set(key, { scaled: inherited + weight * scale, meta });
  }

  /** The `k` heaviest keys now, heaviest first. */
  top(k: number): Array<TopEntry<M>> {
    const unscale = 1 / this.scaleNow();
    const perMin = (Math.LN2 / this.halfLifeMs) * 60_000;
    return [...this.slots]
      .sort((a, b) => b[1].scaled - a[1].scaled)
      .slice(0, k)
      .map(([key, s]) => ({ key, weight: s.scaled * unscale, perMin: s.scaled * unscale * perMin, meta: s.meta }));
  }

  /** The decayed weight of one key now (0 when not held). */
  weight(key: string): number {
    const s = this.slots.get(key);
    return s ? s.scaled / this.scaleNow() : 0;
  }

  /** `weight` as a rate per minute (see `TopEntry.perMin`). */
  perMin(key: string): number {
    return this.weight(key) * (Math.LN2 / this.halfLifeMs) * 60_000;
  }

  /** 2^((now - t0) / h), moving the landmark forward when it grows large. */
  private scaleNow(): number {
    const t = this.now();
    let exponent = (t - this.t0) / this.halfLifeMs;
    if (exponent > RESCALE_EXPONENT) {
      const factor = 2 ** -exponent;
      for (const s of this.slots.values()) s.scaled *= factor;
      this.t0 = t;
      exponent = 0;
    }
    return 2 ** exponent;
  }
}
