import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('HashGate', () => {
  it('runs at most `running` at once, queues up to `queued`, refuses past that, and serves the queue in order', async () => {
    const gate = new HashGate(2, 1);
    const blockers = [deferred(), deferred(), deferred()];
    const order: number[] = [];
    const runs = blockers.map((b, i) =>
      gate.run(async () => {
        order.push(i);
        await b.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(gate.load).toEqual({ active: 2, waiting: 1 });
    expect(await gate.run(async () => 'never')).toBeUndefined();
    blockers[0]?.resolve();
    await expect(runs[0]).resolves.toEqual({ value: 0 });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]);
    expect(gate.load).toEqual({ active: 2, waiting: 0 });
    blockers[1]?.resolve();
    blockers[2]?.resolve();
    await Promise.all(runs);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('frees the slot when the work fails', async () => {
    const gate = new HashGate(1, 0);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 1)).toEqual({ value: 1 });
  });
});
