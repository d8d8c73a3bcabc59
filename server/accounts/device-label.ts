import Bowser from 'bowser';

/**
 * "Chrome on Linux", "Safari on iPhone": what Settings shows for a session,
 * read from its User-Agent by bowser (a maintained parser; User-Agent
 * strings are too irregular for a regular expression of our own). Falls back
 * to the header's start for what it does not know (bots, curl).
 */
export function deviceLabel(userAgent: string): string {
  try {
    const r = Bowser.parse(userAgent);
    const browser = r.browser.name;
    const where = r.platform.model ?? r.os.name;
    if (browser && where) return `${browser} on ${where}`;
    if (browser) return browser;
  } catch {
    // An odd header: shown as it is.
  }
  return userAgent.slice(0, 40);
}
