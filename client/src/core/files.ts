/**
 * Files in the browser: uploads with progress and cancel (XMLHttpRequest,
 * the one browser API that reports upload progress), and reading a file
 * URL with the session's bearer token into an object URL, so that an image
 * or a download needs no cookie and no secret in its URL. Object URLs are
 * kept per URL while the page lives (each is one file's bytes, held by the
 * browser, not the page's heap), at most `MAX_CACHED`.
 */
import { ErrorEnvelope, UploadOk } from '../../../shared/protocol.ts';
import type { z } from 'zod';

export type UploadedFile = z.infer<typeof UploadOk>['file'];
export type UploadResult = { ok: true; file: UploadedFile } | { ok: false; message: string; cancelled?: boolean };

export interface UploadHandle {
  done: Promise<UploadResult>;
  cancel(): void;
}

/** Sends `file` to `room`; `progress` gets the fraction sent (0 to 1). */
export function uploadFile(token: string, room: string, file: Blob, name: string, progress: (fraction: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadResult>((resolve) => {
    xhr.open('POST', `/api/rooms/${encodeURIComponent(room)}/files`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) progress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // An answer that is not ours (a proxy's error page): said below by its status.
      }
      const ok = UploadOk.safeParse(body);
      if (xhr.status === 201 && ok.success) return resolve({ ok: true, file: ok.data.file });
      const err = ErrorEnvelope.safeParse(body);
      resolve({ ok: false, message: err.success ? err.data.error.message : xhr.status === 413 ? 'This file is too large' : `The upload failed (${xhr.status})` });
    };
    xhr.onerror = () => resolve({ ok: false, message: 'The upload failed: the server could not be reached' });
    xhr.onabort = () => resolve({ ok: false, message: 'Cancelled', cancelled: true });
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
  return { done, cancel: () => xhr.abort() };
}

const MAX_CACHED = 200;
const cached = new Map<string, Promise<string>>();

/** An object URL of the file at `url`, read once with the token; rejects with the status when it cannot be read (404, 410). */
export function fileObjectUrl(token: string, url: string): Promise<string> {
  const hit = cached.get(url);
  if (hit) return hit;
  const p = fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(async (res) => {
    if (!res.ok) throw new Error(String(res.status));
    return URL.createObjectURL(await res.blob());
  });
  p.catch(() => cached.delete(url));
  cached.set(url, p);
  if (cached.size > MAX_CACHED) {
    const [oldest, value] = cached.entries().next().value as [string, Promise<string>];
    cached.delete(oldest);
    void value.then((u) => URL.revokeObjectURL(u), () => {});
  }
  return p;
}

/** Saves the file at `url` under `name`, as a download. */
export async function downloadFile(token: string, url: string, name: string): Promise<void> {
  const href = await fileObjectUrl(token, url);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 102.4) / 10} KB`;
  return `${Math.round(bytes / (1024 * 102.4)) / 10} MB`;
}
