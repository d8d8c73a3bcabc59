/** The moderation records' contract, the same cases on every store. */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReportRecord } from './moderation-records.ts';
import { testStores } from './test-stores.ts';
import type { Store } from './store.ts';

const impls = testStores().filter(([name]) => ['MemoryStore', 'SqliteStore', 'PgStore'].includes(name));
const T = 1_800_000_000_000;
const carol = { userId: 'u-carol', name: 'carol' };
const dave = { userId: 'u-dave', name: 'dave' };
const bob = { userId: 'u-bob', name: 'bob' };

function report(id: string, extra: Partial<ReportRecord> = {}): ReportRecord {
  return { id, room: 'lobby', target: 3, authorId: carol.userId, reporter: { userId: 'u-alice', name: 'alice' }, reason: 'spam', ts: T, ...extra };
}

describe.each(impls)('moderation records on %s', (_, impl) => {
  let store: Store;
  beforeAll(async () => impl.setup?.(), 120_000);
  beforeEach(async () => {
    await impl.reset?.();
    store = impl.make();
  });
  afterEach(async () => store.close());

  it('starts a room with nobody appointed, muted or banned, and no rules', async () => {
    expect(await store.moderation.load('lobby')).toEqual({ moderators: [], mutes: [], bans: [], rules: { slowmode: 0, locked: false, pins: [] } });
  });

  it('keeps moderators, mutes and bans per room, each replaced rather than doubled, and lifts them', async () => {
    const m = store.moderation;
    await m.setModerator('lobby', bob, true);
    await m.setModerator('lobby', bob, true);
    await m.mute('lobby', carol, T + 600_000);
    await m.mute('lobby', carol, 0);
    await m.ban('lobby', { user: dave, address: '203.0.113.9', at: T });
    await m.ban('other', { user: carol, at: T });
    const lobby = await m.load('lobby');
    expect(lobby.moderators).toEqual([bob]);
    expect(lobby.mutes).toEqual([{ user: carol, until: 0 }]);
    expect(lobby.bans).toEqual([{ user: dave, address: '203.0.113.9', at: T }]);
    expect((await m.load('other')).bans).toEqual([{ user: carol, address: undefined, at: T }]);
    expect(await m.unmute('lobby', carol.userId)).toBe(true);
    expect(await m.unmute('lobby', carol.userId)).toBe(false);
    expect(await m.unban('lobby', dave.userId)).toBe(true);
    expect(await m.unban('lobby', dave.userId)).toBe(false);
    await m.setModerator('lobby', bob, false);
    expect(await m.load('lobby')).toMatchObject({ moderators: [], mutes: [], bans: [] });
  });

  it('keeps the rules: slow mode, the lock and the pins in order', async () => {
    await store.moderation.setRules('lobby', { slowmode: 10, locked: true, pins: [7, 3] });
    expect((await store.moderation.load('lobby')).rules).toEqual({ slowmode: 10, locked: true, pins: [7, 3] });
    await store.moderation.setRules('lobby', { slowmode: 0, locked: false, pins: [] });
    expect((await store.moderation.load('lobby')).rules).toEqual({ slowmode: 0, locked: false, pins: [] });
  });

  it('files one open report per reporter and message, lists them oldest first, and closes them by message', async () => {
    const m = store.moderation;
    expect(await m.addReport(report('r1'))).toBe(true);
    expect(await m.addReport(report('r1b'))).toBe(false);
    expect(await m.addReport(report('r2', { reporter: bob, ts: T + 1, reason: 'other', text: 'rude' }))).toBe(true);
    expect(await m.addReport(report('r3', { room: 'other', ts: T - 1 }))).toBe(true);
    expect((await m.openReports('lobby', 10)).map((r) => r.id)).toEqual(['r1', 'r2']);
    expect((await m.openReports('lobby', 10))[1]).toEqual(report('r2', { reporter: bob, ts: T + 1, reason: 'other', text: 'rude' }));
    expect((await m.openReports(undefined, 10)).map((r) => r.id)).toEqual(['r3', 'r1', 'r2']);
    expect(await m.openReportCount('lobby')).toBe(2);
    expect(await m.resolveReports('lobby', 3, bob.userId, 'acted', T + 5)).toBe(2);
    expect(await m.resolveReports('lobby', 3, bob.userId, 'acted', T + 5)).toBe(0);
    expect(await m.openReportCount('lobby')).toBe(0);
    // Once closed, the same reporter may report the message again.
    expect(await m.addReport(report('r4'))).toBe(true);
  });

  it('keeps the audit log newest first, filtered by room, actor and action, a page at a time', async () => {
    const m = store.moderation;
    await m.audit({ ts: T, room: 'lobby', actor: bob, action: 'mute', subject: carol, seconds: 600, reason: 'spam' });
    await m.audit({ ts: T + 1, room: 'lobby', actor: bob, action: 'delete', target: 4 });
    await m.audit({ ts: T + 2, room: 'other', actor: dave, action: 'role', subject: bob, role: 'moderator' });
    const all = await m.auditLog({ limit: 10 });
    expect(all.map((a) => a.action)).toEqual(['role', 'delete', 'mute']);
    expect(all[2]).toMatchObject({ ts: T, room: 'lobby', actor: bob, action: 'mute', subject: carol, seconds: 600, reason: 'spam' });
    expect(all[0]).toMatchObject({ role: 'moderator', subject: bob });
    expect((await m.auditLog({ room: 'lobby', limit: 10 })).map((a) => a.action)).toEqual(['delete', 'mute']);
    expect((await m.auditLog({ actorId: dave.userId, limit: 10 })).map((a) => a.action)).toEqual(['role']);
    expect((await m.auditLog({ action: 'mute', limit: 10 })).map((a) => a.room)).toEqual(['lobby']);
    const first = await m.auditLog({ limit: 1 });
    expect((await m.auditLog({ before: first[0]?.id, limit: 5 })).map((a) => a.action)).toEqual(['delete', 'mute']);
  });
});
