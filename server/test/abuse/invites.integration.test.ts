/**
 * Private rooms and invitations, as a hostile client meets them. An owner's
 * `invite` adds a user to a private room without asking, so two defences
 * keep invitations from locking anyone out:
 *
 * - changes to rooms (create, invite, direct message) draw on a budget per
 *   identity AND per client address (`MANAGE_RATE`): cheap identities from
 *   one address share it;
 * - a full room list (MY_ROOMS_CAP) makes room by forgetting its oldest room
 *   the user never read anything in, so unwanted invitations can never
 *   crowd out a room the user joins or is really invited to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Ack } from '../../../shared/protocol.ts';
import { collect, startServer, type TestServer } from '../harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

describe('invitations', () => {
  it('cheap identities from one address share one budget for invitations', async () => {
    const s = await startServer();
    servers.push(s);
    const victim = await s.client('victim');
    const invited = collect(victim, 'invited');
    const attackers = await Promise.all(Array.from({ length: 40 }, (_, i) => s.client(`spam${i}`)));
    let refused = 0;
    await Promise.all(
      attackers.map(async (a) => {
        for (let k = 0; k < 5; k++) {
          const created = await a.emitWithAck('createRoom', { title: 'free prizes' });
          if (!created.ok) {
            refused++;
            continue;
          }
          const inv = await a.emitWithAck('invite', { room: created.room, userId: victim.session.userId });
          if (!inv.ok) refused++;
        }
      }),
    );
    // MANAGE_RATE 2/s with a burst of 10, for the address as a whole: of 200 tries, a handful got through.
    expect(refused).toBeGreaterThan(180);
    await new Promise((r) => setTimeout(r, 200));
    expect(invited.length).toBeLessThan(20);
  });

  it('unwanted invitations never crowd a real one out of a full room list', async () => {
    // The manage budget lifted, as if the invitations came from many addresses.
    const s = await startServer({ env: { MANAGE_RATE: '100000' } });
    servers.push(s);
    const victim = await s.client('victim');
    const invited = collect(victim, 'invited');
    const attackers = await Promise.all(Array.from({ length: 40 }, (_, i) => s.client(`spam${i}`)));
    await Promise.all(
      attackers.map(async (a) => {
        for (let k = 0; k < 5; k++) {
          const { room } = ok(await a.emitWithAck('createRoom', { title: 'free prizes' }));
          ok(await a.emitWithAck('invite', { room, userId: victim.session.userId }));
        }
      }),
    );
    await expect.poll(() => invited.length).toBe(200);
    // A friend's real invitation: the oldest unread invitation gives way.
    const friend = await s.client('friend');
    const { room } = ok(await friend.emitWithAck('createRoom', { title: 'book club' }));
    const { token } = ok(await friend.emitWithAck('inviteLink', { room }));
    expect(await victim.emitWithAck('acceptInvite', { token })).toMatchObject({ ok: true, room });
    const mine = ok(await victim.emitWithAck('myRooms', {})).rooms;
    expect(mine).toHaveLength(200);
    expect(mine.map((r) => r.room)).toContain(room);
    // And a public room the victim joins is remembered too.
    ok(await victim.emitWithAck('join', { room: 'lobby' }));
    expect(ok(await victim.emitWithAck('myRooms', {})).rooms.map((r) => r.room)).toContain('lobby');
  });
});
