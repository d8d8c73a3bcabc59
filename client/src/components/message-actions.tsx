import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ChatItem } from '../core/view-items.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { useRoom } from '../hooks/use-room.ts';
import { nameText } from './name-label.tsx';
import { ReactionPicker } from './reactions.tsx';

type Action = 'reply' | 'react' | 'edit' | 'delete';
const LABELS: Record<Action, string> = { reply: 'Reply', react: 'React', edit: 'Edit', delete: 'Delete' };

/**
 * A message's actions behind one menu button ("Reply", "React", and for
 * those allowed, "Edit" and "Delete"), following the WAI-ARIA menu button
 * pattern: Enter, Space or ArrowDown opens it on its first item, the arrow
 * keys, Home and End move, Escape closes it and returns focus to the button.
 */
export function MessageActions({ item, seq, onError }: { item: ChatItem; seq: number; onError: (e: string | null) => void }) {
  const client = useChatClient();
  const room = useRoom();
  const [open, setOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const menuId = useId();
  const actions: Action[] = ['reply', 'react', ...(item.canEdit ? (['edit'] as const) : []), ...(item.canDelete ? (['delete'] as const) : [])];
  const who = nameText(item.author, item.tag);

  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const run = (action: Action) => {
    close(false);
    onError(null);
    switch (action) {
      case 'reply':
        client.actions.startReply(room, seq);
        document.getElementById('composer-text')?.focus();
        return;
      case 'react':
        return setPicking(true);
      case 'edit':
        client.actions.startEdit(room, seq);
        return;
      case 'delete':
        return setConfirming(true);
    }
  };
  const react = async (emoji: string) => {
    setPicking(false);
    button.current?.focus();
    const existing = item.reactions.find((r) => r.emoji === emoji);
    const res = await client.actions.react(room, seq, emoji, !existing?.mine);
    onError(res.ok ? null : res.message);
  };
  const onMenuKey = (e: KeyboardEvent<HTMLUListElement>) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => items[(to + items.length) % items.length]?.focus();
    if (e.key === 'ArrowDown') move(at + 1);
    else if (e.key === 'ArrowUp') move(at - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(items.length - 1);
    else if (e.key === 'Escape') close();
    else if (e.key === 'Tab') return close(false);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div className="msg-actions">
      <button
        ref={button}
        type="button"
        className="button ghost small msg-menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={`Actions for the message from ${who}`}
        title="Message actions"
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <ul
          ref={menu}
          id={menuId}
          role="menu"
          className="msg-menu"
          aria-label={`Actions for the message from ${who}`}
          onKeyDown={onMenuKey}
          onBlur={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null) && e.relatedTarget !== button.current) setOpen(false);
          }}
        >
          {actions.map((a) => (
            <li key={a} role="none">
              <button type="button" role="menuitem" tabIndex={-1} className={a === 'delete' ? 'menu-item danger' : 'menu-item'} onClick={() => run(a)}>
                {LABELS[a]}
              </button>
            </li>
          ))}
        </ul>
      )}
      {picking && (
        <ReactionPicker
          onPick={(emoji) => void react(emoji)}
          onClose={() => {
            setPicking(false);
            button.current?.focus();
          }}
        />
      )}
      {confirming && (
        <ConfirmDelete
          own={item.own}
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            const res = await client.actions.remove(room, seq);
            setConfirming(false);
            onError(res.ok ? null : res.message);
          }}
        />
      )}
    </div>
  );
}

/**
 * "Delete this message?" as a modal dialog: focus starts on "Cancel" (the
 * choice that loses nothing), Escape cancels, and focus returns to where it
 * was.
 */
function ConfirmDelete({ own, onCancel, onConfirm }: { own: boolean; onCancel: () => void; onConfirm: () => Promise<void> }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    cancelButton.current?.focus();
    return () => {
      if (el.open) el.close();
      if (before?.isConnected) before.focus();
      else document.getElementById('composer-text')?.focus();
    };
  }, []);

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="delete-title"
      aria-describedby="delete-note"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id="delete-title" className="dialog-title">
        Delete this message?
      </h2>
      <p id="delete-note">
        {own ? 'It is removed for everyone.' : "It is removed for everyone; as the room's owner you may delete anyone's message."} A note that a
        message was deleted stays in its place.
      </p>
      <div className="dialog-actions">
        <button ref={cancelButton} type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          aria-disabled={busy || undefined}
          onClick={() => {
            if (busy) return;
            setBusy(true);
            void onConfirm();
          }}
        >
          Delete
        </button>
      </div>
    </dialog>
  );
}
