import { describe, expect, it } from 'vitest';
import { describeModeration, duration } from './moderation-text.ts';

describe('moderation lines', () => {
  it('say what was done, to whom, for how long', () => {
    const carol = { userId: 'u-c', name: 'carol' };
    expect(describeModeration({ action: 'mute', user: carol, seconds: 600 })).toBe('muted carol for 10 minutes');
    expect(describeModeration({ action: 'mute', user: carol })).toBe('muted carol until unmuted');
    expect(describeModeration({ action: 'role', user: carol, role: 'moderator' })).toBe('made carol a moderator');
    expect(describeModeration({ action: 'slowmode', seconds: 10 })).toBe('turned on slow mode: one message every 10 seconds');
    expect(describeModeration({ action: 'slowmode', seconds: 0 })).toBe('turned off slow mode');
    expect(describeModeration({ action: 'ban', user: carol })).toBe('banned carol');
  });

  it('name durations in the largest whole unit', () => {
    expect(duration(3600)).toBe('1 hour');
    expect(duration(86_400 * 2)).toBe('2 days');
    expect(duration(90)).toBe('90 seconds');
    expect(duration(1)).toBe('1 second');
  });
});
