import { describe, expect, it } from 'vitest';
import { staleFiles } from '../scripts/docs.ts';

describe('generated documentation', () => {
  it('.env.example, the README settings table and the PROTOCOL.md tables match the code (npm run docs)', () => {
    expect(staleFiles()).toEqual([]);
  });
});
