import { useEffect, useRef, useState } from 'react';
import type { ChatItem } from '../core/view-items.ts';
import { nameText } from './name-label.tsx';

/**
 * Reads out messages from others as they arrive. The virtual log itself is
 * not a live region: it adds rows whenever the reader scrolls, and a screen
 * reader would announce each page of old history.
 */
export function Announcer({ items }: { items: readonly ChatItem[] }) {
  const [text, setText] = useState('');
  const lastKey = useRef<string | null>(null);
  const last = items[items.length - 1];

  useEffect(() => {
    if (!last) return;
    const first = lastKey.current === null;
    if (last.key === lastKey.current) return;
    lastKey.current = last.key;
    // Not on first render (that is history), and not the reader's own messages.
    if (!first && !last.own) setText(`${nameText(last.author, last.tag)}: ${last.text}`);
  }, [last]);

  return (
    <div className="visually-hidden" aria-live="polite">
      {text}
    </div>
  );
}
