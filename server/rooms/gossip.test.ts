import { describe, expect, it } from 'vitest';
import type { Message } from '../../shared/protocol.ts';
import type { Bus, PeerMessage } from '../cluster/bus.ts';
import { HINT_MAX_BYTES, PEER_HEARTBEAT_MS, PEER_PRESENCE_TTL_MS, RoomGossip } from './gossip.ts';
import type { RoomCommand } from './types.ts';

/** A bus that records what is published and lets the test play a peer. */
function fakeBus() {
  const published: PeerMessage[] = [];
  const listeners = new Map<string, (msg: PeerMessage) => void>();
  const bus: Bus = {
    node: 'n1',
    subscribe: (room, deliver) => void listeners.set(room, deliver),
    unsubscribe: (room) => void listeners.delete(room),
    publish: (_room, msg) => void published.push(msg),
    notify: () => {},
    onNotice: () => {},
    close: async () => {},
  };
  return { bus, published, listeners };
}

function message(seq: number, text = 'hi'): Message {
  return { seq, id: `m${seq}`, author: 'alice', authorId: 'u1', text, ts: 1 } as Message;
}

const alice = { userId: 'u1', name: 'alice' };

describe('RoomGossip', () => {
  it('turns peer messages into commands; a kick must arrive, the rest may be dropped', () => {
    const { bus, listeners } = fakeBus();
    const gossip = new RoomGossip(bus, 'lobby', () => 0);
    const heard: Array<[RoomCommand, boolean]> = [];
    gossip.listen((cmd, mustArrive) => heard.push([cmd, mustArrive]));
    const peer = listeners.get('lobby');
    peer?.({ type: 'hint', node: 'n2', epoch: 'e', last: 3 });
    peer?.({ type: 'kick', node: 'n2', userId: 'u9' });
    peer?.({ type: 'presence', node: 'n2', users: [alice], ttlMs: 1 });
    peer?.({ type: 'hello', node: 'n2' });
    expect(heard).toEqual([
      [{ kind: 'hint', last: 3, epoch: 'e', messages: undefined }, false],
      [{ kind: 'kick', userId: 'u9' }, true],
      [{ kind: 'peer', news: { type: 'presence', node: 'n2', users: [alice], ttlMs: 1 } }, false],
      [{ kind: 'peer', news: { type: 'hello', node: 'n2' } }, false],
    ]);
    gossip.close();
    expect(listeners.has('lobby')).toBe(false);
  });

  it('says presence when it changes, repeats it as a heartbeat while anyone is present, and stops', () => {
    const { bus, published } = fakeBus();
    let now = 1_000;
    const gossip = new RoomGossip(bus, 'lobby', () => now);
    // Nothing to say and nothing ever said: even `always` stays quiet.
    gossip.tellPresence([], true);
    expect(published).toEqual([]);
    expect(gossip.nextHeartbeat).toBe(Infinity);
    gossip.tellPresence([alice]);
    expect(published).toEqual([{ type: 'presence', node: 'n1', users: [alice], ttlMs: PEER_PRESENCE_TTL_MS }]);
    expect(gossip.nextHeartbeat).toBe(1_000 + PEER_HEARTBEAT_MS);
    // Unchanged: not said again, unless as the heartbeat.
    gossip.tellPresence([alice]);
    expect(published).toHaveLength(1);
    now += PEER_HEARTBEAT_MS;
    expect(gossip.heartbeatDue(now)).toBe(true);
    gossip.tellPresence([alice], true);
    expect(published).toHaveLength(2);
    expect(gossip.heartbeatDue(now)).toBe(false);
    // Everyone left: said once, and no more heartbeats.
    gossip.tellPresence([]);
    expect(published.at(-1)).toEqual({ type: 'presence', node: 'n1', users: [], ttlMs: PEER_PRESENCE_TTL_MS });
    expect(gossip.nextHeartbeat).toBe(Infinity);
  });

  it('says typing when it changes, or always as a renewal', () => {
    const { bus, published } = fakeBus();
    const gossip = new RoomGossip(bus, 'lobby', () => 0);
    gossip.tellTyping([alice]);
    gossip.tellTyping([alice]);
    expect(published).toHaveLength(1);
    gossip.tellTyping([alice], true);
    expect(published).toEqual([
      { type: 'typing', node: 'n1', users: [alice] },
      { type: 'typing', node: 'n1', users: [alice] },
    ]);
  });

  it('hints carry small contiguous batches, and only the position otherwise', () => {
    const { bus, published } = fakeBus();
    const gossip = new RoomGossip(bus, 'lobby', () => 0);
    gossip.hint('e', [message(4), message(5)], 5);
    // A gap (what was committed is not what the batch holds): the position only.
    gossip.hint('e', [message(7)], 8);
    // Too big to carry.
    gossip.hint('e', [message(9, 'x'.repeat(HINT_MAX_BYTES + 1))], 9);
    expect(published).toEqual([
      { type: 'hint', node: 'n1', epoch: 'e', last: 5, messages: [message(4), message(5)] },
      { type: 'hint', node: 'n1', epoch: 'e', last: 8 },
      { type: 'hint', node: 'n1', epoch: 'e', last: 9 },
    ]);
  });
});
