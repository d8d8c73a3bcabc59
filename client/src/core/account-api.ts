/**
 * The account's REST calls for Settings: the account, its sessions and
 * passkeys, a password, the data export and deleting the account. Each
 * answers the server's result or a refusal in words; none throws.
 */
import { startRegistration } from '@simplewebauthn/browser';
import { COMMANDS, ErrorEnvelope, EXPORT_PAGE, type OkOf } from '../../../shared/protocol.ts';
import { errorText } from './error-text.ts';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; message: string };

export type AccountInfo = OkOf<'account'>;
export type SessionList = OkOf<'sessions'>['sessions'];
export type ExportPage = OkOf<'exportData'>;

export interface AccountApi {
  account(): Promise<ApiResult<AccountInfo>>;
  sessions(): Promise<ApiResult<SessionList>>;
  endSession(id: string): Promise<ApiResult<null>>;
  endOtherSessions(): Promise<ApiResult<null>>;
  changePassword(current: string | undefined, password: string): Promise<ApiResult<null>>;
  /** Registers a passkey made by this browser (it asks the user); a guest's first one claims the name. */
  addPasskey(): Promise<ApiResult<OkOf<'passkeyRegister'>>>;
  removePasskey(id: string): Promise<ApiResult<null>>;
  /** Every page of the export, put together. */
  exportAll(): Promise<ApiResult<ExportPage>>;
  deleteAccount(confirm: string): Promise<ApiResult<null>>;
}

const UNREACHABLE = 'Could not reach the server. Check your connection and try again.';

/** The account API over HTTP on the page's origin, as the holder of `token`. */
export function httpAccountApi(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): AccountApi {
  async function call<T>(method: string, path: string, parse: (body: unknown) => T | undefined, body?: unknown): Promise<ApiResult<T>> {
    let res: Response;
    try {
      res = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, message: UNREACHABLE };
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON: an unexpected answer, below.
    }
    if (res.ok) {
      const value = parse(parsed);
      return value === undefined ? { ok: false, message: 'The server sent an unexpected answer.' } : { ok: true, value };
    }
    const err = ErrorEnvelope.safeParse(parsed);
    // In Settings the server's own words say what was wrong (a wrong current password, a common one).
    if (err.success) return { ok: false, message: err.data.error.code === 'forbidden' || err.data.error.code === 'bad_request' ? err.data.error.message : errorText(err.data.error) };
    return { ok: false, message: `The server answered HTTP ${res.status}.` };
  }
  const none = () => null;
  const schema =
    <K extends keyof typeof COMMANDS>(k: K) =>
    (b: unknown) => {
      const r = COMMANDS[k].ok.safeParse(b);
      return r.success ? (r.data as OkOf<K>) : undefined;
    };

  return {
    account: () => call('GET', '/api/account', schema('account')),
    sessions: async () => {
      const r = await call('GET', '/api/sessions', schema('sessions'));
      return r.ok ? { ok: true, value: r.value.sessions } : r;
    },
    endSession: (id) => call('DELETE', `/api/sessions/${encodeURIComponent(id)}`, none),
    endOtherSessions: () => call('DELETE', '/api/sessions?others=1', none),
    changePassword: (current, password) => call('POST', '/api/account/password', none, current === undefined ? { password } : { current, password }),
    async addPasskey() {
      const opts = await call('POST', '/api/passkeys/options', schema('passkeyOptions'), {});
      if (!opts.ok) return opts;
      let response: unknown;
      try {
        response = await startRegistration({ optionsJSON: opts.value.options as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'] });
      } catch {
        return { ok: false, message: 'No passkey was made. Try again when your device asks.' };
      }
      return call('POST', '/api/passkeys', schema('passkeyRegister'), { response });
    },
    removePasskey: (id) => call('DELETE', `/api/passkeys/${encodeURIComponent(id)}`, none),
    async exportAll() {
      const first = await call('GET', '/api/account/export', schema('exportData'));
      if (!first.ok) return first;
      const all = { ...first.value, messages: [...first.value.messages] };
      let next = first.value.next;
      // Bounded by the account's own messages; each page is EXPORT_PAGE of them.
      while (next !== undefined) {
        const page = await call('GET', `/api/account/export?after=${encodeURIComponent(next)}`, schema('exportData'));
        if (!page.ok) return page;
        all.messages.push(...page.value.messages);
        next = page.value.messages.length === EXPORT_PAGE ? page.value.next : undefined;
      }
      delete all.next;
      return { ok: true, value: all };
    },
    deleteAccount: (confirm) => call('DELETE', '/api/account', none, { confirm }),
  };
}
