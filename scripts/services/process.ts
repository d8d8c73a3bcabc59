/**
 * What the throwaway services share: finding a binary (or saying which
 * Debian package brings it), a free loopback port, waiting for readiness,
 * and child processes that are stopped by pid and never outlive the
 * process that started them.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';

/** A binary the services need is not installed; the message names the Debian package that brings it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    super(`${binary} not found: install the Debian package "${debianPackage}" (apt-get install ${debianPackage}, or bash scripts/ensure-test-deps.sh)`);
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in `dirs`, then on PATH; throws MissingBinaryError naming `debianPackage`. */
export function findBinary(name: string, debianPackage: string, dirs: readonly string[] = []): string {
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  // Debian keeps some daemons in sbin, which a non-root PATH often lacks.
  for (const dir of [...dirs, ...path, '/usr/sbin', '/sbin']) {
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  throw new MissingBinaryError(name, debianPackage);
}

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when a TCP connection to 127.0.0.1:port succeeds. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `ready` until it returns true, or throws after `timeoutMs` with
 * `describe()` (e.g. the tail of the service's log). Stops early if the
 * process died.
 */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  opts: { timeoutMs: number; child?: ChildProcess; describe?: () => string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.child && opts.child.exitCode !== null) {
      throw new Error(`${what} exited with code ${opts.child.exitCode} while starting${detail(opts.describe)}`);
    }
    if (opts.child && opts.child.signalCode !== null) {
      throw new Error(`${what} died of ${opts.child.signalCode} while starting${detail(opts.describe)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer within ${opts.timeoutMs} ms${detail(opts.describe)}`);
    await sleep(100);
  }
}

function detail(describe?: () => string): string {
  const d = describe?.();
  return d ? `:\n${d}` : '';
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// ----- children that never outlive us -------------------------------------

/** Live children, with the signal that stops each at once when we exit. */
const live = new Map<number, NodeJS.Signals>();
/** Temporary folders of services not disposed of yet. */
const folders = new Set<string>();
let hooked = false;

function killAll(): void {
  for (const [pid, signal] of live) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  live.clear();
  // Best effort: a process stopping may still be writing there.
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}

/** Makes a temporary folder for a service, deleted when we exit unless `removeFolder` ran first. */
export function makeFolder(prefix: string): string {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

/** Deletes a folder made by `makeFolder`. */
export function removeFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  folders.delete(dir);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  // A signal ends the process without 'exit'; where nobody else handles it,
  // stop the children and then die of the same signal.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(sig) > 0) continue;
    const onSignal = () => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * Spawns a service as our child, its output appended to `logFile`, handed
 * to us on pipes (`pipe`: the caller must read both), or shared with ours.
 * The child is stopped with `exitSignal` if we exit first. It gets a
 * process group of its own, so a Ctrl-C in the terminal reaches only us and
 * we stop services in our order.
 */
export function spawnService(
  file: string,
  args: readonly string[],
  opts: { logFile?: string; pipe?: boolean; exitSignal: NodeJS.Signals; spawn?: SpawnOptions },
): ChildProcess {
  hookExit();
  const fd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    const stdio: SpawnOptions['stdio'] = opts.pipe
      ? ['ignore', 'pipe', 'pipe']
      : fd === undefined
        ? ['ignore', 'inherit', 'inherit']
        : ['ignore', fd, fd];
    child = spawn(file, args, { ...opts.spawn, detached: true, stdio });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file}`);
  live.set(pid, opts.exitSignal);
  child.once('exit', () => live.delete(pid));
  child.once('error', () => live.delete(pid));
  return child;
}

/**
 * Sends `signal` to the child by its pid and waits for it to exit; after
 * `killAfterMs` it is sent SIGKILL. Resolves at once if it already exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, killAfterMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, signal);
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }, killAfterMs);
  await exited;
  clearTimeout(timer);
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
