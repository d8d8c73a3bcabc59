/**
 * Child processes for the bench: every server and generator runs in its own
 * process group, pinned to a core with `taskset` when it exists, and every
 * group is killed when the bench ends however it ends (normal exit, error,
 * SIGINT/SIGTERM), so no child survives a run.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let hooked = false;

/** True when util-linux `taskset` can pin processes on this machine. */
export const hasTaskset: boolean = (() => {
  try {
    return spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
})();

export const cpuCount: number = (() => {
  try {
    return Math.max(1, Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1);
  } catch {
    return 1;
  }
})();

/** Cores for servers and the generator: different ones when there are two or more. */
export const CORES = { server: '0', generator: cpuCount > 1 ? '1' : '0' } as const;

export interface StartOptions {
  /** Core list for taskset (`"0"`); ignored when taskset is missing. */
  core?: string;
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  cwd?: string;
}

/** Starts `cmd args…` in a new process group, pinned when possible; killed at bench exit. */
export function start(cmd: string, args: string[], opts: StartOptions = {}): ChildProcess {
  hookExit();
  const pinned = hasTaskset && opts.core !== undefined;
  const child = spawn(pinned ? 'taskset' : cmd, pinned ? ['-c', opts.core as string, cmd, ...args] : args, {
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit'],
    cwd: opts.cwd,
    detached: true, // its own process group: one kill reaches everything it started
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Sends `signal` to the child's process group, then SIGKILLs it after `graceMs`. Resolves on exit. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, signal);
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // anything the child itself left in its group
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every live child group at once; used on exit paths. */
export function killAll(): void {
  for (const c of live) killGroup(c, 'SIGKILL');
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, stopping every child`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('bench: failed:', err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('bench: failed:', err);
    killAll();
    process.exit(1);
  });
}

const CLK_TCK = 100; // USER_HZ on Linux

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which sits in parentheses and may contain spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has been busy (all cores, all processes), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process (for the capacity scenario). */
export function fdLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || NaN;
}
