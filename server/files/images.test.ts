import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { describeImage, MAX_PIXELS } from './images.ts';

const from = (b: Buffer) => async () => Readable.from([b]);
async function bytesOf(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('describeImage', () => {
  it('measures an image and makes both thumbnails, keeping the aspect and never enlarging', async () => {
    const png = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: 'green' } }).png().toBuffer();
    const facts = await describeImage(from(png));
    expect([facts?.width, facts?.height, facts?.stripped]).toEqual([2000, 1000, undefined]);
    const thumb = await sharp(facts?.thumb).metadata();
    const preview = await sharp(facts?.preview).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 320, 160]);
    expect([preview.width, preview.height]).toEqual([1280, 640]);
    const small = await describeImage(from(await sharp({ create: { width: 40, height: 30, channels: 3, background: 'red' } }).png().toBuffer()));
    expect((await sharp(small?.thumb).metadata()).width).toBe(40);
  });

  it('re-encodes an image with EXIF (a GPS position) without it, orientation applied', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 100, channels: 3, background: 'blue' } })
      .jpeg()
      .withExif({ IFD0: { Orientation: '6', Make: 'PhoneCo' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1' } })
      .toBuffer();
    const facts = await describeImage(from(jpeg));
    expect(facts?.stripped).toBeDefined();
    const clean = await bytesOf(facts?.stripped as Readable);
    const meta = await sharp(clean).metadata();
    expect(meta.exif).toBeUndefined();
    expect(clean.includes(Buffer.from('PhoneCo'))).toBe(false);
    // As shown: what the orientation said, applied to the pixels.
    expect([meta.width, meta.height]).toEqual([facts?.width, facts?.height]);
  });

  it('answers null for what is not a decodable image, or is larger than it may decode', async () => {
    expect(await describeImage(from(Buffer.from('not an image at all')))).toBeNull();
    const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: 'red' } }).png().toBuffer();
    expect(await describeImage(from(png.subarray(0, 40)))).toBeNull();
    expect(MAX_PIXELS).toBeLessThan(50_000_000);
    // The next image is served at once after a failed one: the lock was released.
    expect((await describeImage(from(png)))?.width).toBe(100);
  });
});
