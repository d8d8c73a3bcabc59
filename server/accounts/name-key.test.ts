import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkName } from '../../shared/text-rules.ts';
import { nameKey } from './name-key.ts';

describe('nameKey', () => {
  it.each([
    ['alice', 'Alice'],
    ['alice', 'ALICE'],
    ['alice', 'ＡＬＩＣＥ'],
    ['alice', '\u0430lice'], // Cyrillic а
    ['alice', '\u0410LICE'], // Cyrillic А
    ['paypal', 'p\u0430yp\u0430l'],
    ['omar', '\u03bfmar'], // Greek ο
    ['zoe', 'Zoë'],
    ['ii', 'ⅱ'],
  ])('%s and %s are one name', (a, b) => {
    expect(nameKey(b)).toBe(nameKey(a));
  });

  it.each([
    ['alice', 'alicia'],
    ['bob', 'rob'],
    ['日本', '中国'],
    ['ana', 'anna'],
  ])('%s and %s stay two names', (a, b) => {
    expect(nameKey(a)).not.toBe(nameKey(b));
  });

  it('is idempotent and never empty for a valid name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 32 }), (raw) => {
        const checked = checkName(raw);
        if (!checked.ok) return;
        const key = nameKey(checked.value);
        expect(key.length).toBeGreaterThan(0);
        expect(nameKey(key)).toBe(key);
      }),
    );
  });
});
