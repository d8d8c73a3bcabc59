/**
 * The chat core tells the server about fallbacks and upgrades (`report`),
 * read off the connection machine, over the transport it moved to; nothing
 * when the first choice works or the transport is forced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from './chat-client.ts';
import { DEFAULT_TIMING, initialMachine, type MachineState } from './connection-machine.ts';
import { saveSession } from './session.ts';
import { memoryStorage } from './storage.ts';
import type { TransportPreference } from './transport.ts';
import { transportReport } from './transport-reports.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush, type FakeTransport } from './testing-fakes.ts';

const ME = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };
const T = DEFAULT_TIMING;

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

function rig(preference: TransportPreference = 'auto') {
  const storage = memoryStorage();
  saveSession(storage, ME);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  const client = new ChatClient({
    storage,
    preference,
    sessionApi: fakeSessionApi(),
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
  });
  clients.push(client);
  return { client, transports, clock };
}

/** The reports a transport was asked to send. */
function reportsOn(t: FakeTransport | undefined): unknown[] {
  return (t?.others ?? []).filter((o) => o.name === 'report').map((o) => o.req);
}

describe('transport reports', () => {
  it('reports a fallback once the lower transport passed its check, over that transport', async () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop({ cause: 'refused' });
    const lp = r.transports.last;
    lp.connect();
    // On probation: nothing is said until the round trip proves the path.
    expect(reportsOn(lp)).toEqual([]);
    r.clock.advance(T.verifyIdleMs);
    await flush();
    expect(reportsOn(lp)).toEqual([{ event: 'fallback', from: 'websocket', to: 'long-polling', reason: 'refused' }]);
  });

  it('reports the first transport given up when it falls all the way to Ajax', async () => {
    const r = rig();
    r.client.start();
    r.clock.advance(T.connectMs.websocket);
    const lp = r.transports.last;
    lp.connect();
    r.clock.advance(1000);
    lp.drop({ cause: 'lost' });
    const sse = r.transports.last;
    sse.connect();
    r.clock.advance(1000);
    sse.drop({ cause: 'lost' });
    const ajax = r.transports.last;
    ajax.connect();
    expect(ajax.kind).toBe('ajax');
    expect(reportsOn(lp)).toEqual([]);
    expect(reportsOn(sse)).toEqual([]);
    expect(reportsOn(ajax)).toEqual([{ event: 'fallback', from: 'websocket', to: 'ajax', reason: 'timeout' }]);
  });

  it('reports an upgrade when a background probe takes over', async () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop({ cause: 'refused' });
    r.transports.last.drop({ cause: 'refused' });
    r.transports.last.drop({ cause: 'refused' });
    const ajax = r.transports.last;
    ajax.connect();
    r.clock.advance(T.probeFirstMs);
    const probe = r.transports.last;
    probe.connect();
    r.clock.advance(T.verifyIdleMs);
    await flush();
    expect(reportsOn(ajax)).toEqual([{ event: 'fallback', from: 'websocket', to: 'ajax', reason: 'refused' }]);
    expect(reportsOn(probe)).toEqual([{ event: 'upgrade', from: 'ajax', to: 'websocket' }]);
  });

  it('says nothing when the first choice works, or when the transport is forced', async () => {
    const auto = rig();
    auto.client.start();
    auto.transports.last.connect();
    auto.clock.advance(T.verifyIdleMs);
    await flush();
    expect(reportsOn(auto.transports.last)).toEqual([]);

    const forced = rig('ajax');
    forced.client.start();
    forced.transports.last.connect();
    await flush();
    expect(reportsOn(forced.transports.last)).toEqual([]);
  });
});

describe('transportReport', () => {
  const base = initialMachine(null, null);
  const at = (phase: MachineState['phase'], over: Partial<MachineState> = {}): MachineState => ({ ...base, phase, ...over });
  const online = (via: 'websocket' | 'long-polling' | 'ajax', trust: 'probation' | 'trusted' = 'trusted') => ({ name: 'online' as const, via, trust, openedAt: 0 });

  it.each([
    { name: 'socket.io upgraded long-polling by itself', before: at(online('long-polling', 'probation')), after: at(online('websocket', 'probation')), want: { event: 'upgrade', from: 'long-polling', to: 'websocket' } },
    { name: 'going down while online is not an upgrade', before: at(online('websocket')), after: at(online('long-polling')), want: null },
    { name: 'a recheck that passes reports nothing', before: at(online('ajax', 'probation')), after: at(online('ajax')), want: null },
    {
      name: 'settling after a failed rung',
      before: at(online('long-polling', 'probation'), { round: [{ kind: 'websocket', cause: 'unresponsive' }] }),
      after: at(online('long-polling'), { round: [] }),
      want: { event: 'fallback', from: 'websocket', to: 'long-polling', reason: 'unresponsive' },
    },
    { name: 'a lost connection', before: at(online('websocket')), after: at({ name: 'waiting', retryInMs: 1000 }), want: null },
  ])('$name', ({ before, after, want }) => {
    expect(transportReport(before, after)).toEqual(want);
  });
});
