import { ChatScreen } from './components/chat-screen.tsx';
import { InvalidRoom } from './components/invalid-room.tsx';
import { NicknameForm } from './components/nickname-form.tsx';
import { useChatSnapshot } from './hooks/use-chat.ts';
import { parseRoute, usePathname } from './route.ts';

/** Signed out: the nickname form. Signed in: the room named by the address. */
export function App() {
  const { session } = useChatSnapshot();
  const route = parseRoute(usePathname());
  if (!session) return <NicknameForm />;
  if ('invalid' in route) return <InvalidRoom name={route.invalid} />;
  return <ChatScreen room={route.room} />;
}
