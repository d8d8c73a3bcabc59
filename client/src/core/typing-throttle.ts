import { TIMING } from '../../../shared/protocol.ts';

/**
 * Limits "user is typing" signals to one per interval per room: enough for
 * others to see the indicator, without an event per keystroke.
 */
export const TYPING_INTERVAL_MS = TIMING.typingRenewMs;

export class TypingThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number = TYPING_INTERVAL_MS) {}

  /** True when a signal for `room` should go out now; records it if so. */
  shouldSend(room: string, now: number): boolean {
    const prev = this.last.get(room);
    if (prev !== undefined && now - prev < this.intervalMs) return false;
    this.last.set(room, now);
    return true;
  }

  /** Forget a room, e.g. after sending, so the next keystroke signals again. */
  reset(room: string): void {
    this.last.delete(room);
  }
}
