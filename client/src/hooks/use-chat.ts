/** React access to the chat core: the client from context, its snapshot through useSyncExternalStore. */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ChatClient, ChatSnapshot } from '../core/chat-client.ts';

export const ChatContext = createContext<ChatClient | null>(null);

export function useChatClient(): ChatClient {
  const client = useContext(ChatContext);
  if (!client) throw new Error('useChatClient needs a ChatContext provider');
  return client;
}

export function useChatSnapshot(): ChatSnapshot {
  const client = useChatClient();
  return useSyncExternalStore(client.subscribe, client.getSnapshot);
}
