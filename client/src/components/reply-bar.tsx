import { useCallback } from 'react';
import { indexOfSeq, snippet } from '../core/log-entries.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { useChatSelector } from '../hooks/use-room.ts';

/**
 * Above the composer while answering a message: who and what is answered,
 * and a button (or Escape in the composer) to stop answering.
 */
export function ReplyBar({ room }: { room: string }) {
  const client = useChatClient();
  const replyTo = useChatSelector(useCallback((s) => s.composing[room]?.replyTo ?? null, [room]));
  const original = useChatSelector(
    useCallback((s) => {
      const messages = s.rooms[room]?.messages ?? [];
      return replyTo === null ? undefined : messages[indexOfSeq(messages, replyTo)];
    }, [room, replyTo]),
  );
  if (replyTo === null) return null;
  const text = original?.deleted ? 'deleted' : snippet(original?.text ?? '');
  return (
    <div className="reply-bar" role="group" aria-label="Replying">
      <span aria-hidden="true" className="msg-reply-mark">
        ↩
      </span>
      <span className="reply-bar-text">
        Replying to <bdi className="msg-reply-author">{original?.author ?? 'a message'}</bdi>
        {text && (
          <>
            : <span dir="auto">{text}</span>
          </>
        )}
      </span>
      <button
        type="button"
        className="button ghost small"
        onClick={() => {
          client.actions.cancelReply(room);
          document.getElementById('composer-text')?.focus();
        }}
      >
        Cancel reply
      </button>
    </div>
  );
}
