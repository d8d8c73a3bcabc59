import { describe, expect, it } from 'vitest';
import { Emoji } from './schemas.ts';

describe('Emoji (a reaction)', () => {
  it.each(['👍', '🎉', '❤️', '👨‍👩‍👧', '👍🏽', '🇫🇷', '1️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'])('accepts %s', (e) => {
    expect(Emoji.safeParse(e).success).toBe(true);
  });
  it.each(['', 'a', '👍 ', 'ok👍', '<b>', '1', '\u200d', '👍'.repeat(17)])('refuses %j', (e) => {
    expect(Emoji.safeParse(e).success).toBe(false);
  });
});
