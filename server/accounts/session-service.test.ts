import { describe, expect, it } from 'vitest';
import { Sessions } from '../auth.ts';
import type { Bus, UserNotice } from '../cluster/bus.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { SESSION_CHECK_MS, SessionService, TOUCH_EVERY_MS } from './session-service.ts';

const SECRET = Buffer.from('a test secret that is long enough for HMAC-SHA256', 'utf8');
const TTL = 3_600_000;

/** Two nodes' buses joined back to back: what one notifies, the other hears. */
function busPair(): [Bus, Bus] {
  const handlers: Array<Array<(n: UserNotice) => void>> = [[], []];
  const make = (i: 0 | 1): Bus => ({
    node: `n${i}`,
    subscribe() {},
    unsubscribe() {},
    publish() {},
    notify: (n) => handlers[1 - i]?.forEach((h) => h(n)),
    onNotice: (h) => void handlers[i]?.push(h),
    close: async () => {},
  });
  return [make(0), make(1)];
}

function setup(bus?: Bus, store = new MemoryStore()) {
  let now = 1_800_000_000_000;
  const clock = { advance: (ms: number) => (now += ms), now: () => now };
  const service = new SessionService(store, new Sessions(SECRET, TTL, clock.now), bus, clock.now);
  return { store, clock, service };
}

describe('SessionService', () => {
  it('a token is good while its session row exists, and refused once the session ended', async () => {
    const { store, service } = setup();
    const s = await service.open({ userId: 'u1', name: 'alice' }, { userAgent: 'test', address: '127.0.0.1' }, false);
    expect(await service.authenticate(s.token)).toMatchObject({ userId: 'u1', name: 'alice', sessionId: s.sessionId });
    const ended: string[][] = [];
    service.onEnded((_u, ids) => ended.push([...ids]));
    expect(await store.endSession('u1', s.sessionId as string)).toBe(true);
    service.ended('u1', [s.sessionId as string]);
    expect(ended).toEqual([[s.sessionId]]);
    expect(await service.authenticate(s.token)).toBeUndefined();
  });

  it('believes a session for SESSION_CHECK_MS, then reads the store again (a revocation the bus lost)', async () => {
    const { store, clock, service } = setup();
    const s = await service.open({ userId: 'u1', name: 'alice' }, {}, false);
    await store.endSession('u1', s.sessionId as string);
    // Not told: the cached row still stands…
    expect(await service.authenticate(s.token)).toBeDefined();
    clock.advance(SESSION_CHECK_MS);
    // …for at most this long.
    expect(await service.authenticate(s.token)).toBeUndefined();
  });

  it('an ended session is refused at once on the other node, whose listeners hear it', async () => {
    const [busA, busB] = busPair();
    const store = new MemoryStore();
    const a = setup(busA, store).service;
    const b = setup(busB, store).service;
    const s = await a.open({ userId: 'u1', name: 'alice' }, {}, true);
    expect(await b.authenticate(s.token)).toBeDefined();
    const heardOnB: string[] = [];
    b.onEnded((_u, ids) => heardOnB.push(...ids));
    await store.endSession('u1', s.sessionId as string);
    a.ended('u1', [s.sessionId as string]);
    expect(heardOnB).toEqual([s.sessionId]);
    expect(await b.authenticate(s.token)).toBeUndefined();
  });

  it('records last use at most once a minute', async () => {
    const { store, clock, service } = setup();
    const s = await service.open({ userId: 'u1', name: 'alice' }, {}, false);
    const seen = async () => (await store.session(s.sessionId as string, clock.now()))?.lastSeenAt;
    const opened = await seen();
    clock.advance(TOUCH_EVERY_MS - 1);
    await service.authenticate(s.token, '10.0.0.1');
    expect(await seen()).toBe(opened);
    clock.advance(1);
    await service.authenticate(s.token, '10.0.0.1');
    await expect.poll(seen).toBe(clock.now());
  });

  it("refuses a token whose claims name another user's session", async () => {
    const { service } = setup();
    const real = await service.open({ userId: 'u1', name: 'alice' }, {}, false);
    const forged = new Sessions(SECRET, TTL).sign({ uid: 'u2', sid: real.sessionId as string, name: 'mallory', exp: real.expiresAt });
    expect(await service.authenticate(forged)).toBeUndefined();
  });

  it('refuses an expired token, and a forged one without reading the store', async () => {
    const { clock, service } = setup();
    const s = await service.open({ userId: 'u1', name: 'alice' }, {}, false);
    expect(await service.authenticate(`${s.token}x`)).toBeUndefined();
    clock.advance(TTL);
    expect(await service.authenticate(s.token)).toBeUndefined();
  });
});
