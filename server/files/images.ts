/**
 * What the server makes of an uploaded raster image, with sharp (libvips,
 * whose work runs on libuv's thread pool, off the event loop): its size in
 * pixels as shown (EXIF orientation applied), two WebP thumbnails (at most
 * 320 and 1280 px on the longer side), and, when the file carries metadata
 * (EXIF, with its GPS position; XMP; IPTC), the image again without it, to
 * be served in its place. One image is worked on at a time: decoding is the
 * costliest thing a client can ask of the server, and its memory is bounded
 * by one decode (at most `MAX_PIXELS`) whatever the number of uploads.
 */
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { Mutex } from '../fiber/index.ts';

/** Larger images are stored and served as files, without thumbnails (about 8000 × 6000). */
export const MAX_PIXELS = 48_000_000;

export const THUMB_SIZES = { thumb: 320, preview: 1280 } as const;

export interface ImageFacts {
  width: number;
  height: number;
  thumb: Buffer;
  preview: Buffer;
  /** The image without its metadata, when it had any (a stream of the same format), else undefined: the bytes are served as uploaded. */
  stripped?: Readable | undefined;
}

const one = new Mutex();

// libvips caches decoded images for repeated operations; a server decodes each upload once.
sharp.cache(false);

/**
 * Facts of the image whose bytes `open` streams (called once per pass), or
 * null when it is not an image sharp can decode within the limits.
 * `stripped` must be consumed (or destroyed) by the caller before the next
 * image is worked on: the lock is held until it ends.
 */
export async function describeImage(open: () => Promise<Readable>): Promise<ImageFacts | null> {
  const release = await one.lock();
  let handedOver = false;
  try {
    const probe = sharp({ limitInputPixels: MAX_PIXELS, failOn: 'error' });
    (await open()).on('error', (err) => probe.destroy(err)).pipe(probe);
    const info = await probe.metadata().catch(() => null);
    if (!info?.width || !info.height || !info.format) return null;
    if (info.width * info.height > MAX_PIXELS) return null;
    const turned = (info.orientation ?? 1) >= 5;
    const width = turned ? info.height : info.width;
    const height = turned ? info.width : info.height;

    const base = sharp({ limitInputPixels: MAX_PIXELS, failOn: 'error' }).rotate();
    const thumb = base.clone().resize(THUMB_SIZES.thumb, THUMB_SIZES.thumb, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
    const preview = base.clone().resize(THUMB_SIZES.preview, THUMB_SIZES.preview, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 82 }).toBuffer();
    (await open()).on('error', (err) => base.destroy(err)).pipe(base);
    const [t, p] = await Promise.all([thumb, preview]);

    let stripped: Readable | undefined;
    if ((info.exif || info.xmp || info.iptc) && info.format !== 'gif') {
      // Re-encoded in its own format (orientation applied, as the EXIF tag that said it goes); sharp keeps no metadata by default.
      const again = sharp({ limitInputPixels: MAX_PIXELS, failOn: 'error' })
        .rotate()
        .toFormat(info.format, info.format === 'jpeg' ? { quality: 90 } : {});
      (await open()).on('error', (err) => again.destroy(err)).pipe(again);
      stripped = again;
      handedOver = true;
      const done = () => release();
      again.once('end', done).once('close', done).once('error', done);
    }
    return { width, height, thumb: t, preview: p, stripped };
  } catch {
    return null;
  } finally {
    if (!handedOver) release();
  }
}
