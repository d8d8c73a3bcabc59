import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { safeUrl } from '../core/chat-markdown.ts';
import { MarkdownText } from './markdown-text.tsx';

const html = (text: string) => renderToStaticMarkup(createElement(MarkdownText, { text }));
const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a'];
const REL = 'target="_blank" rel="noopener noreferrer nofollow"';

describe('MarkdownText: the subset', () => {
  it.each<[string, string, string]>([
    ['bold, italic, strikethrough', '**b** *i* ~~s~~', '<p><strong>b</strong> <em>i</em> <del>s</del></p>'],
    ['inline code keeps markup as text', 'run `<script>`', '<p>run <code>&lt;script&gt;</code></p>'],
    ['a fenced block is code', '```\nlet a = 1;\n```', '<pre><code>let a = 1;\n</code></pre>'],
    ['block quote', '> quoted', '<blockquote>\n<p>quoted</p>\n</blockquote>'],
    ['lists', '- a\n- b', '<ul>\n<li>a</li>\n<li>b</li>\n</ul>'],
    ['a heading is text', '# not a heading', '<p># not a heading</p>'],
    ['a setext underline is text', 'title\n===', '<p>title\n===</p>'],
    ['a rule is text', '---', '<p>---</p>'],
    ['raw HTML is text', '<b>hi</b>', '<p>&lt;b&gt;hi&lt;/b&gt;</p>'],
    ['an image is not loaded', '![x](https://example.com/x.png)', `<p>!<a href="https://example.com/x.png" ${REL}>x</a></p>`],
    ['a table is text', '| a |\n|---|\n| b |', '<p>| a |\n|---|\n| b |</p>'],
    ['indented text is not code', '    four spaces', '<p>four spaces</p>'],
  ])('%s', (_name, text, expected) => {
    expect(html(text)).toBe(expected);
  });

  it.each<[string, string]>([
    ['https://example.com/a?b=1', `<p><a href="https://example.com/a?b=1" ${REL}>https://example.com/a?b=1</a></p>`],
    ['see www.example.com', `<p>see <a href="http://www.example.com/" ${REL}>www.example.com</a></p>`],
    ['[docs](https://example.com/docs)', `<p><a href="https://example.com/docs" ${REL}>docs</a></p>`],
    ['<mailto:a@example.com>', `<p><a href="mailto:a@example.com" ${REL}>mailto:a@example.com</a></p>`],
  ])('links: %s', (text, expected) => {
    expect(html(text)).toBe(expected);
  });
});

describe('MarkdownText: hostile input executes nothing and links nowhere unsafe', () => {
  it.each([
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x](  javascript:alert(1))',
    '[x](java&#x09;script:alert(1))',
    '[x](data:text/html,<script>alert(1)</script>)',
    '[x](vbscript:msgbox(1))',
    '<javascript:alert(1)>',
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '[x](https://example.com" onmouseover="alert(1))',
    '<https://example.com/"onmouseover="alert(1)>',
    '[x]: javascript:alert(1)\n\n[x]',
    '![x](javascript:alert(1))',
    '`<img src=x onerror=alert(1)>`',
  ])('%s', (text) => {
    // Escaped text cannot run; only real tags can, so every real tag and attribute is checked.
    for (const [, name, attrs] of html(text).matchAll(/<([a-z]+)([^>]*)>/g)) {
      expect(ALLOWED_TAGS).toContain(name);
      for (const [, attr, value] of (attrs ?? '').matchAll(/\s([a-z-]+)="([^"]*)"/g)) {
        expect(['href', 'target', 'rel']).toContain(attr);
        if (attr === 'href') expect(value).toMatch(/^(https?:\/\/|mailto:)/);
      }
    }
  });
});

describe('safeUrl', () => {
  it.each<[string, string | null]>([
    ['https://example.com', 'https://example.com/'],
    ['http://example.com/x', 'http://example.com/x'],
    ['mailto:a@example.com', 'mailto:a@example.com'],
    ['javascript:alert(1)', null],
    [' javascript:alert(1)', null],
    ['data:text/html,hi', null],
    ['/r/lobby', null],
    ['//evil.example', null],
    ['ftp://example.com', null],
  ])('%s → %s', (url, expected) => {
    expect(safeUrl(url)).toBe(expected);
  });
});
