import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { fail, type Ack, type OkInputOf, type ParsedRequestOf } from '../../shared/protocol.ts';
import type { Identity } from '../rooms/types.ts';
import type { PasskeyRecord } from '../store/account-records.ts';
import type { Store } from '../store/store.ts';
import type { AccountCaller } from './account-handlers.ts';
import { deviceLabel } from './device-label.ts';
import { nameKey } from './name-key.ts';
import type { SessionService } from './session-service.ts';

/** How long a WebAuthn challenge may be answered (the browser's own prompt times out at about the same). */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Passkeys one account may hold. */
export const PASSKEYS_PER_ACCOUNT = 20;
const RP_NAME = 'Fiberchat';

/** A passkey caller: where the browser says the page is (the WebAuthn origin; see `webOrigin` in http-edge.ts). */
export type PasskeyCaller = AccountCaller & { origin?: string | undefined };

export interface PasskeyDeps {
  store: Store;
  sessions: SessionService;
  registered?(how: 'password' | 'passkey' | 'claim'): void;
  signInFailed?(caller: AccountCaller): void;
}

const NOT_ACCEPTED = 'That passkey was not accepted. Try again, or sign in with your password.';
const NO_ORIGIN = 'Passkeys need the page to be opened at the address the server is configured for (PUBLIC_ORIGIN).';

function info(p: PasskeyRecord) {
  return { id: p.id, label: p.label, createdAt: p.createdAt, ...(p.lastUsedAt === undefined ? {} : { lastUsedAt: p.lastUsedAt }) };
}

/** The challenge a WebAuthn response signed, read from its client data (undefined when there is none to read). */
function challengeOf(response: Record<string, unknown>): string | undefined {
  const inner = response.response;
  if (typeof inner !== 'object' || inner === null) return undefined;
  const data = (inner as { clientDataJSON?: unknown }).clientDataJSON;
  if (typeof data !== 'string' || data.length > 8192) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'));
    const c = (parsed as { challenge?: unknown }).challenge;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Passkeys (WebAuthn) through `@simplewebauthn/server`, which checks the
 * attestation and assertion formats, signatures and counters. Challenges are
 * rows of the store, each good once for five minutes, so a cluster node
 * other than the one that made it can check it (Ajax clients have no sticky
 * sessions). Sign-in is discoverable: the browser offers the passkeys it
 * holds for this site, no name typed.
 */
export function passkeyHandlers(deps: PasskeyDeps) {
  const { store, sessions } = deps;

  /** The challenge, if it was ours, for this purpose, unexpired and unused; it is used up by this check. */
  const takeChallenge = async (response: Record<string, unknown>, purpose: 'register' | 'login') => {
    const challenge = challengeOf(response);
    return challenge === undefined ? undefined : store.takeChallenge(challenge, purpose, Date.now());
  };

  return {
    async passkeyOptions(caller: PasskeyCaller & { identity: Identity }): Promise<Ack<OkInputOf<'passkeyOptions'>>> {
      if (!caller.origin) return fail('bad_request', NO_ORIGIN);
      const who = caller.identity;
      const existing = await store.passkeys(who.userId);
      if (existing.length >= PASSKEYS_PER_ACCOUNT) return fail('forbidden', `An account may have at most ${PASSKEYS_PER_ACCOUNT} passkeys.`);
      const options = await generateRegistrationOptions({
        rpName: RP_NAME,
        rpID: new URL(caller.origin).hostname,
        userName: who.name,
        userID: new TextEncoder().encode(who.userId),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.id, ...(p.transports ? { transports: p.transports as AuthenticatorTransport[] } : {}) })),
        // Discoverable (a resident key): signing in needs no name.
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
      await store.saveChallenge({ challenge: options.challenge, purpose: 'register', userId: who.userId, expiresAt: Date.now() + CHALLENGE_TTL_MS });
      return { ok: true, options: options as unknown as Record<string, unknown> };
    },

    async passkeyRegister(caller: PasskeyCaller & { identity: Identity }, req: ParsedRequestOf<'passkeyRegister'>): Promise<Ack<OkInputOf<'passkeyRegister'>>> {
      const origin = caller.origin;
      if (!origin) return fail('bad_request', NO_ORIGIN);
      const who = caller.identity;
      const challenge = await takeChallenge(req.response, 'register');
      if (!challenge || challenge.userId !== who.userId) return fail('bad_request', 'That passkey request has expired; try again.');
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response: req.response as unknown as RegistrationResponseJSON,
          expectedChallenge: challenge.challenge,
          expectedOrigin: origin,
          expectedRPID: new URL(origin).hostname,
          requireUserVerification: false,
        });
      } catch {
        return fail('bad_request', 'The browser sent a passkey the server could not check.');
      }
      if (!verified.verified) return fail('bad_request', 'The passkey could not be verified.');
      const account = await store.account(who.userId);
      if (!account) {
        // A guest's first passkey claims their name: the account is made with it, under the same userId.
        const created = await store.createAccount({ userId: who.userId, name: who.name, nameKey: nameKey(who.name), createdAt: Date.now() });
        if (!created) return fail('name_taken', 'That name belongs to an account already.');
        sessions.becameAccount(who.userId);
        deps.registered?.('passkey');
      }
      const c = verified.registrationInfo.credential;
      const record: PasskeyRecord = {
        id: c.id,
        userId: who.userId,
        publicKey: c.publicKey,
        counter: c.counter,
        transports: c.transports,
        label: req.label ?? (caller.userAgent ? deviceLabel(caller.userAgent) : 'Passkey'),
        createdAt: Date.now(),
      };
      if (await store.passkey(c.id)) return fail('bad_request', 'That passkey is registered already.');
      await store.addPasskey(record);
      return { ok: true, passkey: info(record), registered: true };
    },

    async removePasskey(caller: AccountCaller & { identity: Identity }, req: ParsedRequestOf<'removePasskey'>): Promise<Ack<OkInputOf<'removePasskey'>>> {
      const who = caller.identity;
      const [account, keys] = await Promise.all([store.account(who.userId), store.passkeys(who.userId)]);
      if (!keys.some((k) => k.id === req.id)) return fail('not_found', 'no such passkey');
      if (account && account.passwordHash === undefined && keys.length === 1) {
        return fail('forbidden', 'This is your only way to sign in: set a password or add another passkey first.');
      }
      await store.removePasskey(who.userId, req.id);
      return { ok: true };
    },

    async passkeyLoginOptions(caller: PasskeyCaller): Promise<Ack<OkInputOf<'passkeyLoginOptions'>>> {
      if (!caller.origin) return fail('bad_request', NO_ORIGIN);
      const options = await generateAuthenticationOptions({ rpID: new URL(caller.origin).hostname, userVerification: 'preferred' });
      await store.saveChallenge({ challenge: options.challenge, purpose: 'login', expiresAt: Date.now() + CHALLENGE_TTL_MS });
      return { ok: true, options: options as unknown as Record<string, unknown> };
    },

    async passkeyLogin(caller: PasskeyCaller, req: ParsedRequestOf<'passkeyLogin'>): Promise<Ack<OkInputOf<'passkeyLogin'>>> {
      const origin = caller.origin;
      if (!origin) return fail('bad_request', NO_ORIGIN);
      const response = req.response as unknown as AuthenticationResponseJSON;
      const refuse = () => {
        deps.signInFailed?.(caller);
        return fail('unauthorized', NOT_ACCEPTED);
      };
      const challenge = await takeChallenge(req.response, 'login');
      if (!challenge || typeof response.id !== 'string') return refuse();
      const key = await store.passkey(response.id);
      if (!key) return refuse();
      let verified;
      try {
        verified = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: origin,
          expectedRPID: new URL(origin).hostname,
          credential: { id: key.id, publicKey: key.publicKey as Uint8Array<ArrayBuffer>, counter: key.counter, transports: key.transports as AuthenticatorTransport[] | undefined },
          requireUserVerification: false,
        });
      } catch {
        return refuse();
      }
      if (!verified.verified) return refuse();
      const account = await store.account(key.userId);
      if (!account) return refuse();
      await store.usePasskey(key.id, verified.authenticationInfo.newCounter, Date.now());
      return { ok: true, ...(await sessions.open(account, { userAgent: caller.userAgent, address: caller.address }, true)) };
    },
  };
}
