import { useEffect, useState } from 'react';
import type * as Markdown from './markdown-text.tsx';

type MarkdownModule = typeof Markdown;

/**
 * The Markdown renderer (react-markdown, remark-gfm, micromark) is a third of
 * the app's script, so it is its own chunk, fetched as soon as this module
 * loads, in parallel with the first connection. Until it is there (a
 * fraction of a second, before the first join answers as a rule) a message
 * shows as plain text, which is also what any message without Markdown
 * looks like.
 */
let loaded: MarkdownModule | null = null;
const loading: Promise<MarkdownModule> = import('./markdown-text.tsx').then((m) => (loaded = m));

/** A message's text: Markdown once the renderer is loaded, plain text before. */
export function MessageText({ text }: { text: string }) {
  const [module, setModule] = useState<MarkdownModule | null>(loaded);
  useEffect(() => {
    if (module) return;
    let live = true;
    void loading.then((m) => live && setModule(m));
    return () => {
      live = false;
    };
  }, [module]);
  if (!module) return <p>{text}</p>;
  return <module.MarkdownText text={text} />;
}
