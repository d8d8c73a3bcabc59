/**
 * Runs one generator process (pinned to the generator core) for one scenario
 * and answers its marks: at each mark the orchestrator samples the server,
 * then lets the generator go on. Bounded: the generator has a deadline of its
 * own, and is killed here if it overruns it.
 */
import type { Spec, GenMessage } from '../gen/spec.ts';
import { CORES, start, stop } from './proc.ts';

export type MarkHandler = (name: string, target?: string) => Promise<Record<string, unknown>>;

export async function runGenerator(spec: Spec, onMark: MarkHandler = async () => ({})): Promise<Record<string, unknown>> {
  const child = start(process.execPath, ['--import', 'tsx', 'bench/gen/generator.ts'], {
    core: CORES.generator,
    env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let result: Record<string, unknown> | undefined;
  child.on('message', (m: GenMessage) => {
    if (m.type === 'log') console.error(`  generator: ${m.text}`);
    else if (m.type === 'result') result = m.data;
    else if (m.type === 'mark') {
      onMark(m.name, m.target).then(
        (data) => child.connected && child.send({ type: 'marked', id: m.id, data }),
        (err: unknown) => {
          console.error(`  mark ${m.name} failed:`, err);
          if (child.connected) child.send({ type: 'marked', id: m.id, data: { error: String(err) } });
        },
      );
    }
  });
  const killer = setTimeout(() => void stop(child, 'SIGKILL'), spec.deadlineMs + 10_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  if (!result) throw new Error(`generator (${spec.kind}) ended without a result (exit ${code})`);
  return result;
}
