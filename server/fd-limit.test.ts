import { describe, expect, it } from 'vitest';
import { DEFAULT_CONNECTION_CAPS } from './edge/connection-caps.ts';
import { fdLimitWarning, openFileLimit, parseOpenFileLimit } from './fd-limit.ts';

/** /proc/self/limits as Linux writes it, with the open-files line given. */
const limits = (openFiles: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max processes             63427                63427                processes
${openFiles}
Max locked memory         8388608              8388608              bytes
`;

describe('parseOpenFileLimit', () => {
  it.each<[string, string, number | undefined]>([
    ['a number', 'Max open files            1024                 524288               files     ', 1024],
    ['soft below hard', 'Max open files            4096                 1048576              files     ', 4096],
    ['unlimited', 'Max open files            unlimited            unlimited            files     ', Number.POSITIVE_INFINITY],
    ['garbage', 'Max open files            lots                 lots                 files     ', undefined],
    ['missing line', 'Max msgqueue size         819200               819200               bytes     ', undefined],
  ])('%s', (_label, line, expected) => {
    expect(parseOpenFileLimit(limits(line))).toBe(expected);
  });

  it('reads nothing from an empty file', () => {
    expect(parseOpenFileLimit('')).toBeUndefined();
  });
});

describe('openFileLimit', () => {
  it('is undefined off Linux, without reading anything', () => {
    expect(openFileLimit(() => { throw new Error('read'); }, 'darwin')).toBeUndefined();
  });

  it('is undefined when the file cannot be read', () => {
    expect(openFileLimit(() => { throw new Error('ENOENT'); }, 'linux')).toBeUndefined();
  });

  it('parses what it reads', () => {
    expect(openFileLimit(() => limits('Max open files            20000                20000                files     '), 'linux')).toBe(20000);
  });

  it.runIf(process.platform === 'linux')('reads this process on Linux', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('fdLimitWarning', () => {
  it.each<[string, number | undefined, RegExp | undefined]>([
    ['unknown limit: nothing to judge', undefined, undefined],
    ['unlimited', Number.POSITIVE_INFINITY, undefined],
    ['1024: fewer than 16 addresses at the cap fill it', 1024, /3 client addresses at their cap \(256\)/],
    ['300: one address fills it', 300, /one client address at its cap \(256\) would take them all/],
    ['40: not even the reserve', 40, /leaves 0 connections/],
    ['just below 16 addresses', 64 + 16 * 256 - 1, /15 client addresses/],
    ['16 addresses at the cap fit', 64 + 16 * 256, undefined],
    ['a modern default', 1_048_576, undefined],
  ])('%s', (_label, limit, expected) => {
    const warning = fdLimitWarning(limit, DEFAULT_CONNECTION_CAPS);
    if (expected === undefined) expect(warning).toBeUndefined();
    else expect(warning).toMatch(expected);
  });

  it('says how to raise it', () => {
    expect(fdLimitWarning(1024, DEFAULT_CONNECTION_CAPS)).toMatch(/LimitNOFILE/);
  });
});
