import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { MEASUREMENTS_FILE } from './support/measure.ts';
import { repoRoot } from './support/server.ts';

/** Builds the client once (every test server serves the same dist/client) and starts a fresh measurements file. */
export default function globalSetup(): void {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(dirname(MEASUREMENTS_FILE), { recursive: true });
  rmSync(MEASUREMENTS_FILE, { force: true });
}
