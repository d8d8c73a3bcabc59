import type { EventName, EventOf } from '../../shared/protocol.ts';

/** The events a room (or a user's notices) sends to its subscribers; `bye` is a connection's own. */
export type StreamEvent = Exclude<EventName, 'bye'>;

/** Turns a frame into what one kind of carrier writes (bytes, a packet string); a pure function of the frame. */
export type Encoder<T> = (frame: Frame) => T;

/**
 * One event of a room's stream as every subscriber receives it, whatever
 * carries it. A broadcast builds one frame and calls `write(frame)` on each
 * subscriber; a carrier encodes it through `encoded`, which runs each
 * encoder once per frame, so a turn is encoded once per kind of carrier and
 * not once per subscriber (the model is Centrifuge's `Transport.Write` of a
 * prepared reply).
 */
export class Frame<E extends StreamEvent = StreamEvent> {
  /** Encodings made so far: one or two carriers in a room, so a short array, not a map. */
  private readonly made: Array<{ by: Encoder<unknown>; value: unknown }> = [];

  constructor(
    readonly event: E,
    readonly payload: EventOf<E>,
  ) {}

  /** `by`'s encoding of this frame, made on first use and shared by every later caller. */
  encoded<T>(by: Encoder<T>): T {
    for (const e of this.made) if (e.by === by) return e.value as T;
    const value = by(this as Frame);
    this.made.push({ by, value });
    return value;
  }
}
