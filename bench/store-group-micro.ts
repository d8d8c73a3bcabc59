/**
 * Store micro-benchmark for group commit: `rooms` rooms each commit one
 * 100-byte message per round, all issued in one event-loop turn (as in the
 * capacity scenario's quiet rooms), on SqliteStore with STORE_GROUP_COMMIT on
 * and off, rounds alternated. Reports the event-loop time one round of
 * commits costs (median of rounds) and what one room's commit costs.
 *
 *   node --import tsx bench/store-group-micro.ts [rooms=190] [rounds=200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../server/store/sqlite-store.ts';

const rooms = Number(process.argv[2] ?? 190);
const rounds = Number(process.argv[3] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'fiberchat-group-micro-'));
const text = 'x'.repeat(100);
let n = 0;

async function round(store: SqliteStore): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: rooms }, (_, r) => {
      n++;
      return store.commit(`room-${r}`, [{ id: `id-${n}`, clientId: `c-${n}`, author: 'a', authorId: `u${r}`, text, ts: Date.now(), kind: 'message' }], 'e');
    }),
  );
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  const on = new SqliteStore({ file: join(dir, 'on.db'), checkpointEveryMs: 1000 });
  const off = new SqliteStore({ file: join(dir, 'off.db'), checkpointEveryMs: 1000, groupCommit: false });
  const txs = { on: 0, off: 0 };
  on.observeCommits(() => txs.on++);
  off.observeCommits(() => txs.off++);
  const times = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so drift in machine load hits both alike.
    if (i % 2 === 0) {
      times.on.push(await round(on));
      times.off.push(await round(off));
    } else {
      times.off.push(await round(off));
      times.on.push(await round(on));
    }
  }
  await on.close();
  await off.close();
  const mOn = median(times.on.slice(rounds / 10));
  const mOff = median(times.off.slice(rounds / 10));
  console.log(`${rooms} rooms × 1 message per round, ${rounds} rounds (median, first 10 % dropped)`);
  console.log(`group commit on:  ${mOn.toFixed(2)} ms per round, ${((mOn / rooms) * 1000).toFixed(1)} µs per room commit`);
  console.log(`group commit off: ${mOff.toFixed(2)} ms per round, ${((mOff / rooms) * 1000).toFixed(1)} µs per room commit`);
  console.log(`off ÷ on: ${(mOff / mOn).toFixed(2)}×; rooms per transaction: on ${((rooms * rounds) / txs.on).toFixed(1)}, off ${((rooms * rounds) / txs.off).toFixed(1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
