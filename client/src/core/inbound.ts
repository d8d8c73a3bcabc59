/**
 * Everything the server sends is `unknown` until the shared schemas accept
 * it: answers by their command's `ok` schema, pushed events by the event
 * table. Nothing is declared here; a field added to the protocol reaches the
 * client the moment it is added to shared/.
 */
import {
  COMMANDS,
  EVENTS,
  FailSchema,
  fail,
  type Ack,
  type CommandName,
  type EventName,
  type EventOf,
  type OkOf,
} from '../../../shared/protocol.ts';

/** Parses a pushed event; null when it does not match (the caller drops it and warns). */
export function parseEvent<E extends EventName>(name: E, payload: unknown): EventOf<E> | null {
  const r = EVENTS[name].safeParse(payload);
  return r.success ? (r.data as EventOf<E>) : null;
}

/** Parses a command's ok answer given without the `ok` flag (a REST body). */
export function parseOk<K extends CommandName>(name: K, body: unknown): OkOf<K> | null {
  const r = COMMANDS[name].ok.safeParse(body);
  return r.success ? (r.data as OkOf<K>) : null;
}

/** Parses an ack: a well-formed failure passes through, anything malformed becomes `unavailable`. */
export function parseAck<K extends CommandName>(name: K, payload: unknown): Ack<OkOf<K>> {
  const failed = FailSchema.safeParse(payload);
  if (failed.success) return failed.data;
  if (typeof payload === 'object' && payload !== null && (payload as { ok?: unknown }).ok === true) {
    const ok = parseOk(name, payload);
    if (ok) return { ok: true, ...ok };
  }
  return fail('unavailable', 'The server sent an unexpected answer.');
}

/** Logs the event name only, never its body (it may carry message text). */
export function warnDropped(event: string): void {
  console.warn(`fiberchat: dropped a malformed "${event}" event`);
}
