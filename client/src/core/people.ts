/**
 * How people are shown: a display name is not an identity (two users may
 * share one), so wherever names could be confused a short tag derived from
 * the user id tells them apart.
 */

/** A short, stable tag for a user id: `#` and four characters, the same on every client. */
export function displayTag(userId: string): string {
  // FNV-1a over the id: cheap, stable, and spreads ids that differ only a little.
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `#${h.toString(36).padStart(4, '0').slice(-4)}`;
}
