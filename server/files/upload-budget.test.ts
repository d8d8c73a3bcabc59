import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UPLOAD_GRACE_MS, UPLOAD_WINDOW_MS, UploadBudget, type Cut } from './upload-budget.ts';

/** A socket as the budget sees it: the bytes read so far. */
function fakeSocket(): Socket & { bytesRead: number } {
  return { bytesRead: 0, destroyed: false } as unknown as Socket & { bytesRead: number };
}

const limits = { minBytesPerSec: 1000, maxMs: 120_000, perIdentity: 2, perAddress: 3 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Advances the clock `seconds`, the socket reading `perSecond` bytes each second. */
function feed(socket: { bytesRead: number }, perSecond: number, seconds: number): void {
  for (let i = 0; i < seconds; i++) {
    socket.bytesRead += perSecond;
    vi.advanceTimersByTime(1000);
  }
}

describe('UploadBudget', () => {
  it('asks nothing during the grace, then cuts an upload below the rate within a window', () => {
    const budget = new UploadBudget(limits);
    const socket = fakeSocket();
    const cuts: Cut[] = [];
    budget.take('u1', 'a1', socket, (c) => cuts.push(c));
    // A stall through the whole grace is allowed…
    feed(socket, 0, UPLOAD_GRACE_MS / 1000 - 1);
    expect(cuts).toEqual([]);
    // …and judged once the grace is over: nothing came in the last window.
    feed(socket, 0, 2);
    expect(cuts.map((c) => c.reason)).toEqual(['slow']);
    expect(cuts[0]?.message).toMatch(/too slow/);
    expect(budget.running).toBe(0);
  });

  it('keeps an upload at the rate going past the grace, and cuts it when it stalls for a window', () => {
    const budget = new UploadBudget(limits);
    const socket = fakeSocket();
    const cuts: Cut[] = [];
    budget.take('u1', 'a1', socket, (c) => cuts.push(c));
    feed(socket, 2500, 60);
    expect(cuts).toEqual([]);
    // Half the window at full speed, half stalled: the window's average is still above the rate.
    feed(socket, 0, UPLOAD_WINDOW_MS / 2000 - 1);
    expect(cuts).toEqual([]);
    feed(socket, 0, UPLOAD_WINDOW_MS / 1000);
    expect(cuts.map((c) => c.reason)).toEqual(['slow']);
  });

  it('cuts an upload past its time however fast it is', () => {
    const budget = new UploadBudget({ ...limits, maxMs: 30_000 });
    const socket = fakeSocket();
    const cuts: Cut[] = [];
    budget.take('u1', 'a1', socket, (c) => cuts.push(c));
    feed(socket, 1_000_000, 29);
    expect(cuts).toEqual([]);
    feed(socket, 1_000_000, 1);
    expect(cuts.map((c) => c.reason)).toEqual(['too_long']);
  });

  it('holds a few places per identity and per address, and frees them on release', () => {
    const budget = new UploadBudget(limits);
    const s = fakeSocket();
    const a = budget.take('u1', 'a1', s, () => {});
    const b = budget.take('u1', 'a1', s, () => {});
    expect(budget.take('u1', 'a1', s, () => {})).toBe('identity');
    const c = budget.take('u2', 'a1', s, () => {});
    expect(budget.take('u3', 'a1', s, () => {})).toBe('address');
    // Another address is not affected.
    expect(typeof budget.take('u3', 'a2', s, () => {})).toBe('object');
    expect(budget.running).toBe(4);
    if (typeof a === 'string' || typeof b === 'string' || typeof c === 'string') throw new Error('expected places');
    a.release();
    a.release();
    expect(budget.running).toBe(3);
    expect(typeof budget.take('u1', 'a1', s, () => {})).toBe('object');
  });

  it('stops watching a released upload', () => {
    const budget = new UploadBudget(limits);
    const socket = fakeSocket();
    const cuts: Cut[] = [];
    const place = budget.take('u1', 'a1', socket, (c) => cuts.push(c));
    if (typeof place === 'string') throw new Error('expected a place');
    place.release();
    feed(socket, 0, 60);
    expect(cuts).toEqual([]);
  });

  it("stops judging once the body is received (the server's own work is not the client's slowness), and keeps the place until release", () => {
    const budget = new UploadBudget(limits);
    const socket = fakeSocket();
    const cuts: Cut[] = [];
    const place = budget.take('u1', 'a1', socket, (c) => cuts.push(c));
    if (typeof place === 'string') throw new Error('expected a place');
    feed(socket, 1_000_000, 3);
    place.received();
    // Waiting a minute for the image worker: no bytes arrive, nothing is cut.
    feed(socket, 0, 60);
    expect(cuts).toEqual([]);
    expect(budget.running).toBe(1);
    place.release();
    expect(budget.running).toBe(0);
  });
});
