import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { emptyRoom, hasOlder } from '../core/room-log.ts';
import { buildItems, firstItemIndex, type ChatItem } from '../core/view-items.ts';
import { firstUnreadSeq, mentionSeqs } from '../core/view-marks.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { useReadTracking, type ObserveRow } from '../hooks/use-read-tracking.ts';
import { useReveal } from '../hooks/use-reveal.ts';
import { Announcer } from './announcer.tsx';
import { MessageRow } from './message-row.tsx';

/**
 * The conversation log, virtualised so a long history stays fast. It opens
 * at the first unread message under a "New" divider, or at the bottom when
 * nothing is unread; older pages load when the reader reaches the top; new
 * messages follow the bottom only while the reader is there, otherwise a
 * "N new messages" button appears. The reader's own new message always
 * scrolls into view. Rows on screen in a visible tab are marked read. A
 * stretch opened far back (a search result) loads newer pages as the reader
 * scrolls down until it joins the live conversation, with "Jump to present"
 * to go there at once.
 */
export function MessageList({ room }: { room: string }) {
  const { rooms, outbox, session, arrival, myRooms, roomInfo, reveal } = useChatSnapshot();
  const state = rooms[room] ?? emptyRoom(room);
  const info = roomInfo[room];
  const items = useMemo(() => buildItems(state, outbox, session, info), [state, outbox, session, info]);
  const me = session?.userId ?? null;
  const mentioned = useMemo(() => mentionSeqs(state.messages, me), [state.messages, me]);
  const here = arrival?.room === room ? arrival : null;
  const dividerSeq = useMemo(() => firstUnreadSeq(items, here?.lastRead ?? null), [items, here?.lastRead]);
  const unread = myRooms.rooms.find((r) => r.room === room)?.view.unread ?? 0;

  const announcer = <Announcer key={room} items={items} />;

  // Until this visit's first join answers, the view does not know where the
  // news starts: placing it at the old bottom would hide what arrived since.
  const settling = state.loaded && here !== null && !here.settled;
  // Until the first join answers, only unsent messages exist: a plain list, since the
  // virtual list's indexes are anchored to server seqs.
  if (!state.loaded || items.length === 0 || settling) {
    return (
      <>
        {announcer}
        <div role="log" aria-label="Messages" aria-live="off" className="log log-static" tabIndex={0}>
          <p className="empty-state">{state.loaded && !settling ? 'No messages yet. Say hello!' : 'Loading messages…'}</p>
          {!settling && items.map((item) => <MessageRow key={item.key} item={item} />)}
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
        atStart={!hasOlder(state)}
        detached={state.detached !== null}
        loadingNewer={state.detached?.newerState === 'loading'}
        revealSeq={reveal?.room === room ? reveal.seq : null}
        dividerSeq={dividerSeq}
        mentioned={mentioned}
        unread={unread}
      />
    </>
  );
}

interface LogContext {
  loadingOlder: boolean;
  atStart: boolean;
  detached: boolean;
  loadingNewer: boolean;
  dividerSeq: number | null;
  mentioned: ReadonlySet<number>;
  observe: ObserveRow;
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

/** One row of the log: the message, the "New" divider above it if the news starts here, and the read watch. */
function LogRow({ item, context }: { item: ChatItem; context: LogContext }) {
  const seq = item.seq;
  return (
    <div className="log-item" data-read-seq={seq ?? undefined} ref={seq === null ? undefined : context.observe}>
      {seq !== null && seq === context.dividerSeq && (
        <div className="new-divider" role="separator" aria-label="New messages">
          <span aria-hidden="true">New</span>
        </div>
      )}
      <MessageRow item={item} mention={seq !== null && context.mentioned.has(seq)} />
    </div>
  );
}

/** Below the last row of a stretch opened far back: newer pages on their way. */
function LogFooter({ context }: { context: LogContext }) {
  if (!context.detached) return null;
  return <div className="log-header">{context.loadingNewer ? 'Loading newer messages…' : ''}</div>;
}

const COMPONENTS = { Header: LogHeader, Footer: LogFooter };
const itemKey = (_: number, item: ChatItem) => item.key;
const itemContent = (_: number, item: ChatItem, context: LogContext) => <LogRow item={item} context={context} />;

interface VirtualLogProps {
  room: string;
  items: ChatItem[];
  firstIndex: number;
  loadingOlder: boolean;
  atStart: boolean;
  /** The list is a stretch further back than the live tail (opened around a search result). */
  detached: boolean;
  loadingNewer: boolean;
  /** The message the list was asked to bring into view: where a stretch far back opens. */
  revealSeq: number | null;
  dividerSeq: number | null;
  mentioned: ReadonlySet<number>;
  /** Messages by others not yet seen in this room (the "N new messages" button). */
  unread: number;
}

// Every callback handed to Virtuoso is stable: a changed prop makes it re-run its
// follow-the-bottom logic, which can pull a reader who just scrolled up back down.
function VirtualLog(props: VirtualLogProps) {
  const { room, items, firstIndex, loadingOlder, atStart, detached, loadingNewer, revealSeq, dividerSeq, mentioned, unread } = props;
  const client = useChatClient();
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  // Virtuoso reports "left the bottom" a little after the scroll; followOutput knows at once.
  const bottomRef = useRef(true);
  /** The reader's own message was just added: follow it down until the list is at the bottom. */
  const stickRef = useRef(false);
  const last = items[items.length - 1];
  const lastKey = useRef(last?.key);

  const toBottom = useCallback(() => virtuoso.current?.scrollToIndex({ index: 'LAST', align: 'end' }), []);

  // The reader's own new message always comes into view, wherever they had scrolled to.
  useLayoutEffect(() => {
    const added = last !== undefined && last.key !== lastKey.current;
    lastKey.current = last?.key;
    if (!added || !last.own || last.delivery !== 'sending') return;
    stickRef.current = true;
    toBottom();
    // Row heights are measured after they render: go again once they are.
    const frame = requestAnimationFrame(() => toBottom());
    return () => cancelAnimationFrame(frame);
  }, [last, toBottom]);

  // Give up following once the list is there, or after a moment (the reader may scroll away).
  useEffect(() => {
    if (!stickRef.current) return;
    const timer = setTimeout(() => (stickRef.current = false), 1000);
    return () => clearTimeout(timer);
  }, [last?.key]);

  // A stretch far back grows at its bottom as newer pages load: following them would load the next at once.
  const detachedRef = useRef(detached);
  useLayoutEffect(() => {
    detachedRef.current = detached;
  }, [detached]);
  const followOutput = useCallback((bottom: boolean) => {
    bottomRef.current = bottom;
    if (detachedRef.current) return false;
    return bottom || stickRef.current ? ('auto' as const) : false;
  }, []);
  const onBottomChange = useCallback((bottom: boolean) => {
    bottomRef.current = bottom;
    setAtBottom(bottom);
    if (bottom) stickRef.current = false;
  }, []);
  const onStartReached = useCallback(() => void client.loadOlder(room), [client, room]);
  const onEndReached = useCallback(() => {
    if (detachedRef.current) void client.loadNewer(room);
  }, [client, room]);
  const toPresent = useCallback(() => client.backToLive(room), [client, room]);
  const onSeen = useCallback((seq: number) => client.markRead(room, seq), [client, room]);
  const observe = useReadTracking(onSeen);
  const context = useMemo(
    () => ({ loadingOlder, atStart, detached, loadingNewer, dividerSeq, mentioned, observe }),
    [loadingOlder, atStart, detached, loadingNewer, dividerSeq, mentioned, observe],
  );
  useReveal(room, items, virtuoso);
  // Opens at the message asked for, else the first unread one, else at the bottom. Only the first value counts.
  const [initialIndex] = useState(() => {
    const wanted = !detached || revealSeq === null ? -1 : items.findIndex((i) => i.seq === revealSeq);
    if (wanted >= 0) return { index: wanted, align: 'center' as const };
    const at = dividerSeq === null ? -1 : items.findIndex((i) => i.seq === dividerSeq);
    return at >= 0 ? { index: at, align: 'start' as const } : { index: items.length - 1, align: 'end' as const };
  });

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
        endReached={onEndReached}
        increaseViewportBy={{ top: 600, bottom: 200 }}
        components={COMPONENTS}
      />
      {detached && (
        <button type="button" className="button primary jump" onClick={toPresent}>
          Jump to present ↓
        </button>
      )}
      {!detached && !atBottom && unread > 0 && (
        <button type="button" className="button primary jump" onClick={toBottom}>
          {unread} new {unread === 1 ? 'message' : 'messages'} ↓
        </button>
      )}
    </div>
  );
}
