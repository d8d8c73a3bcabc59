import { describe, expect, it } from 'vitest';
import { TypingThrottle } from './typing-throttle.ts';

describe('TypingThrottle', () => {
  it.each<{ name: string; calls: Array<[string, number]>; expected: boolean[] }>([
    { name: 'first keystroke signals', calls: [['lobby', 0]], expected: [true] },
    { name: 'keystrokes inside the interval are quiet', calls: [['lobby', 0], ['lobby', 500], ['lobby', 1999]], expected: [true, false, false] },
    { name: 'the interval elapsing signals again', calls: [['lobby', 0], ['lobby', 2000]], expected: [true, true] },
    { name: 'rooms are throttled separately', calls: [['lobby', 0], ['dev', 1]], expected: [true, true] },
  ])('$name', ({ calls, expected }) => {
    const t = new TypingThrottle(2000);
    expect(calls.map(([room, now]) => t.shouldSend(room, now))).toEqual(expected);
  });

  it('reset lets the next keystroke signal at once', () => {
    const t = new TypingThrottle(2000);
    t.shouldSend('lobby', 0);
    t.reset('lobby');
    expect(t.shouldSend('lobby', 10)).toBe(true);
  });
});
