/**
 * The Fiberchat wire protocol, defined once for the server, the browser
 * client and bots: limits, schemas, the command table and the event table.
 * Documented in docs/PROTOCOL.md, whose version is `PROTOCOL_VERSION`.
 */
export * from './limits.ts';
export * from './schemas.ts';
export * from './commands.ts';
export * from './events.ts';
export * from './accounts.ts';
export * from './stream.ts';
export * from './moderation.ts';
export { UploadOk } from './payloads.ts';

/** Bumped on any change: the minor for additions, the major for anything that breaks a client. */
export const PROTOCOL_VERSION = '2.7';
