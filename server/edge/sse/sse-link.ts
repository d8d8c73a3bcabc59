import type { ServerResponse } from 'node:http';
import type { EventOf, OkInputOf } from '../../../shared/protocol.ts';
import { formatStreamId } from '../../../shared/protocol.ts';
import type { Frame } from '../../rooms/frame.ts';
import type { Identity, Subscriber } from '../../rooms/types.ts';
import type { Caller, Connection } from '../caller.ts';
import { RoomList } from '../room-list.ts';
import type { Link } from '../link.ts';

/**
 * The `data:` line of a frame on an event stream: its payload's JSON (which
 * holds no raw line break), made once per broadcast and shared by every
 * stream the frame goes to.
 */
export const sseData = (frame: Frame): string => `data: ${JSON.stringify(frame.payload)}\n\n`;

/** What a stream needs from its owner: its budget, and word of its end. */
export interface SseOutbound {
  /** Bytes queued to one stream past which it is cut as a slow consumer. */
  readonly maxBytes: number;
  evicted(link: SseLink, bytes: number): void;
}

/**
 * One Server-Sent Events stream: a room's subscriber like any socket, and
 * the caller of the joins it makes on its client's behalf. Each event is
 * written to the response as it comes, in the order the rooms send them;
 * `messages` and `joined` events carry `id:`, every room's `epoch:seq`
 * position after the event (see `shared/stream.ts`), so a client that
 * reconnects with it as `Last-Event-ID` resumes each room exactly where it
 * left off, through the same room code as `join { since, epoch }`.
 */
export class SseLink implements Connection, Subscriber, Link {
  readonly joined = new RoomList();
  joining = 0;
  /** Each room's position: where its stream stands for this client. */
  private readonly positions = new Map<string, { epoch: string; seq: number }>();
  private ended = false;

  constructor(
    readonly id: string,
    readonly identity: Identity,
    readonly address: string,
    private readonly res: ServerResponse,
    private readonly out: SseOutbound,
  ) {}

  get sub(): Subscriber {
    return this;
  }

  get open(): boolean {
    return !this.ended && !this.res.destroyed;
  }

  get caller(): Caller {
    return { identity: this.identity, conn: this, address: this.address };
  }

  /** A room's stream: `messages` move its position and carry the id; everything else goes as it is. */
  write(frame: Frame): void {
    if (!this.open) return;
    let head = `event: ${frame.event}\n`;
    if (frame.event === 'messages') {
      const { room, messages } = frame.payload as EventOf<'messages'>;
      const at = this.positions.get(room);
      const last = messages.at(-1)?.seq;
      if (at && last !== undefined && last > at.seq) {
        at.seq = last;
        head += `id: ${this.streamId()}\n`;
      }
    }
    this.send(head + frame.encoded(sseData));
  }

  /** A room's join answer (its replay or latest page, members, read position), as the `joined` event. */
  joinedRoom(ok: { ok: true } & OkInputOf<'join'>): void {
    this.positions.set(ok.room, { epoch: ok.epoch, seq: ok.lastSeq });
    const { ok: _ok, ...body } = ok;
    this.send(`event: joined\nid: ${this.streamId()}\ndata: ${JSON.stringify(body)}\n\n`);
  }

  /** An event of the stream itself (`ready`, `refused`), outside any room's order. */
  control(event: string, payload: unknown): void {
    this.send(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  /** Keeps proxies and the client's silence timer from taking an idle stream for dead (an event: EventSource hides comments). */
  heartbeat(): void {
    this.send('event: heartbeat\ndata: 0\n\n');
  }

  close(bye: EventOf<'bye'>): void {
    if (!this.open) return;
    this.control('bye', bye);
    this.ended = true;
    this.res.end();
  }

  removed(room: string): void {
    this.joined.delete(room);
    this.positions.delete(room);
  }

  /** Every byte counts in the stream's budget: past it the stream is cut (the client resumes from its id). */
  private send(text: string): void {
    if (!this.open) return;
    this.res.write(text);
    const queued = this.res.writableLength;
    if (queued > this.out.maxBytes) {
      this.ended = true;
      this.out.evicted(this, queued);
      this.res.destroy();
    }
  }

  private streamId(): string {
    return formatStreamId(this.positions);
  }
}
