/**
 * The operations page's connection to its server, outside React: asks for
 * the snapshot (401: ask for the token), then follows the event stream
 * (`snapshot`, then a `tick` a second). The token is posted once and
 * exchanged for an HttpOnly cookie; the page never keeps it. Every event is
 * parsed with the shared schema before it is used.
 */
import { OpsSnapshot, type OpsNodeView } from '../../../shared/ops.ts';
import { merge } from './ops-model.ts';

export type OpsPhase = 'loading' | 'login' | 'live' | 'error';

export interface OpsState {
  phase: OpsPhase;
  /** Shown to the operator: why the token was refused, or why the data cannot be had. */
  error: string | null;
  loginPending: boolean;
  views: OpsNodeView[];
  self: string;
  /** The server's clock at the latest event. */
  now: number;
  /** False while the stream is down or silent: the page says the figures are not live. */
  live: boolean;
}

/** The stream sends every second; this long without an event means it is not live. */
const STALE_MS = 5_000;
/** Before asking again after a failure. */
const RETRY_MS = 3_000;

export class OpsClient {
  private state: OpsState = { phase: 'loading', error: null, loginPending: false, views: [], self: '', now: 0, live: false };
  private readonly listeners = new Set<() => void>();
  private stream: EventSource | null = null;
  private lastEvent = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): OpsState => this.state;

  start(): void {
    this.watchdog ??= setInterval(() => {
      if (this.state.live && Date.now() - this.lastEvent > STALE_MS) this.set({ live: false });
    }, 1000);
    void this.load();
  }

  /** Trades the typed token for the cookie, then loads. */
  async login(token: string): Promise<void> {
    if (this.state.loginPending) return;
    this.set({ loginPending: true, error: null });
    // 0: no answer (the network, or the server is down).
    const status = await fetch('/api/ops/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 204) {
      this.set({ loginPending: false, phase: 'loading' });
      return this.load();
    }
    this.set({
      loginPending: false,
      error: status === 401 ? 'That is not the operator token.' : status === 429 ? 'Too many tries; wait a minute and try again.' : 'The server could not be reached; try again.',
    });
  }

  async logout(): Promise<void> {
    this.closeStream();
    await fetch('/api/ops/logout', { method: 'POST' }).catch(() => undefined);
    this.set({ phase: 'login', views: [], live: false, error: null });
  }

  private async load(): Promise<void> {
    this.clearRetry();
    let res: Response;
    try {
      res = await fetch('/api/ops/snapshot', { cache: 'no-store' });
    } catch {
      return this.failed('The server could not be reached; retrying…');
    }
    if (res.status === 401) {
      this.closeStream();
      return this.set({ phase: 'login', live: false });
    }
    if (!res.ok) return this.failed(`The server answered ${res.status}; retrying…`);
    const body = OpsSnapshot.safeParse(await res.json().catch(() => null));
    if (!body.success) return this.failed('The server sent data this page does not understand; retrying…');
    this.apply(body.data, 'snapshot');
    this.openStream();
  }

  private openStream(): void {
    this.closeStream();
    const es = new EventSource('/api/ops/stream');
    this.stream = es;
    const handle = (kind: 'snapshot' | 'tick') => (e: MessageEvent<string>) => {
      if (this.stream !== es) return;
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      const parsed = OpsSnapshot.safeParse(data);
      if (parsed.success) this.apply(parsed.data, kind);
    };
    es.addEventListener('snapshot', handle('snapshot'));
    es.addEventListener('tick', handle('tick'));
    es.onerror = () => {
      if (this.stream !== es) return;
      this.set({ live: false });
      // The browser retries a dropped stream by itself; a refused one (401 once the cookie expired, 503) it gives up:
      // ask for the snapshot again, which tells which.
      if (es.readyState === EventSource.CLOSED) {
        this.closeStream();
        this.retry = setTimeout(() => void this.load(), RETRY_MS);
      }
    };
  }

  private apply(event: OpsSnapshot, kind: 'snapshot' | 'tick'): void {
    this.lastEvent = Date.now();
    this.set({ phase: 'live', error: null, views: merge(this.state.views, event, kind), self: event.self, now: event.now, live: true });
  }

  private failed(message: string): void {
    this.set({ phase: this.state.views.length > 0 ? 'live' : 'error', error: message, live: false });
    this.retry = setTimeout(() => void this.load(), RETRY_MS);
  }

  private clearRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private closeStream(): void {
    this.stream?.close();
    this.stream = null;
  }

  private set(patch: Partial<OpsState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }
}
