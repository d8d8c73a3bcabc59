import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseStreamId, type Message } from '../../shared/protocol.ts';
import { cid, startServer, unlimitedSends, type TestServer } from './harness.ts';
import { Stream, ticket } from './sse-stream.ts';

/**
 * The Server-Sent Events carrier end to end on a real server: tickets, the
 * stream's events and ids, resuming from an id, and the budgets and session
 * rules every carrier shares.
 */
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}

async function post(s: TestServer, token: string, room: string, text: string): Promise<number> {
  const res = await fetch(`${s.url}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text, clientId: cid() }),
  });
  const body = (await res.json()) as { seq: number };
  return body.seq;
}

describe('stream tickets', () => {
  it('need a session, are single-use, and expire; a made-up one opens nothing', async () => {
    const s = await server();
    expect((await ticket(s, undefined)).status).toBe(401);
    expect((await ticket(s, 'not-a-token')).status).toBe(401);
    const alice = await s.session('alice');
    const t = await ticket(s, alice.token);
    expect(t.status).toBe(200);
    expect(t.body.expiresAt).toBeGreaterThan(Date.now());
    expect(t.body.expiresAt).toBeLessThanOrEqual(Date.now() + 30_000);
    // The long-lived token is not in the ticket.
    expect(t.body.ticket).not.toContain(alice.token);
    const first = await Stream.open(s.url, t.body.ticket as string, []);
    expect(first.status).toBe(200);
    const again = await Stream.open(s.url, t.body.ticket as string, []);
    expect(again.status).toBe(401);
    const forged = await Stream.open(s.url, `${(t.body.ticket as string).split('.')[0]}.made-up`, []);
    expect(forged.status).toBe(401);
    first.close();
  });

  it('refuse a stream without Accept: text/event-stream, or with rooms that are not room names', async () => {
    const s = await server();
    const alice = await s.session('alice');
    const t = (await ticket(s, alice.token)).body.ticket as string;
    const plain = await fetch(`${s.url}/api/stream?ticket=${encodeURIComponent(t)}&rooms=a`);
    expect(plain.status).toBe(400);
    const bad = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, ['Not A Room']);
    expect(bad.status).toBe(400);
    expect(bad.events[0]?.data).toMatchObject({ error: { code: 'bad_request' } });
  });
});

describe('a stream', () => {
  it('joins its rooms, then carries their live events with every room\'s position as the id', async () => {
    const s = await server();
    const alice = await s.session('alice');
    const bob = await s.client('bob');
    await post(s, alice.token, 'a', 'before');
    const st = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, ['a', 'b']);
    await expect.poll(() => st.of('joined').length).toBe(2);
    expect(st.events[0]?.event).toBe('ready');
    const joinedA = st.of('joined')[0]?.data as { room: string; lastSeq: number; messages: Message[]; members: string[] };
    expect(joinedA).toMatchObject({ room: 'a', lastSeq: 1, members: ['alice'] });
    expect(joinedA.messages.map((m) => m.text)).toEqual(['before']);
    expect((await bob.emitWithAck('join', { room: 'a' })).ok).toBe(true);
    await expect.poll(() => st.of('presence').some((e) => (e.data as { members: string[] }).members.includes('bob'))).toBe(true);
    expect((await bob.emitWithAck('send', { room: 'a', text: 'live one', clientId: cid() })).ok).toBe(true);
    await post(s, alice.token, 'b', 'in b');
    await expect.poll(() => [st.texts('a'), st.texts('b')]).toEqual([['live one'], ['in b']]);
    const ids = parseStreamId(st.lastId());
    expect(ids.get('a')?.seq).toBe(2);
    expect(ids.get('b')?.seq).toBe(1);
    st.close();
  });

  it('resumes from its last id without a gap or a duplicate, through the join rules', async () => {
    const s = await server();
    const alice = await s.session('alice');
    const bob = await s.session('bob');
    const st = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, ['r']);
    await expect.poll(() => st.of('joined').length).toBe(1);
    for (let i = 0; i < 3; i++) await post(s, bob.token, 'r', `m${i}`);
    await expect.poll(() => st.texts('r')).toEqual(['m0', 'm1', 'm2']);
    const id = st.lastId();
    st.close();
    for (let i = 3; i < 6; i++) await post(s, bob.token, 'r', `m${i}`);
    const back = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, ['r'], id);
    await expect.poll(() => back.of('joined').length).toBe(1);
    const joined = back.of('joined')[0]?.data as { recovered: boolean; messages: Message[] };
    expect(joined.recovered).toBe(true);
    expect(joined.messages.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
    back.close();
  });

  it('ends with bye session_revoked when its session is ended, and its ticket is refused from then on', async () => {
    const s = await server();
    const alice = await s.session('alice');
    const t = (await ticket(s, alice.token)).body.ticket as string;
    const spare = (await ticket(s, alice.token)).body.ticket as string;
    const st = await Stream.open(s.url, t, ['r']);
    await expect.poll(() => st.of('joined').length).toBe(1);
    // Ending the session (as Settings does) tells its streams at once.
    const auth = { authorization: `Bearer ${alice.token}` };
    const list = (await (await fetch(`${s.url}/api/sessions`, { headers: auth })).json()) as { sessions: Array<{ id: string; current: boolean }> };
    const current = list.sessions.find((x) => x.current);
    expect(current).toBeDefined();
    const out = await fetch(`${s.url}/api/sessions/${current?.id}`, { method: 'DELETE', headers: auth });
    expect(out.status).toBe(204);
    await expect.poll(() => st.of('bye').map((e) => e.data)).toEqual([{ reason: 'session_revoked' }]);
    await expect.poll(() => st.of('end').length).toBe(1);
    expect((await Stream.open(s.url, spare, ['r'])).status).toBe(401);
  });

  it('counts against the connection cap per identity, and a stranger cannot read a private room', async () => {
    const s = await server({ MAX_CONNECTIONS_PER_IDENTITY: '1' });
    const alice = await s.session('alice');
    const one = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, []);
    expect(one.status).toBe(200);
    const two = await Stream.open(s.url, (await ticket(s, alice.token)).body.ticket as string, []);
    expect(two.status).toBe(429);
    one.close();
    const owner = await s.client('owner');
    const made = (await owner.emitWithAck('createRoom', { title: 'Secret' })) as { ok: boolean; room?: string };
    expect(made.ok).toBe(true);
    const carol = await s.session('carol');
    const spy = await Stream.open(s.url, (await ticket(s, carol.token)).body.ticket as string, [made.room as string]);
    await expect.poll(() => spy.of('refused').length).toBe(1);
    expect(spy.of('refused')[0]?.data).toMatchObject({ room: made.room, error: { code: 'not_found' } });
    expect(spy.of('joined')).toEqual([]);
    spy.close();
  });

  it('is cut as a slow consumer once it holds more than its outbound budget, and the server goes on', async () => {
    const s = await server({ MAX_OUTBOUND_BYTES: '65536', ...unlimitedSends() });
    const alice = await s.session('alice');
    const t = (await ticket(s, alice.token)).body.ticket as string;
    // A reader that never reads: the bytes pile up in the server's response buffer.
    const req = httpRequest(`${s.url}/api/stream?ticket=${encodeURIComponent(t)}&rooms=flood`, { headers: { accept: 'text/event-stream' } });
    req.on('response', (res) => res.pause());
    req.on('error', () => {});
    req.end();
    const bob = await s.client('bob');
    expect((await bob.emitWithAck('join', { room: 'flood' })).ok).toBe(true);
    const text = 'x'.repeat(3000);
    const evicted = async () => /fiberchat_slow_consumers_total [1-9]/.test(await (await fetch(`${s.url}/metrics`)).text());
    let sent = 0;
    for (let i = 0; i < 400 && !(await evicted()); i++) {
      const acks = await Promise.all(Array.from({ length: 10 }, () => bob.emitWithAck('send', { room: 'flood', text, clientId: cid() })));
      sent += acks.filter((a) => a.ok).length;
    }
    expect(sent).toBeGreaterThan(0);
    req.destroy();
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/fiberchat_slow_consumers_total [1-9]/);
    expect((await bob.emitWithAck('send', { room: 'flood', text: 'still here', clientId: cid() })).ok).toBe(true);
  });
});
