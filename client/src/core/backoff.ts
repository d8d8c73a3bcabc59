/**
 * Reconnect delays: exponential with "equal jitter" and a cap, so a server
 * restart is not met by every client at the same instant, and a long outage
 * settles at one attempt every few seconds instead of a busy loop.
 */
export interface BackoffPolicy {
  /** Delay before the first retry after a live connection dropped. Kept short: most drops are blips or restarts. */
  firstMs: number;
  /** Base of the exponential growth for later attempts. */
  baseMs: number;
  /** No wait grows beyond this, so a returning server is noticed quickly. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { firstMs: 300, baseMs: 500, capMs: 10_000 };

/**
 * Delay before attempt number `attempt` (1 = first retry). `random` returns
 * [0, 1). A server's `retryAfterMs` is a floor: it knows its own load.
 */
export function retryDelay(
  attempt: number,
  random: () => number,
  retryAfterMs?: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const ceiling =
    attempt <= 1 ? policy.firstMs : Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
