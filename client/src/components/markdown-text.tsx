import { memo, type ComponentProps } from 'react';
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { chatMarkdown, safeUrl } from '../core/chat-markdown.ts';

/** Elements the chat's Markdown subset may produce; anything else is reduced to its text. */
const ALLOWED = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a'];

/** A link opens in a new tab with no handle on this page, no referrer and no endorsement. */
function Link({ href, children }: ComponentProps<'a'>) {
  if (!href) return <>{children}</>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

const COMPONENTS: Components = { a: Link };
const REMARK = [remarkGfm, chatMarkdown];

/**
 * A message's text as a small, safe Markdown subset, rendered to React
 * elements (never an HTML string, so the page's Trusted Types policy has no
 * sink to guard): inline code, fenced code blocks, bold, italic,
 * strikethrough, block quotes, lists and links. Raw HTML is text, headings,
 * images and tables are not parsed, and only http, https and mailto URLs
 * become links (`safeUrl`).
 */
export const MarkdownText = memo(function MarkdownText({ text }: { text: string }) {
  return (
    <Markdown
      remarkPlugins={REMARK}
      skipHtml
      allowedElements={ALLOWED}
      unwrapDisallowed
      urlTransform={safeUrl}
      components={COMPONENTS}
    >
      {text}
    </Markdown>
  );
});
