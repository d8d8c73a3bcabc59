/**
 * Sends, at their default budgets: cheap identities from one address share
 * that address's budget, and a room takes at most its own rate from
 * everyone together. Texts and names: what is refused, and for what is
 * accepted, that the ack, the store and the broadcast agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeText } from '../../../shared/text-rules.ts';
import type { Ack, Message, SendOk } from '../../../shared/protocol.ts';
import { cid, collect, startServer, type ChatSocket, type TestServer } from '../harness.ts';
import { refusals } from './measure.ts';
import { httpRequest, sessionFrom, socketFrom } from './net.ts';

const servers: TestServer[] = [];
const sockets: ChatSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}
async function clientFrom(s: TestServer, name: string, address: string): Promise<ChatSocket> {
  const session = await sessionFrom(s.url, name, address);
  const socket = await socketFrom(s.url, session.token, address);
  sockets.push(socket);
  return socket;
}
const codeOf = (a: Ack<unknown>) => (a.ok ? 'ok' : a.error.code);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every socket sends `each` messages into `room` at once; the answers, and the seconds it took. */
async function burst(clients: ChatSocket[], room: string, each: number): Promise<{ answers: Array<Ack<SendOk>>; seconds: number }> {
  const t0 = performance.now();
  const answers = await Promise.all(clients.flatMap((c, i) => range(each).map((k) => c.emitWithAck('send', { room, text: `${i}/${k}`, clientId: cid() }))));
  return { answers, seconds: (performance.now() - t0) / 1000 };
}

describe('send budgets', () => {
  it('identities from one address share its budget (30/s, burst 60); another address is not affected', async () => {
    const s = await server();
    // Fifteen each: under the in-flight cap and each identity's own burst, so only the address budget binds.
    const crowd = await Promise.all(range(8).map((i) => clientFrom(s, `crowd${i}`, '127.0.0.40')));
    const { answers, seconds } = await burst(crowd, 'r', 15);
    const accepted = answers.filter((a) => a.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(60);
    expect(accepted).toBeLessThanOrEqual(60 + Math.ceil(30 * seconds));
    expect(answers.filter((a) => !a.ok).every((a) => codeOf(a) === 'rate_limited')).toBe(true);
    const other = await clientFrom(s, 'other', '127.0.0.41');
    expect(codeOf(await other.emitWithAck('send', { room: 'r', text: 'still here', clientId: cid() }))).toBe('ok');
    expect((await refusals(s.url)).rate_send).toBe(120 - accepted);
  });

  it('a room takes at most 200/s (burst 400) from everyone together; other rooms are not affected', async () => {
    const s = await server();
    // Eight addresses of four identities: 480 sends at once, each address within its own burst of 60.
    const clients = await Promise.all(range(32).map((i) => clientFrom(s, `fan${i}`, `127.0.0.${50 + (i % 8)}`)));
    const { answers, seconds } = await burst(clients, 'hot', 15);
    const accepted = answers.filter((a) => a.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(400);
    expect(accepted).toBeLessThanOrEqual(400 + Math.ceil(200 * seconds));
    const elsewhere = await clientFrom(s, 'elsewhere', '127.0.0.60');
    expect(codeOf(await elsewhere.emitWithAck('send', { room: 'cool', text: 'quiet here', clientId: cid() }))).toBe('ok');
  });
});

describe('names and texts', () => {
  it('refuses names with a lone surrogate, invisible characters or bidi controls, on the REST path', async () => {
    const s = await server();
    for (const name of ['al\uD800ice', 'al\u200Bice', '\u2800', 'alice\u202E', '\u3164']) {
      const r = await httpRequest(s.url, { method: 'POST', path: '/api/session', body: JSON.stringify({ name }) });
      expect.soft(r.status, JSON.stringify(name)).toBe(400);
      expect.soft(JSON.parse(r.body).error.code).toBe('bad_request');
    }
  });

  it('refuses texts with a lone surrogate or bidi controls, over socket and REST alike', async () => {
    const s = await server();
    const a = await s.client('alice');
    for (const text of ['hi \uDC00 there', 'evil\u202Egnp.exe', '\u200B\u200B']) {
      expect.soft(codeOf(await a.emitWithAck('send', { room: 'r', text, clientId: cid() })), JSON.stringify(text)).toBe('bad_request');
      const r = await httpRequest(s.url, {
        method: 'POST',
        path: '/api/rooms/r/messages',
        body: JSON.stringify({ text, clientId: cid() }),
        headers: { authorization: `Bearer ${a.session.token}` },
      });
      expect.soft(r.status, JSON.stringify(text)).toBe(400);
    }
  });

  it('stores, broadcasts and serves exactly the normalised text of tricky but valid input', async () => {
    const s = await server({ store: 'sqlite' });
    const sender = await s.client('sender');
    const reader = await s.client('reader');
    expect((await reader.emitWithAck('join', { room: 'unicode' })).ok).toBe(true);
    const seen = collect(reader, 'messages');
    const inputs = [
      'e\u0301cole',                        // NFD: stored as NFC "école"
      '👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 🧑🏽‍💻 coder', // emoji ZWJ sequences
      'line one\r\nline two\rline three',   // CRLF and CR become LF
      'می‌خواهم',                            // Persian with a ZWNJ
      '  padded  ',                         // trimmed
      '😀'.repeat(4000),                    // the longest: 4,000 code points, 8,000 UTF-16 units
    ];
    const acks: Array<{ seq: number; text: string }> = [];
    for (const text of inputs) {
      const a = await sender.emitWithAck('send', { room: 'unicode', text, clientId: cid() });
      if (!a.ok) throw new Error(`refused ${JSON.stringify(text)}: ${a.error.message}`);
      acks.push({ seq: a.seq, text: normalizeText(text) });
    }
    expect(acks.map((x) => x.text).slice(0, 3)).toEqual(['école', '👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 🧑🏽‍💻 coder', 'line one\nline two\nline three']);
    await expect.poll(() => seen.flatMap((e) => e.messages).length).toBe(inputs.length);
    const broadcast = seen.flatMap((e) => e.messages).map((m: Message) => ({ seq: m.seq, text: m.text }));
    const history = await sender.emitWithAck('history', { room: 'unicode', before: 1e9 });
    const stored = history.ok ? history.messages.map((m) => ({ seq: m.seq, text: m.text })) : [];
    const rest = (await (
      await fetch(`${s.url}/api/rooms/unicode/messages?after=0`, { headers: { authorization: `Bearer ${sender.session.token}` } })
    ).json()) as { messages: Message[] };
    expect(broadcast).toEqual(acks);
    expect(stored).toEqual(acks);
    expect(rest.messages.map((m) => ({ seq: m.seq, text: m.text }))).toEqual(acks);
  });
});
