import { memo } from 'react';
import type { ChatItem } from '../core/view-items.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { NameLabel, nameText } from './name-label.tsx';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function shortTime(ts: number): string {
  const d = new Date(ts);
  return d.toDateString() === new Date().toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
}

/**
 * One message. Text is rendered as a text node only (never as HTML), with
 * newlines kept by CSS and its direction taken from its own first strong
 * character (`dir="auto"`), so a right-to-left message is laid out as its
 * writer sees it and cannot reorder anything outside it. The author is a
 * `NameLabel` (isolated, tagged when another person in view reads the same),
 * "(you)" goes by userId only, and the author stays in the accessible text
 * even when a run of messages shows it once.
 */
export const MessageRow = memo(function MessageRow({ item, mention = false }: { item: ChatItem; mention?: boolean }) {
  const classes = ['msg', item.own ? 'own' : 'other', item.groupStart ? 'group-start' : 'grouped'];
  if (item.delivery === 'failed') classes.push('failed');
  // A message that mentions the reader is highlighted.
  if (mention) classes.push('mention');
  return (
    <div
      className={classes.join(' ')}
      data-seq={item.seq ?? undefined}
      data-client-id={item.clientId ?? undefined}
      data-mention={mention ? 'true' : undefined}
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
      <div className="msg-bubble">
        <p className="msg-text" dir="auto">
          {item.text}
        </p>
        {item.delivery && <Delivery item={item} />}
      </div>
    </div>
  );
});

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
