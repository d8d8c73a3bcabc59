/**
 * The threat model's attacks, scaled to seconds, against the real server
 * (its own process, every setting at its default), each while a calm client
 * on another address and identity keeps sending. `npm run abuse` runs the
 * same attacks at full size and prints the figures; here they are held to
 * invariants that must not move on a small shared machine: the calm client
 * is answered within a second and loses nothing, the server's memory stays
 * bounded, newcomers still get in, and the refusals are counted.
 */
import { describe, expect, it } from 'vitest';
import { ADDRESSES, connectionFlood, historyFlood, identityCrowd, roomProbe, slowReader, type Attack } from './attacks.ts';
import { runAttack, startTarget, type AttackReport } from './runner.ts';

const MB = 2 ** 20;
/** Generous on purpose: CI shares two cores with the attacker; `npm run abuse` reports the tight figures. */
const CALM_P99_MS = 1000;
/** Settings these attacks meet, at their defaults (server/config.ts). */
const DEFAULTS = { maxConnectionsPerIdentity: 32, tcpPerAddress: 2 * 256, maxRoomsPerIdentity: 100, sendAddressRate: 30, sendAddressBurst: 60 };

async function attack(a: Attack): Promise<AttackReport> {
  const target = await startTarget();
  try {
    return await runAttack(a, target, 'ci');
  } finally {
    await target.stop();
  }
}

/** The calm client was served throughout, and everything it was acked is stored. */
function expectCalm(r: AttackReport): void {
  expect(r.error).toBeUndefined();
  expect(r.serverExit).toBeUndefined();
  expect(r.stopped).toBeUndefined();
  expect(r.victim.acked).toBeGreaterThan(10);
  expect(r.victim.errors).toEqual({});
  expect(r.victim.lost).toBe(0);
  expect(r.victim.latency.p99).toBeLessThan(CALM_P99_MS);
}

describe('attacks with default settings', () => {
  it('(a) a socket that stops reading and asks the biggest history page 50/s gets a few pages, and memory stays bounded', async () => {
    const r = await attack(slowReader);
    expectCalm(r);
    expect(r.rss.growth).toBeLessThan(200 * MB);
    expect(r.refusals.rate_read).toBeGreaterThan(0);
  }, 60_000);

  it('(b) thousands of reads of made-up rooms start no fiber beyond the budget, write no row, and a newcomer opens a room at once', async () => {
    const r = await attack(roomProbe);
    expectCalm(r);
    expect(r.figures['rooms rows gained']).toBe(0);
    // The attacker's polls, within its identity's budget, and the victim's own room.
    expect(r.figures['live room fibers']).toBeLessThanOrEqual(DEFAULTS.maxRoomsPerIdentity + 1);
    expect(String(r.figures['newcomer opens a room'])).toMatch(/^joined/);
    expect(r.refusals.rate_read).toBeGreaterThan(0);
    expect(r.refusals.room_budget).toBeGreaterThan(0);
  }, 60_000);

  it('(c) one token holds 32 sockets, one address 512 TCP connections, and newcomers still connect', async () => {
    const r = await attack(connectionFlood);
    expectCalm(r);
    expect(r.figures['sockets held']).toBe(DEFAULTS.maxConnectionsPerIdentity);
    expect(r.figures['raw TCP held after 1 s']).toBeLessThanOrEqual(DEFAULTS.tcpPerAddress);
    expect(String(r.figures['newcomer during the flood'])).toMatch(/^joined/);
    expect(String(r.figures['newcomer after the TCP flood'])).toMatch(/^joined/);
    expect(r.refusals.connection_cap_identity).toBeGreaterThan(0);
    expect(r.refusals.tcp_cap).toBeGreaterThan(0);
  }, 60_000);

  it('(d) cheap identities from one address get no more sends through than the address budget', async () => {
    const r = await attack(identityCrowd);
    expectCalm(r);
    const seconds = Number(r.figures.seconds);
    expect(r.figures.identities).toBeGreaterThan(1);
    // One second of slack: the acks counted may trail the window a little.
    expect(r.figures['sends accepted']).toBeLessThanOrEqual(DEFAULTS.sendAddressRate * (seconds + 1) + DEFAULTS.sendAddressBurst);
    expect(r.figures['sends asked']).toBeGreaterThan(2 * Number(r.figures['sends accepted']));
    expect(r.refusals.rate_send).toBeGreaterThan(0);
    expect(r.refusals.rate_session).toBeGreaterThan(0);
  }, 60_000);

  it('(e) a client that reads and asks the biggest history page 50/s is held to its read budget', async () => {
    const r = await attack(historyFlood);
    expectCalm(r);
    expect(r.rss.growth).toBeLessThan(200 * MB);
    expect(r.refusals.rate_read).toBeGreaterThan(0);
    expect(r.figures['answered ok']).toBeLessThan(Number(r.figures['history asked']) / 2);
  }, 60_000);
});

// Addresses are roles: the victim's must not be an attacker's, or the per-address budgets would mix them.
it('gives every role its own address', () => {
  const all = Object.values(ADDRESSES).flat();
  expect(new Set(all).size).toBe(all.length);
});
