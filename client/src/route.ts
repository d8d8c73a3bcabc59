/**
 * Rooms in the address bar: `/` is the lobby, `/r/<room>` any other room,
 * `/invite/<token>` an invite link to a private room. Navigation uses the
 * History API so switching rooms never reloads the page.
 */
import { useSyncExternalStore } from 'react';
import { ROOM_PATTERN } from '../../shared/protocol.ts';

export const LOBBY = 'lobby';

export type Route = { room: string } | { invalid: string } | { invite: string };

/** Invite tokens are URL-safe base64. */
const INVITE_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { room: LOBBY };
  const invite = /^\/invite\/([^/]+)\/?$/.exec(pathname);
  if (invite?.[1] !== undefined) return INVITE_TOKEN.test(invite[1]) ? { invite: invite[1] } : { invalid: pathname };
  const match = /^\/r\/([^/]+)\/?$/.exec(pathname);
  if (!match?.[1]) return { invalid: pathname };
  let name: string;
  try {
    name = decodeURIComponent(match[1]).toLowerCase();
  } catch {
    return { invalid: pathname };
  }
  return ROOM_PATTERN.test(name) ? { room: name } : { invalid: name };
}

export function roomPath(room: string): string {
  return room === LOBBY ? '/' : `/r/${encodeURIComponent(room)}`;
}

/** The address of an invite link. */
export function invitePath(token: string): string {
  return `/invite/${encodeURIComponent(token)}`;
}

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/** Goes to a room's address, keeping the query string (`?transport=` survives). */
export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path + window.location.search);
  for (const l of [...listeners]) l();
}

/** Like `navigate`, but replacing the current history entry (an invite link is not a place to go back to). */
export function replacePath(path: string): void {
  window.history.replaceState(null, '', path + window.location.search);
  for (const l of [...listeners]) l();
}

/**
 * Drops a query parameter from the address without a reload or a history
 * entry (`?name=` once it has been acted on, so a reload or a copied link
 * does not carry it).
 */
export function removeQueryParam(name: string): void {
  const params = new URLSearchParams(window.location.search);
  if (!params.has(name)) return;
  params.delete(name);
  const query = params.toString();
  window.history.replaceState(window.history.state, '', window.location.pathname + (query ? `?${query}` : '') + window.location.hash);
}

/** The current path, re-rendering on navigation. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}
