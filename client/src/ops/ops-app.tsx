import { useMemo, useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import { NameLabel } from '../components/name-label.tsx';
import { Chart } from './chart.tsx';
import { ModerationPanel } from './moderation-panel.tsx';
import { EmptyRow } from './empty-row.tsx';
import type { OpsClient, OpsState } from './ops-client.ts';
import { layout, type OpsData } from './ops-model.ts';
import { buildPanels } from './panels.ts';
import { FIGURE_HEADINGS, addressRows, identityRows, nodeRows, refusalRows, roomRows } from './tables.ts';

/** Signed out: the token form. Signed in: the plots and tables, live. */
export function OpsApp({ client }: { client: OpsClient }) {
  const state = useSyncExternalStore(client.subscribe, client.getSnapshot);
  if (state.phase === 'login') return <TokenForm client={client} state={state} />;
  if (state.phase !== 'live') {
    return (
      <main className="ops-message">
        <p role="status">{state.error ?? 'Loading…'}</p>
      </main>
    );
  }
  return <Dashboard client={client} state={state} />;
}

function TokenForm({ client, state }: { client: OpsClient; state: OpsState }) {
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim() !== '') void client.login(token.trim());
  };
  return (
    <main className="ops-login">
      <form onSubmit={submit} aria-labelledby="ops-login-title">
        <h1 id="ops-login-title">Fiberchat operations</h1>
        <p>Enter the operator token (the server's <code>OPS_TOKEN</code>). It is exchanged for a cookie valid for an hour.</p>
        <label htmlFor="ops-token">Operator token</label>
        <input id="ops-token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} />
        <button type="submit" disabled={state.loginPending}>
          {state.loginPending ? 'Checking…' : 'Open'}
        </button>
        {state.error && (
          <p role="alert" className="ops-error">
            {state.error}
          </p>
        )}
      </form>
    </main>
  );
}

function Dashboard({ client, state }: { client: OpsClient; state: OpsState }) {
  const data = useMemo(() => layout(state.views, state.self, state.now), [state.views, state.self, state.now]);
  const panels = useMemo(() => buildPanels(data), [data]);
  const nodes = data.nodes.length;
  return (
    <main className="ops">
      <header className="ops-header">
        <h1>Fiberchat operations</h1>
        <p role="status" className={state.live ? 'ops-live' : 'ops-stale'}>
          {state.live ? 'Live' : 'Not live: reconnecting…'} · served by {state.self} · {nodes} {nodes === 1 ? 'node' : 'nodes'} · last 15 minutes
        </p>
        <button type="button" onClick={() => void client.logout()}>
          Sign out
        </button>
      </header>
      <div className="ops-grid">
        {panels.map((p) => (
          <Chart key={p.id} panel={p} />
        ))}
      </div>
      <Tables data={data} />
      <div className="ops-tables">
        <ModerationPanel />
      </div>
    </main>
  );
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

const perMin = (v: number) => v.toFixed(1);

function Tables({ data }: { data: OpsData }) {
  const nodes = nodeRows(data);
  const refusals = refusalRows(data);
  const rooms = roomRows(data);
  const addresses = addressRows(data);
  const identities = identityRows(data);
  return (
    <div className="ops-tables">
      <section aria-labelledby="t-nodes" className="ops-wide">
        <h2 id="t-nodes">Nodes</h2>
        <table data-table="nodes">
          <thead>
            <tr>
              <th>node</th>
              <th>state</th>
              <th>uptime</th>
              <th>version</th>
              {FIGURE_HEADINGS.map((h) => (
                <th key={h} className="num">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node={n.id}>
                <td>
                  {n.id}
                  {n.self ? ' (this one)' : ''}
                </td>
                <td data-state={n.status}>{n.status}</td>
                <td>{duration(n.uptimeMs)}</td>
                <td>
                  {n.version} · protocol {n.protocol}
                </td>
                {n.figures.map((f) => (
                  <td key={f.metric} className="num" data-metric={f.metric}>
                    {f.value}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="t-rooms">
        <h2 id="t-rooms">Busiest rooms</h2>
        <table data-table="rooms">
          <thead>
            <tr>
              <th>room</th>
              <th className="num">subscribers</th>
              <th className="num">messages/min</th>
              <th className="num">mailbox</th>
            </tr>
          </thead>
          <tbody>
            {rooms.length === 0 && <EmptyRow columns={4} />}
            {rooms.map((r) => (
              <tr key={r.name}>
                <td>
                  <bdi>{r.name}</bdi>
                </td>
                <td className="num">{r.subscribers}</td>
                <td className="num">{perMin(r.perMin)}</td>
                <td className="num">{r.depth}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="t-refusals">
        <h2 id="t-refusals">Refusals since start</h2>
        <table data-table="refusals">
          <thead>
            <tr>
              <th>reason</th>
              <th className="num">total</th>
            </tr>
          </thead>
          <tbody>
            {refusals.length === 0 && <EmptyRow columns={2} />}
            {refusals.map((r) => (
              <tr key={r.reason}>
                <td>{r.reason}</td>
                <td className="num" data-metric={`fiberchat_refusals_total{reason="${r.reason}"}`}>
                  {r.total}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <RefusedTable id="addresses" title="Top refused addresses" who="address" rows={addresses.map((a) => ({ key: a.address, who: a.address, perMin: a.perMin }))} />
      <RefusedTable
        id="identities"
        title="Top refused identities"
        who="who"
        rows={identities.map((i) => ({ key: `${i.name} ${i.tag}`, who: <NameLabel name={i.name} tag={i.tag} />, perMin: i.perMin }))}
      />
    </div>
  );
}

/** A table of who was refused most: an address or an identity, and refusals per minute. */
function RefusedTable({ id, title, who, rows }: { id: string; title: string; who: string; rows: Array<{ key: string; who: ReactNode; perMin: number }> }) {
  return (
    <section aria-labelledby={`t-${id}`}>
      <h2 id={`t-${id}`}>{title}</h2>
      <table data-table={id}>
        <thead>
          <tr>
            <th>{who}</th>
            <th className="num">refusals/min</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && <EmptyRow columns={2} />}
          {rows.map((r) => (
            <tr key={r.key}>
              <td>{r.who}</td>
              <td className="num">{perMin(r.perMin)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
