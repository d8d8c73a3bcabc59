/**
 * The calm victim of an abuse run, in a process of its own (see
 * `startVictim`): `victim-process.ts <url> <localAddress> <room> <everyMs>`.
 * Says `ready` once it has joined, sends until told `stop`, then reports;
 * meanwhile it also lets newcomers connect on request.
 */
import { newcomer, Victim, type VictimCommand, type VictimMessage } from './measure.ts';

const [url, localAddress, room, everyMs] = process.argv.slice(2) as [string, string, string, string];
const say = (m: VictimMessage) => process.send?.(m);
const failed = (err: unknown) => say({ type: 'error', message: err instanceof Error ? err.message : String(err) });

try {
  const victim = await Victim.start(url, localAddress, room, Number(everyMs));
  process.on('message', (c: VictimCommand) => {
    if (c.type === 'newcomer') {
      void newcomer(url, c.address, c.room).then((result) => say({ type: 'newcomer', id: c.id, result }), failed);
      return;
    }
    void (async () => {
      await victim.stop();
      const base = { latency: victim.latency(), ownStallMs: victim.ownStallMs(), errors: victim.errors, acked: victim.acked.size };
      try {
        say({ type: 'report', report: { ...base, lost: (await victim.lost()).length } });
      } catch (err) {
        say({ type: 'report', report: { ...base, lost: null, lostCheck: err instanceof Error ? err.message : String(err) } });
      }
      victim.close();
    })().catch(failed);
  });
  say({ type: 'ready' });
} catch (err) {
  failed(err);
}
// Never outlive the run that started it.
process.on('disconnect', () => process.exit(0));
