import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { emptyRoom } from '../core/room-log.ts';
import { buildItems, firstItemIndex, type ChatItem } from '../core/view-items.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { Announcer } from './announcer.tsx';
import { MessageRow } from './message-row.tsx';

/**
 * The conversation log, virtualised so a long history stays fast. Older pages
 * load when the reader reaches the top; new messages follow the bottom only
 * while the reader is there, otherwise a "New messages" button appears.
 */
export function MessageList({ room }: { room: string }) {
  const { rooms, outbox, session } = useChatSnapshot();
  const state = rooms[room] ?? emptyRoom(room);
  const items = useMemo(() => buildItems(state, outbox, session), [state, outbox, session]);

  const announcer = <Announcer key={room} items={items} />;

  // Until the first join answers, only unsent messages exist: a plain list, since the
  // virtual list's indexes are anchored to server seqs.
  if (!state.loaded || items.length === 0) {
    return (
      <>
        {announcer}
        <div role="log" aria-label="Messages" aria-live="off" className="log log-static" tabIndex={0}>
          <p className="empty-state">{state.loaded ? 'No messages yet. Say hello!' : 'Loading messages…'}</p>
          {items.map((item) => (
            <MessageRow key={item.key} item={item} />
          ))}
        </div>
      </>
    );
  }
  return (
    <>
      {announcer}
      <VirtualLog
        key={`${room}:${state.generation}`}
        room={room}
        items={items}
        firstIndex={firstItemIndex(state)}
        loadingOlder={state.olderState === 'loading'}
        atStart={state.olderState === 'done' || (state.messages[0]?.seq ?? 1) <= 1}
      />
    </>
  );
}

interface LogContext {
  loadingOlder: boolean;
  atStart: boolean;
}

/** Above the first row: scrollback progress, or the start of the room. */
function LogHeader({ context }: { context: LogContext }) {
  return (
    <div className="log-header">
      {context.loadingOlder
        ? 'Loading older messages…'
        : context.atStart
          ? 'This is the beginning of the conversation.'
          : ''}
    </div>
  );
}

const COMPONENTS = { Header: LogHeader };
const itemKey = (_: number, item: ChatItem) => item.key;
const itemContent = (_: number, item: ChatItem) => <MessageRow item={item} />;

interface VirtualLogProps {
  room: string;
  items: ChatItem[];
  firstIndex: number;
  loadingOlder: boolean;
  atStart: boolean;
}

// Every callback handed to Virtuoso is stable: a changed prop makes it re-run its
// follow-the-bottom logic, which can pull a reader who just scrolled up back down.
function VirtualLog({ room, items, firstIndex, loadingOlder, atStart }: VirtualLogProps) {
  const client = useChatClient();
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [unseen, setUnseen] = useState(false);
  const lastKey = items[items.length - 1]?.key;
  const ownPending = items.filter((i) => i.own && i.delivery === 'sending').length;
  const prevOwnPending = useRef(ownPending);
  // Virtuoso reports "left the bottom" a little after the scroll; followOutput
  // knows at once. Both feed this ref so a message arriving right after the
  // reader scrolled up still counts as unseen.
  const bottomRef = useRef(true);

  // Something new arrived at the bottom while the reader was scrolled up.
  useEffect(() => {
    if (!bottomRef.current && lastKey !== undefined) setUnseen(true);
  }, [lastKey]);

  // The reader's own new message always brings the view to the bottom.
  useEffect(() => {
    if (ownPending > prevOwnPending.current) virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' });
    prevOwnPending.current = ownPending;
  }, [ownPending]);

  const followOutput = useCallback((bottom: boolean) => {
    bottomRef.current = bottom;
    return bottom ? ('auto' as const) : false;
  }, []);
  const onBottomChange = useCallback((bottom: boolean) => {
    bottomRef.current = bottom;
    setAtBottom(bottom);
    if (bottom) setUnseen(false);
  }, []);
  const onStartReached = useCallback(() => void client.loadOlder(room), [client, room]);
  const jump = useCallback(() => {
    virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end', behavior: 'smooth' });
  }, []);
  const context = useMemo(() => ({ loadingOlder, atStart }), [loadingOlder, atStart]);
  const [initialIndex] = useState(() => ({ index: items.length - 1, align: 'end' as const }));

  return (
    <div className="log-frame">
      <Virtuoso
        ref={virtuoso}
        role="log"
        aria-label="Messages"
        aria-live="off"
        aria-busy={loadingOlder || undefined}
        className="log"
        data={items}
        context={context}
        firstItemIndex={firstIndex}
        initialTopMostItemIndex={initialIndex}
        computeItemKey={itemKey}
        itemContent={itemContent}
        followOutput={followOutput}
        atBottomStateChange={onBottomChange}
        atBottomThreshold={48}
        startReached={onStartReached}
        increaseViewportBy={{ top: 600, bottom: 200 }}
        components={COMPONENTS}
      />
      {unseen && !atBottom && (
        <button type="button" className="button primary jump" onClick={jump}>
          New messages ↓
        </button>
      )}
    </div>
  );
}
