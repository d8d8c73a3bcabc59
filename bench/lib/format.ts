/** Number formatting and figure access shared by the report, the chart, the verdicts and the console summary. */

type Fig = Record<string, unknown> | undefined;

/** A figure as a number; NaN when absent. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

export const fmt = (v: number, digits = 0): string =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';

/** Thousands: `241 k`, `58.7 k`. */
export const k = (v: number): string => (Number.isFinite(v) ? `${fmt(v / 1000, v >= 100_000 ? 0 : 1)} k` : '–');

export const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, 2)}×` : '–');

export const pct = (v: number): string => (Number.isFinite(v) ? `${fmt(v * 100)} %` : '–');

/** Milliseconds with about three significant digits. */
export const ms = (v: number): string => (Number.isFinite(v) ? (v < 10 ? fmt(v, 2) : v < 100 ? fmt(v, 1) : fmt(v)) : '–');

/** A latency quantile of a figure (`latencyMs.p50` / `.p99`). */
export const lat = (f: Fig, key: 'p50' | 'p99'): number => num((f?.latencyMs as Record<string, number> | undefined)?.[key]);
