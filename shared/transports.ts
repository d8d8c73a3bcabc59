/**
 * The carriers, best first: the one list every part names them by (the
 * client's ladder, reports, /metrics labels, the operations page). A
 * fallback goes down this list, an upgrade up.
 *
 * - `websocket`: socket.io over WebSocket.
 * - `long-polling`: socket.io over HTTP long-polling (engine.io's `polling`).
 * - `sse`: Server-Sent Events for what the server sends, REST for commands
 *   (since 2.2); passes proxies that refuse WebSocket upgrades, holds no
 *   request per delivery and needs no sticky session.
 * - `ajax`: short REST polls, for paths where even a held response breaks.
 */
export const TRANSPORTS = ['websocket', 'long-polling', 'sse', 'ajax'] as const;
export type Carrier = (typeof TRANSPORTS)[number];

/** How each carrier is named to people (the status line, the operations page). */
export const TRANSPORT_LABELS: Readonly<Record<Carrier, string>> = {
  websocket: 'WebSocket',
  'long-polling': 'Long-polling',
  sse: 'Server-Sent Events',
  ajax: 'Ajax polling',
};

/** A carrier's place in the list (0 is the best). */
export function transportRank(t: Carrier): number {
  return TRANSPORTS.indexOf(t);
}
