import { useEffect, useMemo, useState } from 'react';
import { nameTagger, usersInView } from '../core/name-tags.ts';
import { emptyRoom } from '../core/room-log.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { Composer } from './composer.tsx';
import { ConnectionStatus } from './connection-status.tsx';
import { MemberList } from './member-list.tsx';
import { MessageList } from './message-list.tsx';
import { NameLabel } from './name-label.tsx';
import { RoomSwitcher } from './room-switcher.tsx';
import { TypingIndicator } from './typing-indicator.tsx';

/** The signed-in layout: header, conversation and composer, and a side panel with rooms and members. */
export function ChatScreen({ room }: { room: string }) {
  const client = useChatClient();
  const snap = useChatSnapshot();
  // The panel belongs to the room it was opened in, so it closes on navigation.
  const [panelRoom, setPanelRoom] = useState<string | null>(null);
  const panelOpen = panelRoom === room;
  const state = snap.rooms[room];
  const members = state?.members ?? [];
  const { session } = snap;
  // One rule for every name in the room's view: the same people get the same tags everywhere.
  const tagOf = useMemo(() => nameTagger(usersInView(state ?? emptyRoom(room), session)), [state, session, room]);

  useEffect(() => {
    client.openRoom(room);
    document.title = `#${room} · Fiberchat`;
  }, [client, room]);

  return (
    <div className="chat">
      <header className="topbar">
        <div className="room-heading">
          <h1 className="room-title">
            <span aria-hidden="true" className="room-hash">
              #
            </span>
            {room}
          </h1>
          <span className="member-count" aria-label={`${members.length} ${members.length === 1 ? 'member' : 'members'} online`}>
            {members.length} online
          </span>
        </div>
        <ConnectionStatus />
        <div className="topbar-actions">
          <button
            type="button"
            className="button ghost panel-toggle"
            aria-expanded={panelOpen}
            aria-controls="side-panel"
            onClick={() => setPanelRoom(panelOpen ? null : room)}
          >
            Rooms &amp; people
          </button>
          {session && (
            <span className="me" title="Your nickname">
              <NameLabel name={session.name} tag={tagOf(session)} />
            </span>
          )}
          <button type="button" className="button ghost" onClick={() => client.signOut()}>
            Change name
          </button>
        </div>
      </header>
      <div className="chat-body">
        <main className="conversation" aria-label={`Conversation in ${room}`}>
          <MessageList room={room} />
          <TypingIndicator users={state?.typing ?? []} tagOf={tagOf} />
          <Composer room={room} />
        </main>
        <aside
          id="side-panel"
          className={panelOpen ? 'side-panel open' : 'side-panel'}
          aria-label="Rooms and people"
          onKeyDown={(e) => {
            if (e.key === 'Escape' && panelOpen) setPanelRoom(null);
          }}
        >
          <RoomSwitcher current={room} />
          <MemberList members={members} me={session?.userId ?? null} tagOf={tagOf} />
        </aside>
      </div>
    </div>
  );
}
