import { memo, useCallback, useEffect, useState } from 'react';
import type { ChatItem } from '../core/view-items.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { useChatSelector, useRoom } from '../hooks/use-room.ts';
import { Attachments } from './attachments.tsx';
import { MessageActions } from './message-actions.tsx';
import { MessageEditor } from './message-editor.tsx';
import { MessageText } from './message-text.tsx';
import { NameLabel, nameText } from './name-label.tsx';
import { Reactions } from './reactions.tsx';
import { describeModeration } from '../core/moderation-text.ts';
import type { ModNote } from '../../../shared/protocol.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function shortTime(ts: number): string {
  const d = new Date(ts);
  return d.toDateString() === new Date().toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
}

/**
 * One message. Its text is a safe Markdown subset rendered to React elements
 * (never HTML), its direction taken from its own first strong character
 * (`dir="auto"`), so a right-to-left message is laid out as its writer sees
 * it and cannot reorder anything outside it. The author is a `NameLabel`
 * (isolated, tagged when another person in view reads the same), "(you)"
 * goes by userId only, and the author stays in the accessible text even when
 * a run of messages shows it once. A deleted message stays as a tombstone;
 * an edited one says so. Its actions (reply, react, edit, delete) are in a
 * menu reachable by keyboard.
 */
export const MessageRow = memo(function MessageRow({ item, mention = false }: { item: ChatItem; mention?: boolean }) {
  if (item.system) return <SystemLine item={item} note={item.system} />;
  return <MessageBody item={item} mention={mention} />;
});

/** A line of the log saying what a moderator did: small, between the messages, never a message itself. */
function SystemLine({ item, note }: { item: ChatItem; note: ModNote }) {
  return (
    <div className="msg-system" data-seq={item.seq ?? undefined} role="note">
      <bdi>{item.author}</bdi> {describeModeration(note)}
      <time className="msg-time" dateTime={new Date(item.ts).toISOString()} title={fullFormat.format(item.ts)}>
        {' '}
        {shortTime(item.ts)}
      </time>
    </div>
  );
}

const MessageBody = memo(function MessageBody({ item, mention }: { item: ChatItem; mention: boolean }) {
  const room = useRoom();
  const seq = item.seq;
  const editing = useChatSelector(useCallback((s) => seq !== null && s.composing[room]?.editing === seq, [room, seq]));
  const [error, setError] = useState<string | null>(null);
  const classes = ['msg', item.own ? 'own' : 'other', item.groupStart ? 'group-start' : 'grouped'];
  if (item.delivery === 'failed') classes.push('failed');
  if (item.deleted) classes.push('deleted');
  // A message that mentions the reader is highlighted.
  if (mention) classes.push('mention');
  return (
    <div
      className={classes.join(' ')}
      data-seq={seq ?? undefined}
      data-client-id={item.clientId ?? undefined}
      data-mention={mention ? 'true' : undefined}
      tabIndex={-1}
    >
      {item.groupStart ? (
        <div className="msg-meta">
          <span className="msg-author">
            <NameLabel name={item.author} tag={item.tag} />
            {item.own && ' (you)'}
          </span>
          <time className="msg-time" dateTime={new Date(item.ts).toISOString()} title={fullFormat.format(item.ts)}>
            {shortTime(item.ts)}
          </time>
        </div>
      ) : (
        <span className="visually-hidden">
          <bdi>{nameText(item.author, item.tag)}</bdi>:{' '}
        </span>
      )}
      {item.reply && <ReplyQuote reply={item.reply} />}
      <div className="msg-line">
        <div className="msg-bubble">
          {editing && seq !== null ? (
            <MessageEditor room={room} seq={seq} text={item.text} />
          ) : item.deleted ? (
            <p className="msg-text msg-tombstone">{item.removedByModerator ? 'removed by a moderator' : 'message deleted'}</p>
          ) : (
            item.text !== '' && (
              <div className="msg-text" dir="auto">
                <MessageText text={item.text} />
              </div>
            )
          )}
          {!editing && item.attachments.length > 0 && <Attachments attachments={item.attachments} />}
          {item.editedAt !== null && !editing && (
            <span className="msg-edited" title={`Edited ${fullFormat.format(item.editedAt)}`}>
              edited
            </span>
          )}
          {item.delivery && <Delivery item={item} />}
        </div>
        {seq !== null && item.canRespond && <MessageActions item={item} seq={seq} onError={setError} />}
      </div>
      {seq !== null && item.reactions.length > 0 && <Reactions seq={seq} reactions={item.reactions} onError={setError} />}
      {error && (
        <p className="form-error msg-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
});

/** The original a reply answers: a snippet (or "deleted"); activating it brings the original into view. */
function ReplyQuote({ reply }: { reply: NonNullable<ChatItem['reply']> }) {
  const client = useChatClient();
  const room = useRoom();
  const [missing, setMissing] = useState(false);
  // A live reply names only its original's seq: read the original once if it is not held.
  useEffect(() => {
    if (reply.unknown) void client.actions.fetchOriginal(room, reply.seq);
  }, [client, room, reply.unknown, reply.seq]);
  const what = reply.unknown ? 'an earlier message' : reply.deleted ? 'a deleted message' : nameText(reply.author, reply.tag);
  const show = async () => setMissing(!(await client.actions.reveal(room, reply.seq)));
  return (
    <button type="button" className="msg-reply" onClick={() => void show()} aria-label={`Reply to ${what}${reply.text ? `: ${reply.text}` : ''}. Show the original.`}>
      <span aria-hidden="true" className="msg-reply-mark">
        ↩
      </span>
      {reply.unknown ? (
        <span className="msg-reply-text">an earlier message</span>
      ) : reply.deleted ? (
        <span className="msg-reply-text msg-tombstone">deleted</span>
      ) : (
        <>
          <bdi className="msg-reply-author">{nameText(reply.author, reply.tag)}</bdi>
          <span className="msg-reply-text" dir="auto">
            {reply.text}
          </span>
        </>
      )}
      {missing && <span className="msg-reply-missing"> (no longer in this room)</span>}
    </button>
  );
}

function Delivery({ item }: { item: ChatItem }) {
  const client = useChatClient();
  if (item.delivery === 'failed' && item.clientId) {
    const id = item.clientId;
    return (
      <div className="msg-failed">
        <span className="msg-state state-failed" aria-label="Failed to send">
          Not sent{item.error ? `: ${item.error}` : ''}
        </span>
        <button type="button" className="button small" onClick={() => client.retry(id)}>
          Retry
        </button>
        <button type="button" className="button ghost small" onClick={() => client.discard(id)}>
          Discard
        </button>
      </div>
    );
  }
  const sending = item.delivery === 'sending';
  return (
    <span className={`msg-state state-${item.delivery}`} aria-label={sending ? 'Sending' : 'Sent'} title={sending ? 'Sending' : 'Sent'}>
      {sending ? 'Sending…' : '✓'}
    </span>
  );
}
