import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The server's version, from package.json (shown on the operations page and in `fiberchat_build_info`). */
export const SERVER_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();
