import { describe, expect, it } from 'vitest';
import { LiveSessions } from './live-sessions.ts';

describe('LiveSessions', () => {
  it('closes every connection of the ended sessions and only those', () => {
    const closed: string[] = [];
    const live = new LiveSessions<string>((c) => closed.push(c));
    live.add('s1', 'tab-a');
    live.add('s1', 'tab-b');
    live.add('s2', 'tab-c');
    live.add(undefined, 'legacy');
    live.remove('s1', 'tab-b');
    expect(live.end(['s1', 'unknown'])).toBe(1);
    expect(closed).toEqual(['tab-a']);
    expect(live.size).toBe(1);
    live.remove('s2', 'tab-c');
    expect(live.size).toBe(0);
  });
});
