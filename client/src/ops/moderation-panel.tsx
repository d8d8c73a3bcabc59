/**
 * The operations page's moderation panel (since protocol 2.7): every room's
 * open reports, and the audit log of moderator actions (who, what, when,
 * which room, why), filtered by room and by action. Read from
 * `GET /api/ops/moderation` every 10 s and whenever a filter changes.
 */
import { useEffect, useState } from 'react';
import { MOD_ACTIONS } from '../../../shared/protocol.ts';
import { OpsModeration } from '../../../shared/ops.ts';
import { EmptyRow } from './empty-row.tsx';

const REFRESH_MS = 10_000;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const ACTIONS = ['role', ...MOD_ACTIONS, 'dismiss'] as const;

export function ModerationPanel() {
  const [room, setRoom] = useState('');
  const [action, setAction] = useState('');
  const [data, setData] = useState<OpsModeration | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      const q = new URLSearchParams();
      if (room.trim() !== '') q.set('room', room.trim());
      if (action !== '') q.set('action', action);
      try {
        const res = await fetch(`/api/ops/moderation?${q.toString()}`, { cache: 'no-store' });
        const body = OpsModeration.safeParse(await res.json());
        if (stopped) return;
        if (!res.ok || !body.success) setError(`The moderation log could not be read (${res.status}).`);
        else {
          setData(body.data);
          setError(null);
        }
      } catch {
        if (!stopped) setError('The moderation log could not be read.');
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [room, action]);

  return (
    <>
      <section aria-labelledby="t-reports" className="ops-wide">
        <h2 id="t-reports">Open reports</h2>
        <table data-table="reports">
          <thead>
            <tr>
              <th>when</th>
              <th>room</th>
              <th className="num">message</th>
              <th>reason</th>
              <th>reported by</th>
            </tr>
          </thead>
          <tbody>
            {data?.reports.length === 0 && <EmptyRow columns={5} />}
            {data?.reports.map((r) => (
              <tr key={r.id}>
                <td>{when.format(r.ts)}</td>
                <td>#{r.room}</td>
                <td className="num">{r.target}</td>
                <td>
                  {r.reason}
                  {r.text ? `: ${r.text}` : ''}
                </td>
                <td>
                  <bdi>{r.reporter.name}</bdi>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="t-audit" className="ops-wide">
        <h2 id="t-audit">Moderation log</h2>
        <div className="ops-filters">
          <label>
            Room <input value={room} onChange={(e) => setRoom(e.target.value)} placeholder="any" />
          </label>
          <label>
            Action{' '}
            <select value={action} onChange={(e) => setAction(e.target.value)}>
              <option value="">any</option>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
        </div>
        {error && <p role="alert">{error}</p>}
        <table data-table="audit">
          <thead>
            <tr>
              <th>when</th>
              <th>room</th>
              <th>who</th>
              <th>action</th>
              <th>whom / what</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {data?.audit.length === 0 && <EmptyRow columns={6} />}
            {data?.audit.map((a) => (
              <tr key={a.id ?? `${a.ts}-${a.action}`} data-action={a.action}>
                <td>{when.format(a.ts)}</td>
                <td>#{a.room}</td>
                <td>
                  <bdi>{a.actor.name}</bdi>
                </td>
                <td>
                  {a.action}
                  {a.role ? ` → ${a.role}` : ''}
                  {a.seconds !== undefined ? ` (${a.seconds} s)` : ''}
                </td>
                <td>{a.subject ? <bdi>{a.subject.name}</bdi> : a.target !== undefined ? `message ${a.target}` : ''}</td>
                <td>{a.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
