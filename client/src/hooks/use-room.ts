/**
 * The open room, for components deep in the conversation (message rows,
 * their menus) that act on it, and a narrow view of the snapshot for
 * components that must not re-render on every change of it.
 */
import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { ChatSnapshot } from '../core/chat-client.ts';
import { useChatClient } from './use-chat.ts';

export const RoomContext = createContext<string | null>(null);

/** The room the surrounding conversation shows. */
export function useRoom(): string {
  const room = useContext(RoomContext);
  if (room === null) throw new Error('useRoom needs a RoomContext provider');
  return room;
}

/**
 * One value derived from the snapshot; the component re-renders only when it
 * changes (compared with Object.is), so pick a primitive or a stable object.
 */
export function useChatSelector<T>(select: (snap: ChatSnapshot) => T): T {
  const client = useChatClient();
  const get = useCallback(() => select(client.getSnapshot()), [client, select]);
  return useSyncExternalStore(client.subscribe, get);
}
