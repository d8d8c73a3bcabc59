import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults every setting', () => {
    const c = loadConfig({}, '/srv/chat');
    expect(c).toMatchObject({ port: 3000, host: '0.0.0.0', dataDir: '/srv/chat/data', roomMaxTurn: 512, sqliteCheckpointMs: 1000 });
  });

  it('reads ROOM_MAX_TURN, where 1 turns batching off', () => {
    expect(loadConfig({ ROOM_MAX_TURN: '1' }).roomMaxTurn).toBe(1);
  });

  it('reads DATABASE_POOL_SIZE within 1 to 1000', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ DATABASE_POOL_SIZE: '25' }).databasePoolSize).toBe(25);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it.each([
    ['', true],
    ['1', true],
    ['on', true],
    ['TRUE', true],
    ['yes', true],
    ['0', false],
    ['off', false],
    [' false ', false],
    ['no', false],
  ])('reads STORE_GROUP_COMMIT=%j as %s', (raw, on) => {
    expect(loadConfig({ STORE_GROUP_COMMIT: raw }).storeGroupCommit).toBe(on);
  });

  it('refuses a STORE_GROUP_COMMIT that is neither on nor off', () => {
    expect(() => loadConfig({ STORE_GROUP_COMMIT: 'sometimes' })).toThrow(/STORE_GROUP_COMMIT: must be on or off/);
  });

  it('names every bad setting in one error', () => {
    const bad = () => loadConfig({ ROOM_MAX_TURN: '0', PORT: 'eighty' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/ROOM_MAX_TURN/);
    expect(bad).toThrow(/PORT/);
  });
});
