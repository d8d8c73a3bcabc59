/**
 * The server as operators run it, for tests: one node process (see
 * scripts/services/node.ts), configured by environment, on port 0 or on the
 * port of an earlier run.
 */
import type { ChildProcess } from 'node:child_process';
import { startNode } from '../../scripts/services/node.ts';

export { repoRoot } from '../../scripts/services/node.ts';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** The recent output, for failure messages. */
  log(): string;
}

/**
 * Starts the server and resolves once it listens. `port` 0 (the default)
 * lets the OS choose; pass the port of an earlier run to restart on it.
 */
export async function spawnServer(opts: {
  /** Added to this process's environment; an undefined value removes a variable. */
  env: Record<string, string | undefined>;
  port?: number;
  timeoutMs?: number;
  /** The checkout whose server to start (default: this one); it must have its own node_modules. */
  cwd?: string;
}): Promise<ServerProcess> {
  const node = await startNode({ env: opts.env, port: opts.port ?? 0, timeoutMs: opts.timeoutMs ?? 20_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  return { child: node.child, port: node.port, url: node.url, exited: node.exit.then((e) => e.code), log: node.log };
}
