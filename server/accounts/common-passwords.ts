import { readFileSync } from 'node:fs';

/**
 * The commonest passwords (common-passwords.txt beside this file), refused
 * when an account is created or a password changed (NIST SP 800-63B §5.1.1.2).
 * Read once, on first use.
 */
let list: ReadonlySet<string> | undefined;

function load(): ReadonlySet<string> {
  const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
}

/** True when the password (NFKC, lower-cased) is on the list. */
export function isCommonPassword(password: string): boolean {
  list ??= load();
  return list.has(password.normalize('NFKC').toLowerCase());
}

/** How many passwords the list holds (docs and tests). */
export function commonPasswordCount(): number {
  list ??= load();
  return list.size;
}
