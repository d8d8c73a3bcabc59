/**
 * Named one-shot timers, so each concern (reconnect, outbox wake-up, a room's
 * typing expiry) holds at most one deadline and all of them can be cancelled
 * together. The clock API is injected so tests drive time by hand.
 */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export class Timers {
  private readonly handles = new Map<string, unknown>();

  constructor(private readonly api: TimerApi = realTimers) {}

  /** Arms `name`, replacing any deadline it had. */
  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.api.setTimeout(() => {
      if (this.handles.get(name) !== handle) return;
      this.handles.delete(name);
      fn();
    }, ms);
    this.handles.set(name, handle);
  }

  clear(name: string): void {
    const h = this.handles.get(name);
    if (h === undefined) return;
    this.handles.delete(name);
    this.api.clearTimeout(h);
  }

  clearPrefix(prefix: string): void {
    for (const name of [...this.handles.keys()]) if (name.startsWith(prefix)) this.clear(name);
  }

  clearAll(): void {
    for (const name of [...this.handles.keys()]) this.clear(name);
  }
}
