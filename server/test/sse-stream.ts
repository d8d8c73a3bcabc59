/**
 * A Server-Sent Events stream read the way a browser's EventSource reads it,
 * for integration tests: its events and ids as a queue to poll.
 */
import type { Message } from '../../shared/protocol.ts';
import type { TestServer } from './harness.ts';

export type Ev = { event: string; id?: string; data: unknown };

/** A stream read the way EventSource reads it (events, their ids), as an async queue. */
export class Stream {
  readonly events: Ev[] = [];
  status = 0;
  private readonly abort = new AbortController();
  done: Promise<void> = Promise.resolve();

  static async open(base: string, ticket: string, rooms: string[], lastEventId?: string): Promise<Stream> {
    const st = new Stream();
    const qs = new URLSearchParams({ ticket, rooms: rooms.join(',') });
    const res = await fetch(`${base}/api/stream?${qs}`, {
      headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: st.abort.signal,
    });
    st.status = res.status;
    if (!res.ok || !res.body) {
      st.events.push({ event: 'http', data: await res.json().catch(() => null) });
      return st;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    st.done = (async () => {
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const ev: Ev = { event: 'message', data: undefined };
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) ev.event = line.slice(7);
              else if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
            }
            if (ev.data !== undefined) st.events.push(ev);
          }
        }
      } catch {
        // aborted
      }
      st.events.push({ event: 'end', data: null });
    })();
    return st;
  }

  of(event: string): Ev[] {
    return this.events.filter((e) => e.event === event);
  }

  texts(room: string): string[] {
    return this.events
      .filter((e) => e.event === 'messages' && (e.data as { room: string }).room === room)
      .flatMap((e) => (e.data as { messages: Message[] }).messages.map((m) => m.text));
  }

  lastId(): string | undefined {
    return this.events.filter((e) => e.id !== undefined).at(-1)?.id;
  }

  close(): void {
    this.abort.abort();
  }
}

export async function ticket(s: TestServer, token: string | undefined): Promise<{ status: number; body: { ticket?: string; expiresAt?: number; error?: { code: string } } }> {
  const res = await fetch(`${s.url}/api/stream-ticket`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as never };
}


/** Opens a stream of `rooms` for the session `token` and waits until it has joined them all. */
export async function openStream(s: TestServer, token: string, rooms: string[]): Promise<Stream> {
  const t = await ticket(s, token);
  if (!t.body.ticket) throw new Error(`no stream ticket: ${t.status}`);
  const st = await Stream.open(s.url, t.body.ticket, rooms);
  const deadline = Date.now() + 5000;
  while (st.of('joined').length < rooms.length) {
    if (Date.now() > deadline || st.of('end').length > 0) throw new Error('the stream did not join its rooms');
    await new Promise((r) => setTimeout(r, 20));
  }
  return st;
}
