/**
 * The upload scenario's peer: plain Fastify with @fastify/multipart, each
 * upload's one part streamed to a file under a temporary folder and
 * answered 201, as the framework's own documentation does it. No session,
 * no access check, no hashing, no type sniffing, no quota, no image work:
 * the ceiling Fiberchat's upload route is measured against on the same
 * stack.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import Fastify from 'fastify';
import { listenAndReport, statsHandler } from './common.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiberchat-upload-peer-'));
const stats = statsHandler();
const app = Fastify({ logger: false });
await app.register(fastifyMultipart, { limits: { files: 1, fileSize: 25 * 1024 * 1024 } });
for (const path of ['/healthz', '/metrics']) {
  app.get(path, (req, res) => {
    res.hijack();
    stats(req.raw, res.raw);
  });
}
app.post('/api/rooms/:room/files', async (req, res) => {
  const part = await req.file();
  if (!part) return res.code(400).send({ error: 'no file' });
  const id = randomUUID();
  await pipeline(part.file, createWriteStream(join(dir, id)));
  return res.code(201).send({ file: { id, name: part.filename } });
});
await app.ready();
listenAndReport(app.server);
const stop = () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
