import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { nameTagger, usersInView } from '../core/name-tags.ts';
import { roomLabel, tabTitle } from '../core/room-label.ts';
import { emptyRoom } from '../core/room-log.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { Composer } from './composer.tsx';
import { ConnectionStatus } from './connection-status.tsx';
import { MemberList } from './member-list.tsx';
import { MessageList } from './message-list.tsx';
import { NameLabel } from './name-label.tsx';
import { RoomSwitcher } from './room-switcher.tsx';
import { SettingsDialog } from './settings-dialog.tsx';
import { TypingIndicator } from './typing-indicator.tsx';

function subscribeVisibility(listener: () => void): () => void {
  document.addEventListener('visibilitychange', listener);
  return () => document.removeEventListener('visibilitychange', listener);
}

/** Whether this tab is hidden (another tab in front, the window minimised). */
function useHidden(): boolean {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState === 'hidden');
}

/** The signed-in layout: header, conversation and composer, and a side panel with rooms and members. */
export function ChatScreen({ room }: { room: string }) {
  const client = useChatClient();
  const snap = useChatSnapshot();
  // The panel belongs to the room it was opened in, so it closes on navigation.
  const [panelRoom, setPanelRoom] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const panelToggle = useRef<HTMLButtonElement>(null);
  const panelOpen = panelRoom === room;
  const state = snap.rooms[room];
  const members = state?.members ?? [];
  const { session, myRooms } = snap;
  // One rule for every name in the room's view: the same people get the same tags everywhere.
  const tagOf = useMemo(() => nameTagger(usersInView(state ?? emptyRoom(room), session)), [state, session, room]);
  const entry = myRooms.rooms.find((r) => r.room === room);
  const label = roomLabel(room, entry);
  const hidden = useHidden();

  useEffect(() => {
    client.openRoom(room);
  }, [client, room]);

  // "(3) #lobby · Fiberchat" while there is news the reader is not looking at.
  useEffect(() => {
    let total = 0;
    let elsewhere = 0;
    for (const r of myRooms.rooms) {
      total += r.view.unread;
      if (r.room !== room) elsewhere += r.view.unread;
    }
    document.title = tabTitle({ label, total, elsewhere, hidden });
  }, [myRooms, room, label, hidden]);

  // Escape closes the drawer from anywhere (a list or dialog that handles Escape itself stops it first).
  useEffect(() => {
    if (!panelOpen) return;
    const onKey = (e: KeyboardEvent) => {
      // A modal dialog over the page takes its own Escape.
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]')) return;
      setPanelRoom(null);
      panelToggle.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [panelOpen]);

  return (
    <div className="chat">
      <header className="topbar">
        <div className="room-heading">
          <h1 className="room-title">
            {label.startsWith('#') ? (
              <>
                <span aria-hidden="true" className="room-hash">
                  #
                </span>
                {room}
              </>
            ) : (
              <bdi>{label}</bdi>
            )}
          </h1>
          <span className="member-count" aria-label={`${members.length} ${members.length === 1 ? 'member' : 'members'} online`}>
            {members.length} online
          </span>
        </div>
        <ConnectionStatus />
        <div className="topbar-actions">
          <button
            ref={panelToggle}
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
          <button type="button" className="button ghost" onClick={() => setSettingsOpen(true)}>
            Settings
          </button>
          <button type="button" className="button ghost" onClick={() => client.signOut()}>
            Change name
          </button>
        </div>
      </header>
      <div className="chat-body">
        <main className="conversation" aria-label={`Conversation in ${label}`}>
          <MessageList room={room} />
          <TypingIndicator users={state?.typing ?? []} tagOf={tagOf} />
          <Composer room={room} />
        </main>
        <aside id="side-panel" className={panelOpen ? 'side-panel open' : 'side-panel'} aria-label="Rooms and people">
          <RoomSwitcher current={room} />
          <MemberList members={members} me={session?.userId ?? null} tagOf={tagOf} />
        </aside>
      </div>
      {settingsOpen && <SettingsDialog onClose={() => setSettingsOpen(false)} />}
    </div>
  );
}
