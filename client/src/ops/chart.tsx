import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Panel, Unit } from './panels.ts';

/** Colours of the total lines, then of per-node lines (thinner, dashed). */
const TOTAL_COLOURS = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#0b7285', '#e67700', '#5f3dc4', '#364fc7', '#a61e4d'];
const NODE_COLOURS = ['#868e96', '#74b816', '#f08c00', '#1098ad', '#ae3ec9', '#e64980', '#4263eb', '#37b24d'];
const HEIGHT = 190;
/** Tick steps for whole numbers (connections, rooms, events per minute): never a tick at 0.5. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6];

/** The latest value of a series (its last few seconds), for the readout above the plot. */
function latest(values: ReadonlyArray<number | null>): number | null {
  for (let i = values.length - 1; i >= Math.max(0, values.length - 3); i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** A number for an axis or the legend, in the panel's unit. */
export function formatValue(unit: Unit, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'bytes':
      return v >= 1024 ** 3 ? `${(v / 1024 ** 3).toFixed(2)} GiB` : `${(v / 1024 ** 2).toFixed(v >= 100 * 1024 ** 2 ? 0 : 1)} MiB`;
    case 'ms':
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`;
    case 'perSecond':
      return v >= 1000 ? `${(v / 1000).toFixed(1)}k/s` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}/s`;
    case 'perMinute':
      return `${v.toFixed(0)}/min`;
    case 'count':
      return v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);
  }
}

/**
 * One plot of the page, drawn by uPlot on a canvas. The plot is made again
 * only when its set of lines changes (a node or a refusal reason appears);
 * each new second only hands it new data. uPlot builds its legend and axes
 * with DOM nodes, `textContent` and style properties, never HTML strings, so
 * it runs under the server's Trusted Types policy.
 */
export function Chart({ panel }: { panel: Panel }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${panel.unit}|${panel.series.map((s) => `${s.label}:${s.perNode ? 1 : 0}`).join('|')}`;
  const data: uPlot.AlignedData = [panel.x, ...panel.series.map((s) => s.values)];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let totals = 0;
    let nodes = 0;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      // From zero, with room above the highest value; a flat zero still gets a readable scale.
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(panel.unit === 'bytes' ? 1024 ** 2 : 1, max ?? 0) * 1.1] } },
      axes: [
        {},
        {
          size: 70,
          values: (_u, vals) => vals.map((v) => formatValue(panel.unit, v)),
          ...(panel.unit === 'count' || panel.unit === 'perMinute' ? { incrs: WHOLE_STEPS } : {}),
        },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...panel.series.map((s) => ({
          label: s.label,
          stroke: s.perNode ? (NODE_COLOURS[nodes++ % NODE_COLOURS.length] as string) : (TOTAL_COLOURS[totals++ % TOTAL_COLOURS.length] as string),
          width: s.perNode ? 1 : 2,
          ...(s.perNode ? { dash: [4, 4] } : {}),
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => formatValue(panel.unit, v),
        })),
      ],
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Made anew only when the set of lines changes; new data is handed over below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  let colour = 0;
  const now = panel.series.filter((s) => !s.perNode).map((s) => ({ label: s.label, value: latest(s.values), colour: TOTAL_COLOURS[colour++ % TOTAL_COLOURS.length] }));
  return (
    <section className="ops-panel" data-panel={panel.id} aria-labelledby={`panel-${panel.id}`}>
      <h2 id={`panel-${panel.id}`}>{panel.title}</h2>
      <p className="ops-now">
        {now.map((n) => (
          <span key={n.label} data-series={n.label}>
            <span className="ops-swatch" style={{ background: n.colour }} aria-hidden="true" />
            {n.label} <strong>{formatValue(panel.unit, n.value)}</strong>
          </span>
        ))}
      </p>
      <div ref={box} className="ops-plot" aria-hidden="true" />
    </section>
  );
}
