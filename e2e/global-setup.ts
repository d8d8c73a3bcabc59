import { execFileSync } from 'node:child_process';
import { repoRoot } from './support/server.ts';

/** Builds the client once; every test server serves the same dist/client. */
export default function globalSetup(): void {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}
