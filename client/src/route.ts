/**
 * Rooms in the address bar: `/` is the lobby, `/r/<room>` any other room.
 * Navigation uses the History API so switching rooms never reloads the page.
 */
import { useSyncExternalStore } from 'react';
import { ROOM_PATTERN } from '../../shared/protocol.ts';

export const LOBBY = 'lobby';

export type Route = { room: string } | { invalid: string };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { room: LOBBY };
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
