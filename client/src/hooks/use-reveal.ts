import { useEffect, type RefObject } from 'react';
import type { VirtuosoHandle } from 'react-virtuoso';
import type { ChatItem } from '../core/view-items.ts';
import { useChatSnapshot } from './use-chat.ts';

/** How long a revealed message stays highlighted. */
const HIGHLIGHT_MS = 2000;
/** Scroll attempts while the list settles, this far apart. */
const MAX_TRIES = 20;
const RETRY_MS = 60;

/**
 * Scrolls the virtual log to a message the core asked to reveal (a reply's
 * original, once loaded), then moves focus to it and highlights it briefly,
 * so a keyboard or screen reader user lands where a sighted user looks.
 */
export function useReveal(room: string, items: readonly ChatItem[], virtuoso: RefObject<VirtuosoHandle | null>): void {
  const { reveal } = useChatSnapshot();
  const n = reveal?.room === room ? reveal.n : null;
  const seq = reveal?.seq;
  useEffect(() => {
    if (n === null || seq === undefined) return;
    const index = items.findIndex((i) => i.seq === seq);
    if (index < 0) return;
    let tries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Right after a page of history was prepended the list is still settling
    // its scroll position: scroll, then check the row is on screen, and again
    // until it is (a bounded number of times).
    const attempt = () => {
      const row = document.querySelector<HTMLElement>(`.log [data-seq="${seq}"]`);
      const frame = row?.closest('.log')?.getBoundingClientRect();
      const box = row?.getBoundingClientRect();
      const onScreen = row && frame && box && box.bottom > frame.top && box.top < frame.bottom;
      if (row && onScreen && tries > 0) {
        row.focus({ preventScroll: true });
        row.classList.add('revealed');
        hold(Date.now() + HIGHLIGHT_MS);
        return;
      }
      if (tries++ >= MAX_TRIES) return;
      virtuoso.current?.scrollToIndex({ index, align: 'center' });
      timer = setTimeout(attempt, RETRY_MS);
    };
    // While the list settles it may render the row afresh (a page loading below, a
    // measured height) or keep it hidden until measured (where focus() does
    // nothing), and opening the room focuses the composer: the row takes the
    // focus and highlight again, until the reader presses a key or points somewhere.
    let touched = false;
    const touch = () => void (touched = true);
    document.addEventListener('keydown', touch, true);
    document.addEventListener('pointerdown', touch, true);
    const hold = (until: number) => {
      const row = document.querySelector<HTMLElement>(`.log [data-seq="${seq}"]`);
      if (row && !touched && row !== document.activeElement) row.focus({ preventScroll: true });
      if (Date.now() >= until) {
        row?.classList.remove('revealed');
        return;
      }
      row?.classList.add('revealed');
      timer = setTimeout(() => hold(until), RETRY_MS);
    };
    attempt();
    return () => {
      clearTimeout(timer);
      document.removeEventListener('keydown', touch, true);
      document.removeEventListener('pointerdown', touch, true);
    };
    // Only a new request (n) scrolls: items change all the time.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [n]);
}
