import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Emoji } from '../../../shared/protocol.ts';
import type { ReactionView } from '../core/view-items.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { useRoom } from '../hooks/use-room.ts';

/** The picker's quick choices. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '👀', '🙏'];

/**
 * A message's reactions: one toggle per emoji, pressed when the reader
 * reacted. The count is visible; who reacted is in the tooltip and in the
 * accessible name ("👍 2: alice, bob; you reacted").
 */
export function Reactions({ seq, reactions, onError }: { seq: number; reactions: readonly ReactionView[]; onError: (e: string | null) => void }) {
  const client = useChatClient();
  const room = useRoom();
  const toggle = async (r: ReactionView) => {
    const res = await client.actions.react(room, seq, r.emoji, !r.mine);
    onError(res.ok ? null : res.message);
  };
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {reactions.map((r) => (
        <button
          key={r.emoji}
          type="button"
          className={r.mine ? 'reaction mine' : 'reaction'}
          aria-pressed={r.mine}
          aria-label={r.label}
          title={r.label}
          onClick={() => void toggle(r)}
        >
          <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.count}</span>
        </button>
      ))}
    </div>
  );
}

/**
 * Picks an emoji: a few common ones, or any single emoji typed (checked by
 * the protocol's own rule). Escape closes it.
 */
export function ReactionPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLButtonElement>(null);
  const inputId = useId();

  useEffect(() => first.current?.focus(), []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = Emoji.safeParse(typed.trim());
    if (!r.success) return setError('Type a single emoji.');
    onPick(r.data);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  };

  return (
    <div className="reaction-picker" role="group" aria-label="Add a reaction" onKeyDown={onKeyDown}>
      <div className="reaction-choices">
        {COMMON_EMOJI.map((emoji, i) => (
          <button key={emoji} ref={i === 0 ? first : undefined} type="button" className="reaction-choice" aria-label={`React with ${emoji}`} onClick={() => onPick(emoji)}>
            {emoji}
          </button>
        ))}
      </div>
      <form className="reaction-other" onSubmit={submit}>
        <label className="visually-hidden" htmlFor={inputId}>
          Another emoji
        </label>
        <input
          id={inputId}
          className="text-input reaction-input"
          placeholder="Other emoji"
          value={typed}
          maxLength={64}
          onChange={(e) => {
            setTyped(e.target.value);
            setError(null);
          }}
          aria-invalid={error ? true : undefined}
        />
        <button type="submit" className="button small">
          Add
        </button>
        <button type="button" className="button small ghost" onClick={onClose}>
          Close
        </button>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
