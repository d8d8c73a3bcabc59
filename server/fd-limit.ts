/**
 * The process's open-file limit, read at start so the server can log it and
 * warn when it is low next to the connection caps: every connection is a file
 * descriptor, and a server out of descriptors refuses everyone, not just the
 * client that used them up.
 *
 * Node raises its soft limit to the hard limit when it starts, so the soft
 * limit read here is in practice the hard one: raise it with `ulimit -Hn`
 * before start, `LimitNOFILE=` in a systemd unit, or `--ulimit nofile=` in
 * Docker.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionCapLimits } from './edge/connection-caps.ts';

/** Descriptors kept for everything that is not a client connection: SQLite and its WAL, the checkpoint worker, logs, the listening socket. */
export const RESERVED_FDS = 64;

/** Fewer client addresses than this at the per-address cap exhausting the limit is worth a warning. */
export const MIN_ADDRESSES_AT_CAP = 16;

/**
 * The soft "Max open files" limit from the text of /proc/self/limits;
 * `Infinity` for "unlimited", undefined when the line is missing or unreadable.
 */
export function parseOpenFileLimit(limits: string): number | undefined {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const soft = line?.[1];
  if (soft === undefined) return undefined;
  if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
  return /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/** This process's open-file soft limit on Linux; undefined elsewhere or when it cannot be read. */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8'), platform = process.platform): number | undefined {
  if (platform !== 'linux') return undefined;
  try {
    return parseOpenFileLimit(read());
  } catch {
    return undefined;
  }
}

/**
 * A warning to log at start when the limit is low next to the caps, else
 * undefined (also when the limit is unknown: nothing to judge).
 */
export function fdLimitWarning(limit: number | undefined, caps: ConnectionCapLimits): string | undefined {
  if (limit === undefined || !Number.isFinite(limit)) return undefined;
  const connections = limit - RESERVED_FDS;
  const advice = 'raise it (ulimit -Hn, systemd LimitNOFILE=, docker --ulimit nofile=)';
  if (connections <= caps.perAddress) {
    return `open-file limit ${limit} leaves ${Math.max(0, connections)} connections: one client address at its cap (${caps.perAddress}) would take them all; ${advice}`;
  }
  const addresses = Math.floor(connections / caps.perAddress);
  if (addresses < MIN_ADDRESSES_AT_CAP) {
    return `open-file limit ${limit} leaves ${connections} connections: ${addresses} client addresses at their cap (${caps.perAddress}) would take them all; ${advice}`;
  }
  return undefined;
}
