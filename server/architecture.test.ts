import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of `server/`, checked on every run: the import drawing has no
 * circle, socket.io's world stays in its folder, and rules that have one
 * owner are not rebuilt elsewhere. Test files are left out (they may reach
 * anywhere to look).
 */
const ROOT = resolve(import.meta.dirname, '..');
const SERVER = join(ROOT, 'server');
const SOCKET_IO_FOLDER = 'server/edge/socketio/';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'test' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module a file names in an `import` or `export … from`, type-only ones included. */
function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) specs.push(m[1] as string);
  return specs;
}

const files = sources(SERVER).map((path) => ({ path, rel: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
const local = new Map<string, string[]>();
for (const f of files) {
  local.set(
    f.rel,
    importsOf(f.text)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(ROOT, resolve(dirname(f.path), s))),
  );
}

/** The strongly connected components with more than one module (or a module importing itself): Tarjan's algorithm. */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue; // outside server/ (shared/): no way back in
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('the shape of server/', () => {
  it('finds a circle when there is one (the check itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(circles(g)).toEqual([['a', 'b', 'c']]);
    expect(importsOf("import type { X } from './x.ts';\nexport { y } from \"../y.ts\";\nimport './side.ts';")).toEqual(['./x.ts', '../y.ts', './side.ts']);
  });

  it('has no import circle', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(circles(local)).toEqual([]);
  });

  it('names socket.io, engine.io and ws only inside the socket.io folder', () => {
    const outside = files
      .filter((f) => !f.rel.startsWith(SOCKET_IO_FOLDER))
      .filter((f) => importsOf(f.text).some((s) => /^(socket\.io|engine\.io|ws)(\/|$)/.test(s) || s.includes('/socketio/') && !/carrier\.ts$/.test(s)))
      .map((f) => f.rel);
    // The composition root wires the carrier in by its own interface (carrier.ts), and nothing else reaches in.
    expect(outside).toEqual([]);
    const reaching = files.filter((f) => !f.rel.startsWith(SOCKET_IO_FOLDER) && /\._socket\b|\bwriteBuffer\b/.test(f.text)).map((f) => f.rel);
    expect(reaching).toEqual([]);
  });

  it('derives a room\'s first epoch in one place', () => {
    const callers = files.filter((f) => /\bfirstEpoch\(/.test(f.text)).map((f) => f.rel);
    expect(callers).toEqual(['server/store/store.ts']);
  });
});
