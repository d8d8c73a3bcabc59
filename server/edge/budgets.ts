import type { Budget } from '../../shared/protocol.ts';
import type { Config } from '../config.ts';
import { RateLimiter } from '../rate-limit.ts';
import type { EdgeDeps } from './chat-edge.ts';

/** Transport reports per second per connection and identity, and the burst: one every 10 s, 5 at once. */
const REPORT_RATE = 0.1;
const REPORT_BURST = 5;
/** Sign-in requests one address may make at once (a person retyping, a password manager's retries). */
const LOGIN_BURST = 10;
/** Reports of messages one identity (and one address) may file at once. */
const REPORTS_BURST = 5;

/**
 * Every rate budget of the edge, from the settings: one limiter per budget of
 * the command table (its keys: the connection and the identity, the address
 * for sessions, identity and room for REST reads), plus the sends per address
 * and per room and the bytes that reads may answer.
 */
export function createBudgets(config: Config): Pick<EdgeDeps, 'limiters' | 'sendAddress' | 'sendRoom' | 'readBytes' | 'readAll'> {
  const limiters: Record<Budget, RateLimiter> = {
    session: new RateLimiter(config.sessionsPerMin / 60, config.sessionBurst),
    // Sign-in requests per address; failed ones are limited apart, per address and per account (server/accounts/).
    login: new RateLimiter(config.loginRatePerMin / 60, LOGIN_BURST),
    join: new RateLimiter(config.joinRate, config.joinBurst),
    send: new RateLimiter(config.sendRate, config.sendBurst),
    read: new RateLimiter(config.readRate, config.readBurst),
    // A typist renews every 2 s and a reader marks what it read; a ping is a probe: twice the rate is burst enough.
    signal: new RateLimiter(config.signalRate, config.signalRate * 2),
    ping: new RateLimiter(config.pingRate, config.pingRate * 2),
    manage: new RateLimiter(config.manageRate, config.manageRate * 5),
    search: new RateLimiter(config.searchRate, config.searchRate * 5),
    // A client changes transport a few times in a bad hour, not every second: more is noise or a forged count.
    report: new RateLimiter(REPORT_RATE, REPORT_BURST),
    // A moderator clearing a spam wave deletes and mutes quickly; a report of a message is rarer.
    moderate: new RateLimiter(config.moderateRate, config.moderateRate * 3),
    flag: new RateLimiter(config.reportsPerMin / 60, REPORTS_BURST),
  };
  return {
    limiters,
    sendAddress: new RateLimiter(config.sendAddressRate, config.sendAddressBurst),
    sendRoom: new RateLimiter(config.sendRoomRate, config.sendRoomBurst),
    readBytes: new RateLimiter(config.readBytesRate, config.readBytesBurst),
    // REST reads are limited per room (the poll floor) and, across all rooms, at four times that per identity and per address.
    readAll: new RateLimiter(4 * config.readRate, 4 * config.readBurst),
  };
}
