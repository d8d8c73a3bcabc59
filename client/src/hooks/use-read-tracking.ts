/**
 * Which messages have been on screen, for read positions: an
 * IntersectionObserver watches the rows of the virtual list (each carries
 * its seq in `data-read-seq`), and the highest seq at least half on screen
 * is reported while the tab is visible, and again when it becomes visible.
 * A row is observed only while the virtual list renders it, so the cost
 * stays with the rows in view.
 */
import { useCallback, useEffect, useRef } from 'react';

/** A row counts as seen when this much of it is on screen (or it fills half the screen). */
const SEEN_RATIO = 0.5;

export type ObserveRow = (el: HTMLElement | null) => (() => void) | undefined;

export function useReadTracking(onSeen: (seq: number) => void): ObserveRow {
  const onSeenRef = useRef(onSeen);
  const visible = useRef(new Set<number>());
  const observer = useRef<IntersectionObserver | null>(null);

  const report = useCallback(() => {
    if (document.visibilityState !== 'visible' || visible.current.size === 0) return;
    onSeenRef.current(Math.max(...visible.current));
  }, []);

  /** Made on first use (rows mount before effects run), dropped with the list. */
  const watcher = useCallback((): IntersectionObserver | null => {
    if (observer.current || typeof IntersectionObserver === 'undefined') return observer.current;
    observer.current = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const seq = Number((e.target as HTMLElement).dataset.readSeq);
          if (!Number.isFinite(seq)) continue;
          const screen = e.rootBounds?.height ?? window.innerHeight;
          const shown = e.isIntersecting && (e.intersectionRatio >= SEEN_RATIO || e.intersectionRect.height >= screen * SEEN_RATIO);
          if (shown) visible.current.add(seq);
          else visible.current.delete(seq);
        }
        report();
      },
      { threshold: [0, 0.25, 0.5, 0.75, 1] },
    );
    return observer.current;
  }, [report]);

  useEffect(() => {
    onSeenRef.current = onSeen;
  }, [onSeen]);

  useEffect(() => {
    document.addEventListener('visibilitychange', report);
    return () => {
      document.removeEventListener('visibilitychange', report);
      observer.current?.disconnect();
      observer.current = null;
    };
  }, [report]);

  return useCallback(
    (el: HTMLElement | null) => {
      const io = el ? watcher() : null;
      if (!el || !io) return undefined;
      io.observe(el);
      return () => {
        io.unobserve(el);
        const seq = Number(el.dataset.readSeq);
        if (Number.isFinite(seq)) visible.current.delete(seq);
      };
    },
    [watcher],
  );
}
