/** The account API's HTTP details: the bearer token, every export page put together, refusals in words. */
import { describe, expect, it } from 'vitest';
import { EXPORT_PAGE } from '../../../shared/protocol.ts';
import { httpAccountApi } from './account-api.ts';

type Call = { method: string; url: string; auth: string | null; body: string | undefined };

function fakeFetch(answer: (c: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  const impl = (async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? 'GET', url, auth: new Headers(init.headers).get('authorization'), body: init.body as string | undefined };
    calls.push(c);
    const a = answer(c);
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  }) as typeof fetch;
  return { impl, calls };
}

const message = (seq: number) => ({ room: 'r', seq, ts: seq, text: `m${seq}` });
const page = (seqs: number[], next?: string) => ({
  exportedAt: 1,
  account: { userId: 'u', name: 'alice', registered: true },
  rooms: [{ room: 'r', visibility: 'public', lastRead: 0 }],
  messages: seqs.map(message),
  ...(next === undefined ? {} : { next }),
});

describe('httpAccountApi', () => {
  it('reads the export page by page until the last, as one document', async () => {
    const full = Array.from({ length: EXPORT_PAGE }, (_, i) => i + 1);
    const f = fakeFetch((c) => ({ status: 200, body: c.url.includes('after=') ? page([EXPORT_PAGE + 1]) : page(full, 'cursor/1') }));
    const r = await httpAccountApi('http://x', 'tok', f.impl).exportAll();
    expect(f.calls.map((c) => c.url)).toEqual(['http://x/api/account/export', 'http://x/api/account/export?after=cursor%2F1']);
    expect(f.calls.every((c) => c.auth === 'Bearer tok')).toBe(true);
    expect(r.ok && r.value.messages.length).toBe(EXPORT_PAGE + 1);
    expect(r.ok && 'next' in r.value).toBe(false);
  });

  it("answers the server's own words for a wrong current password, and a generic text for other refusals", async () => {
    const f = fakeFetch((c) =>
      c.url.endsWith('/password')
        ? { status: 403, body: { error: { code: 'forbidden', message: 'The current password is wrong.' } } }
        : { status: 503, body: { error: { code: 'unavailable', message: 'store down' } } },
    );
    const api = httpAccountApi('http://x', 'tok', f.impl);
    expect(await api.changePassword('old', 'a long walk in the park')).toEqual({ ok: false, message: 'The current password is wrong.' });
    expect(JSON.parse(f.calls[0]?.body ?? '{}')).toEqual({ current: 'old', password: 'a long walk in the park' });
    expect(await api.endSession('a/b')).toEqual({ ok: false, message: 'The server is busy or restarting. Try again in a moment.' });
    expect(f.calls[1]).toMatchObject({ method: 'DELETE', url: 'http://x/api/sessions/a%2Fb' });
  });

  it('a 204 is success, and an answer outside the schema is not', async () => {
    const f = fakeFetch((c) => (c.method === 'DELETE' ? { status: 204 } : { status: 200, body: { nonsense: true } }));
    const api = httpAccountApi('http://x', 'tok', f.impl);
    expect(await api.endOtherSessions()).toEqual({ ok: true, value: null });
    expect(await api.account()).toEqual({ ok: false, message: 'The server sent an unexpected answer.' });
  });

  it('a network failure is a sentence, not a throw', async () => {
    const api = httpAccountApi('http://x', 'tok', (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    expect(await api.sessions()).toEqual({ ok: false, message: 'Could not reach the server. Check your connection and try again.' });
  });
});
