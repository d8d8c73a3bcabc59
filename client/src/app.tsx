import { AcceptInvite } from './components/accept-invite.tsx';
import { ChatScreen } from './components/chat-screen.tsx';
import { InvalidRoom } from './components/invalid-room.tsx';
import { SwitchIdentityDialog } from './components/switch-identity-dialog.tsx';
import { Welcome } from './components/welcome.tsx';
import { useChatSnapshot } from './hooks/use-chat.ts';
import { parseRoute, usePathname } from './route.ts';

/**
 * Signed out: the welcome screen (guest, sign in, create an account). Signed in: the room named by the address,
 * and over it the question a `?name=` link asks before switching identity.
 */
export function App() {
  const { session, pendingSwitch } = useChatSnapshot();
  const route = parseRoute(usePathname());
  if (!session) return <Welcome />;
  return (
    <>
      {'invalid' in route ? (
        <InvalidRoom name={route.invalid} />
      ) : 'invite' in route ? (
        <AcceptInvite token={route.invite} />
      ) : (
        <ChatScreen room={route.room} />
      )}
      {pendingSwitch && <SwitchIdentityDialog current={session.name} wanted={pendingSwitch.name} />}
    </>
  );
}
