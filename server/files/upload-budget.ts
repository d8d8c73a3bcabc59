/**
 * How long an upload may take, and how many may run at once.
 *
 * Every other request must arrive whole within the server's request timeout
 * (15 s, the slowloris defence), which a 25 MiB file on a slow link cannot.
 * An upload is exempt from it while it keeps its own budget instead: after a
 * grace as long as that timeout, at least `minBytesPerSec` averaged over each
 * window, and `maxMs` in all. A trickle is cut within a window of falling
 * below the rate, so it holds its place for seconds, not forever; and one
 * identity or address holds at most a few places at once.
 */
import type { Socket } from 'node:net';
import { HTTP_LIMITS, exemptFromRequestTimeout } from '../edge/http-hardening.ts';

export interface UploadBudgetLimits {
  /** Least average rate over each window after the grace (UPLOAD_MIN_BYTES_PER_SEC). */
  minBytesPerSec: number;
  /** Longest an upload may take (UPLOAD_TIMEOUT_MS). */
  maxMs: number;
  /** Uploads in progress at once per identity (UPLOADS_PER_IDENTITY) and per address (UPLOADS_PER_ADDRESS). */
  perIdentity: number;
  perAddress: number;
}

/** No rate is asked of the first this long: what the request timeout allows every request. */
export const UPLOAD_GRACE_MS = HTTP_LIMITS.requestTimeoutMs;
/** The rate is averaged over this. */
export const UPLOAD_WINDOW_MS = 10_000;
/** How often a running upload is checked. */
const CHECK_MS = 1000;

export type Cut = { reason: 'slow' | 'too_long'; message: string };

/** A running upload's place: the socket it arrives on, watched until its body is `received` and held until `release`. */
export interface UploadPlace {
  /** The whole body is in: what follows (hashing, image work) is the server's time, not the client's. */
  received(): void;
  release(): void;
}

export class UploadBudget {
  private readonly byIdentity = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    readonly limits: UploadBudgetLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Uploads in progress. */
  get running(): number {
    let n = 0;
    for (const c of this.byAddress.values()) n += c;
    return n;
  }

  /**
   * A place for an upload on `socket`, or which cap is full. While it is
   * held the socket is exempt from the request timeout and `onCut` is
   * called (once) when the upload falls below the budget.
   */
  take(identity: string, address: string, socket: Socket, onCut: (cut: Cut) => void): UploadPlace | 'identity' | 'address' {
    if ((this.byIdentity.get(identity) ?? 0) >= this.limits.perIdentity) return 'identity';
    if ((this.byAddress.get(address) ?? 0) >= this.limits.perAddress) return 'address';
    bump(this.byIdentity, identity, 1);
    bump(this.byAddress, address, 1);
    const exemption = exemptFromRequestTimeout(socket);
    const started = this.now();
    const startBytes = socket.bytesRead;
    // Bytes read at each check of the last window, oldest first.
    const seen: Array<{ t: number; bytes: number }> = [{ t: started, bytes: startBytes }];
    let released = false;
    const received = () => {
      clearInterval(timer);
      exemption.release();
    };
    const release = () => {
      if (released) return;
      released = true;
      received();
      bump(this.byIdentity, identity, -1);
      bump(this.byAddress, address, -1);
    };
    const timer = setInterval(() => {
      const t = this.now();
      const bytes = socket.destroyed ? (seen.at(-1)?.bytes ?? startBytes) : socket.bytesRead;
      seen.push({ t, bytes });
      while (seen.length > 1 && (seen[1] as { t: number }).t <= t - UPLOAD_WINDOW_MS) seen.shift();
      const cut = this.judge(t - started, seen, t);
      if (cut) {
        release();
        onCut(cut);
      }
    }, CHECK_MS);
    timer.unref();
    return { received, release };
  }

  private judge(elapsed: number, seen: ReadonlyArray<{ t: number; bytes: number }>, t: number): Cut | undefined {
    const { maxMs, minBytesPerSec } = this.limits;
    if (elapsed >= maxMs) return { reason: 'too_long', message: `The upload took longer than ${Math.round(maxMs / 60_000)} min, the most one may take` };
    const first = seen[0] as { t: number; bytes: number };
    const span = t - first.t;
    if (elapsed < UPLOAD_GRACE_MS || span < UPLOAD_WINDOW_MS) return undefined;
    const rate = (((seen.at(-1) as { bytes: number }).bytes - first.bytes) * 1000) / span;
    if (rate < minBytesPerSec) {
      return { reason: 'slow', message: `The upload was too slow (under ${Math.ceil(minBytesPerSec / 1024)} KiB/s for ${UPLOAD_WINDOW_MS / 1000} s); try again on a better connection` };
    }
    return undefined;
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}
