import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, SessionOk } from '../../../shared/protocol.ts';
import { cid } from '../harness.ts';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { newSession } from './peers.ts';

/**
 * Files on a cluster: the bytes live in PostgreSQL (chunks beside the
 * records), so any node serves what any other stored, and a deletion
 * through one node is a 410 on every other.
 */
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const auth = (s: SessionOk) => ({ authorization: `Bearer ${s.token}` });

describe('files across nodes', () => {
  it('a file uploaded through node A is served by node B, its thumbnail by node C, and gone (410) everywhere once its message is deleted', async () => {
    logsOnFailure(cluster);
    const [alice, bob] = await Promise.all(['alice', 'bob'].map((n) => newSession(cluster.url, n)));
    // Larger than one stored chunk (256 KiB), so reading it back joins several.
    const bytes = await sharp({ create: { width: 900, height: 700, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();
    expect(bytes.length).toBeGreaterThan(512 * 1024);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'noise.png');
    const up = await fetch(`${cluster.node(0).url}/api/rooms/lobby/files`, { method: 'POST', headers: auth(alice as SessionOk), body: form });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string; url: string; size: number } };

    const sent = await fetch(`${cluster.node(1).url}/api/rooms/lobby/messages`, {
      method: 'POST',
      headers: { ...auth(alice as SessionOk), 'content-type': 'application/json' },
      body: JSON.stringify({ text: '', clientId: cid(), attachments: [file.id] }),
    });
    expect(sent.status).toBe(200);
    const { seq } = (await sent.json()) as { seq: number };

    const onB = await fetch(`${cluster.node(1).url}${file.url}`, { headers: auth(bob as SessionOk) });
    expect(onB.status).toBe(200);
    expect(sha(new Uint8Array(await onB.arrayBuffer()))).toBe(sha(bytes));
    const page = (await (await fetch(`${cluster.node(2).url}/api/rooms/lobby/messages`, { headers: auth(bob as SessionOk) })).json()) as { messages: Message[] };
    const attachment = page.messages.find((m) => m.seq === seq)?.attachments?.[0];
    expect(attachment).toMatchObject({ id: file.id, width: 900, height: 700 });
    const thumb = await fetch(`${cluster.node(2).url}${attachment?.thumb ?? ''}`, { headers: auth(bob as SessionOk) });
    expect(thumb.status).toBe(200);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(320);

    const removed = await fetch(`${cluster.node(2).url}/api/rooms/lobby/deletes`, {
      method: 'POST',
      headers: { ...auth(alice as SessionOk), 'content-type': 'application/json' },
      body: JSON.stringify({ target: seq, clientId: cid() }),
    });
    expect(removed.status).toBe(200);
    for (const n of [0, 1, 2]) expect((await fetch(`${cluster.node(n).url}${file.url}`, { headers: auth(bob as SessionOk) })).status, `node ${n}`).toBe(410);
  });
});
