import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../../shared/search-query.ts';
import { chipsOf, withoutChip } from './search-box.tsx';

describe('search chips', () => {
  it('shows each filter of the query as a chip, and removing one leaves the rest as typed', () => {
    const q = 'deploy in:#ops from:@Bob has:link before:2026-12-01 after:2026-11-28 "the key"';
    const chips = chipsOf(parseSearch(q));
    expect(chips.map((c) => c.label)).toEqual(['in: #ops', 'from: @Bob', 'has: link', 'before: 2026-12-01', 'after: 2026-11-28']);
    expect(withoutChip(q, chips[0]!)).toBe('deploy from:@Bob has:link before:2026-12-01 after:2026-11-28 "the key"');
    expect(withoutChip(q, chips[1]!)).toBe('deploy in:#ops has:link before:2026-12-01 after:2026-11-28 "the key"');
    expect(withoutChip('in:ops  word', chipsOf(parseSearch('in:ops  word'))[0]!)).toBe('word');
  });

  it('treats a room name with pattern characters literally', () => {
    const chips = chipsOf(parseSearch('x in:#a.b+c'));
    expect(withoutChip('x in:#a.b+c in:#aXbbc', chips[0]!)).toBe('x in:#aXbbc');
  });
});
