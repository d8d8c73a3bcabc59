import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { nameTagger, usersInView } from '../core/name-tags.ts';
import { roomTitle, visibilityOf, type RoomInfo } from '../core/room-info.ts';
import { tabTitle } from '../core/room-label.ts';
import { emptyRoom } from '../core/room-log.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { RoomContext } from '../hooks/use-room.ts';
import { Composer } from './composer.tsx';
import { ConnectionStatus } from './connection-status.tsx';
import { MemberList } from './member-list.tsx';
import { MessageList } from './message-list.tsx';
import { NameLabel } from './name-label.tsx';
import { NewPrivateRoom } from './new-private-room.tsx';
import { RemovedNotice } from './removed-notice.tsx';
import { ReplyBar } from './reply-bar.tsx';
import { RoomMembers } from './room-members.tsx';
import { RoomSwitcher } from './room-switcher.tsx';
import { SearchBox } from './search-box.tsx';
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
  // Private rooms and direct messages are named by their title or the other person, never by their generated names:
  // from what the room said of itself (members, invitations), else from the room list.
  const info: RoomInfo | undefined =
    snap.roomInfo[room] ??
    (entry && { visibility: entry.visibility, ...(entry.title ? { title: entry.title } : {}), ...(entry.peer ? { peer: entry.peer } : {}) });
  const label = roomTitle(room, info);
  const visibility = info?.visibility ?? visibilityOf(room);
  // Known only once the server told (a members answer, an invitation, the list): until then the kind alone.
  const named = visibility === 'dm' ? info?.peer !== undefined : info?.title !== undefined;
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
          <h1 className="room-title" data-visibility={visibility}>
            {visibility === 'public' ? (
              <>
                <span aria-hidden="true" className="room-hash">
                  #
                </span>
                {room}
              </>
            ) : (
              <>
                <span className="room-kind">{visibility === 'dm' ? 'Direct message' : 'Private room'}</span>
                {named && (
                  <>
                    {visibility === 'dm' ? ' with ' : ' '}
                    <bdi>{label}</bdi>
                  </>
                )}
              </>
            )}
          </h1>
          <span className="member-count" aria-label={`${members.length} ${members.length === 1 ? 'member' : 'members'} online`}>
            {members.length} online
          </span>
        </div>
        <ConnectionStatus />
        <SearchBox />
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
            {session?.registered ? 'Sign out' : 'Change name'}
          </button>
        </div>
      </header>
      <RemovedNotice current={room} />
      {state?.status === 'error' && !state.loaded && state.error && (
        <p className="notice" role="alert">
          {state.error}
        </p>
      )}
      <div className="chat-body">
        <RoomContext value={room}>
          {/* data-last-seq: the resume point (every entry up to it seen), for tests that check the log stays gap-free. */}
          <main className="conversation" aria-label={`Conversation in ${label}`} data-last-seq={state?.lastSeq}>
            <MessageList room={room} />
            <TypingIndicator users={state?.typing ?? []} tagOf={tagOf} />
            <ReplyBar room={room} />
            <Composer room={room} label={label} />
          </main>
        </RoomContext>
        <aside id="side-panel" className={panelOpen ? 'side-panel open' : 'side-panel'} aria-label="Rooms and people">
          <RoomSwitcher current={room} />
          <NewPrivateRoom />
          <RoomMembers room={room} tagOf={tagOf} />
          <MemberList members={members} me={session?.userId ?? null} tagOf={tagOf} />
        </aside>
      </div>
      {settingsOpen && <SettingsDialog onClose={() => setSettingsOpen(false)} />}
    </div>
  );
}
