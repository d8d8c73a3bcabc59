import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../shared/protocol.ts';
import { REFUSAL_TEXT, errorText } from './error-text.ts';
import { httpSessionApi } from './session.ts';

describe('errorText', () => {
  it.each<[ErrorCode, string]>([
    ['rate_limited', "You're going a little fast. Wait a moment, then try again."],
    ['unavailable', 'The server is busy or restarting. Try again in a moment.'],
    ['too_large', "That's too long to send: messages can be at most 4,000 characters."],
    ['forbidden', "That isn't allowed here."],
    ['unauthorized', 'Your session has expired. Please join again.'],
  ])('%s reads as a sentence for people, whatever the server wrote', (code, text) => {
    expect(errorText({ code, message: 'rate limit exceeded (send, identity bucket)' })).toBe(text);
  });

  it.each<ErrorCode>(['bad_request', 'not_found'])("%s keeps the server's message: it names the exact problem", (code) => {
    expect(errorText({ code, message: "Names can't contain invisible characters" })).toBe("Names can't contain invisible characters");
  });

  it('a refused connection is explained in the status line', () => {
    expect(REFUSAL_TEXT.too_many_connections).toBe('Too many connections from this address or account; retrying…');
  });
});

describe('session errors', () => {
  it("a refused session shows the friendly sentence, not the server's wording", async () => {
    const fetchImpl = (async () =>
      new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'session bucket empty', retryAfterMs: 2000 } }), {
        status: 429,
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch;
    expect(await httpSessionApi('', fetchImpl).create('alice')).toEqual({
      ok: false,
      message: "You're going a little fast. Wait a moment, then try again.",
    });
  });
});
