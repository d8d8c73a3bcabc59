import { describe, expect, it } from 'vitest';
import { UserNotice } from './bus.ts';

/** What one node tells another about a user is checked on arrival by the event's own schema (a notice is not trusted because it came over Redis). */
describe('UserNotice', () => {
  const base = { node: 'node-a', userId: 'u-1' };

  it.each([
    { event: 'read', payload: { room: 'lobby', seq: 4 } },
    { event: 'removed', payload: { room: 'p-x' } },
    { event: 'invited', payload: { room: 'p-x', title: 'Plans', by: { userId: 'u-2', name: 'bob' } } },
    { event: 'sessions_ended', payload: { sessions: ['s1', 's2'] } },
  ])('takes a $event notice with its event\'s payload', (n) => {
    expect(UserNotice.safeParse({ ...base, ...n }).success).toBe(true);
  });

  it.each([
    { event: 'read', payload: { room: 'lobby' } },
    { event: 'invited', payload: { room: 'p-x' } },
    { event: 'sessions_ended', payload: { sessions: 'all' } },
    { event: 'messages', payload: { room: 'lobby', messages: [] } },
    { event: 'read', payload: null },
  ])('refuses a $event notice whose payload is not its event\'s', (n) => {
    expect(UserNotice.safeParse({ ...base, ...n }).success).toBe(false);
  });
});
