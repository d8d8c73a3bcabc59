/**
 * Upload benchmark: CLIENTS clients upload a FILE_BYTES file each at once,
 * ROUNDS times, to Fiberchat's upload route (session, access check,
 * streaming SHA-256 into the content-addressed store under DATA_DIR, type
 * sniffing, quotas, the record in SQLite) and to the same route on plain
 * Fastify with @fastify/multipart streaming each part to a file (the
 * ceiling on this stack: bench/peers/upload-peer.ts), one server after the
 * other, each pinned to the server core while this process drives from the
 * other.
 *
 * Reports for each: throughput (file bytes stored per second, over the
 * round's wall time), per-upload time p50 and max, the server's event-loop
 * delay while uploads run (the p99 of each 250 ms scrape of /metrics, the
 * worst and the median window), and its RSS before and at its peak (from
 * /proc, every 50 ms): uploads stream, so the peak must stay far below
 * CLIENTS × FILE_BYTES. Then, on Fiberchat only (the peer does no image
 * work), the same CLIENTS at once each uploading a 12-megapixel JPEG with
 * EXIF: every one decoded, stripped, re-encoded and thumbnailed by sharp on
 * its own threads, one at a time, while the event loop must stay free.
 * Prints one JSON object on stdout, or fails when any upload was not
 * stored (201); `--quick` shrinks the sizes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { multipartLength, rawUpload, type UploadAnswer } from '../server/test/abuse/net.ts';
import { quantile } from './lib/stats.ts';
import { startTarget, type ServerName, type Target } from './lib/targets.ts';

const quick = process.argv.includes('--quick');
const MIB = 2 ** 20;
const CLIENTS = 10;
const FILE_BYTES = quick ? 8 * MIB : 25 * MIB;
const ROUNDS = quick ? 1 : 3;
const IMAGE = quick ? { width: 2000, height: 1500 } : { width: 4000, height: 3000 };
const lifted = String(1024 ** 4);
/** Budgets a person never reaches lifted, as the other scenarios lift theirs: this measures the route, not the quotas. */
const UPLOAD_ENV = {
  UPLOAD_BYTES_PER_DAY: lifted,
  UPLOAD_BYTES_PER_DAY_ADDRESS: lifted,
  FILES_TOTAL_BYTES: '0',
  UPLOADS_PER_IDENTITY: '100',
  UPLOADS_PER_ADDRESS: '100',
};

const log = (msg: string) => process.stderr.write(`  upload: ${msg}\n`);

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The server's RSS every 50 ms and its event-loop p99 every 250 ms, until stopped. */
function watch(t: Target): { stop(): Promise<{ rssPeak: number; loopP99Ms: number[] }> } {
  let rssPeak = rssOf(t.pid);
  const loopP99Ms: number[] = [];
  const scrape = () =>
    fetch(`http://127.0.0.1:${t.port}/metrics`)
      .then((r) => r.text())
      .then((text) => {
        const v = Number(/^nodejs_eventloop_lag_p99_seconds ([0-9.e+-]+)$/m.exec(text)?.[1]);
        if (v > 0) loopP99Ms.push(v * 1000);
      })
      .catch(() => {});
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(t.pid))), 50);
  const loopTimer = setInterval(() => void scrape(), 250);
  return {
    async stop() {
      clearInterval(rssTimer);
      clearInterval(loopTimer);
      // The window since the last scrape: a short round is measured too.
      await scrape();
      return { rssPeak: Math.max(rssPeak, rssOf(t.pid)), loopP99Ms };
    },
  };
}

/** A file of `size` bytes distinct for every (client, round): a random MiB repeated under a header of its own. */
function* fileChunks(size: number, block: Buffer, tag: string): Generator<Buffer> {
  const head = Buffer.from(tag.padEnd(64, '.'));
  yield head;
  for (let sent = head.length; sent < size; ) {
    const b = block.subarray(0, Math.min(block.length, size - sent));
    sent += b.length;
    yield b;
  }
}

async function tokensFor(t: Target): Promise<string[]> {
  if (t.name !== 'fiberchat') return Array.from({ length: CLIENTS }, () => 'none');
  return Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const r = await fetch(`http://127.0.0.1:${t.port}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `uploader-${i}` }) });
      return ((await r.json()) as { token: string }).token;
    }),
  );
}

interface Figures {
  rounds: number;
  mibPerSec: number;
  uploadP50Ms: number;
  uploadMaxMs: number;
  loopP99WorstMs: number;
  loopP99MedianMs: number;
  rssBaseMiB: number;
  rssPeakMiB: number;
  statuses: Record<string, number>;
}

function figures(rounds: Array<{ ms: number; answers: UploadAnswer[]; bytes: number }>, loop: number[], rssBase: number, rssPeak: number): Figures {
  const ms = rounds.flatMap((r) => r.answers.map((a) => a.ms)).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const a of rounds.flatMap((r) => r.answers)) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  const perSec = rounds.map((r) => r.bytes / MIB / (r.ms / 1000)).sort((a, b) => a - b);
  const sortedLoop = [...loop].sort((a, b) => a - b);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    rounds: rounds.length,
    // The median round: one slow round on a shared machine does not make the figure.
    mibPerSec: round1(perSec[Math.floor(perSec.length / 2)] ?? NaN),
    uploadP50Ms: Math.round(quantile(ms, 0.5)),
    uploadMaxMs: Math.round(ms.at(-1) ?? NaN),
    loopP99WorstMs: round1(sortedLoop.at(-1) ?? NaN),
    loopP99MedianMs: round1(sortedLoop[Math.floor(sortedLoop.length / 2)] ?? NaN),
    rssBaseMiB: Math.round(rssBase / MIB),
    rssPeakMiB: Math.round(rssPeak / MIB),
    statuses,
  };
}

/** ROUNDS rounds of CLIENTS uploads at once of FILE_BYTES each against `name`. */
async function bulk(name: ServerName): Promise<Figures> {
  const t = await startTarget(name, { env: UPLOAD_ENV });
  try {
    const tokens = await tokensFor(t);
    const block = randomBytes(MIB);
    const url = `http://127.0.0.1:${t.port}`;
    const upload = (token: string, size: number, tag: string) =>
      rawUpload(url, { token, room: 'bench-files', declared: multipartLength(size), chunks: fileChunks(size, block, tag) });
    // Warm up: the route compiled, the store's statements prepared, the first folder made.
    await upload(tokens[0] as string, MIB, `warmup-${name}`);
    const rssBase = rssOf(t.pid);
    const w = watch(t);
    const rounds: Array<{ ms: number; answers: UploadAnswer[]; bytes: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      const answers = await Promise.all(tokens.map((token, i) => upload(token, FILE_BYTES, `${name}-round-${r}-client-${i}`)));
      rounds.push({ ms: performance.now() - t0, answers, bytes: CLIENTS * FILE_BYTES });
      log(`${name} round ${r + 1}/${ROUNDS}: ${((CLIENTS * FILE_BYTES) / MIB).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
    const { rssPeak, loopP99Ms } = await w.stop();
    return figures(rounds, loopP99Ms, rssBase, rssPeak);
  } finally {
    await t.close();
  }
}

/** CLIENTS photos at once, each decoded, stripped and thumbnailed by Fiberchat. */
async function images(): Promise<Figures & { imageBytes: number; megapixels: number }> {
  const t = await startTarget('fiberchat', { env: UPLOAD_ENV });
  try {
    const tokens = await tokensFor(t);
    const url = `http://127.0.0.1:${t.port}`;
    const photos = await Promise.all(
      tokens.map((_, i) =>
        sharp({ create: { ...IMAGE, channels: 3, background: { r: 20 * i, g: 90, b: 160 }, noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
          .jpeg({ quality: 85 })
          .withExif({ IFD0: { Make: 'Bench', Model: `camera-${i}` } })
          .toBuffer(),
      ),
    );
    await rawUpload(url, { token: tokens[0] as string, room: 'bench-photos', declared: multipartLength(photos[0]?.length ?? 0), chunks: [photos[0] as Buffer] });
    const rssBase = rssOf(t.pid);
    const w = watch(t);
    const t0 = performance.now();
    const answers = await Promise.all(
      tokens.map((token, i) => rawUpload(url, { token, room: 'bench-photos', declared: multipartLength((photos[i] as Buffer).length), chunks: [photos[i] as Buffer] })),
    );
    const ms = performance.now() - t0;
    const { rssPeak, loopP99Ms } = await w.stop();
    const bytes = photos.reduce((a, p) => a + p.length, 0);
    log(`fiberchat: ${CLIENTS} photos of ${(IMAGE.width * IMAGE.height) / 1e6} MP in ${(ms / 1000).toFixed(2)} s`);
    return { ...figures([{ ms, answers, bytes }], loopP99Ms, rssBase, rssPeak), imageBytes: Math.round(bytes / CLIENTS), megapixels: (IMAGE.width * IMAGE.height) / 1e6 };
  } finally {
    await t.close();
  }
}

const fiberchat = await bulk('fiberchat');
const peer = await bulk('fastify-upload');
const photos = await images();
// Every upload must have been stored: a refusal here is a broken scenario or a lost file, not a figure.
for (const [name, f] of Object.entries({ fiberchat, fastify: peer, photos })) {
  const refused = Object.entries(f.statuses).filter(([status]) => status !== '201');
  if (refused.length > 0) throw new Error(`upload bench: ${name} answered ${refused.map(([st, n]) => `${n} × ${st}`).join(', ')} instead of 201`);
}
process.stdout.write(
  `${JSON.stringify({
    clients: CLIENTS,
    fileBytes: FILE_BYTES,
    fiberchat,
    fastify: peer,
    ratio: Math.round((fiberchat.mibPerSec / peer.mibPerSec) * 100) / 100,
    images: photos,
  })}\n`,
);
