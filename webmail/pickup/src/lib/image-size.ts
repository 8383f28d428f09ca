/**
 * The intrinsic width in pixels of a PNG, GIF, BMP, WebP or JPEG image, read from its first bytes, or
 * undefined when the bytes are none of these or too short. Used only to decide whether an image in the
 * message frame gets a "show it whole" toggle (sanitize.ts); a wrong answer changes nothing but that.
 */
export function imageWidth(b: Uint8Array): number | undefined {
  const at = (i: number): number => b[i] ?? 0;
  const be16 = (i: number): number => (at(i) << 8) | at(i + 1);
  const le16 = (i: number): number => at(i) | (at(i + 1) << 8);
  const ascii = (i: number, n: number): string => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length < 30) return undefined;
  if (ascii(1, 3) === 'PNG') return (at(16) << 24) | (at(17) << 16) | be16(18);
  if (ascii(0, 4) === 'GIF8') return le16(6);
  if (ascii(0, 2) === 'BM') return Math.abs(le16(18) | (le16(20) << 16));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const kind = ascii(12, 4);
    if (kind === 'VP8 ') return le16(26) & 0x3fff;
    if (kind === 'VP8L') return 1 + (((at(22) & 0x3f) << 8) | at(21));
    if (kind === 'VP8X') return 1 + (at(24) | (at(25) << 8) | (at(26) << 16));
    return undefined;
  }
  if (at(0) === 0xff && at(1) === 0xd8) return jpegWidth(b, at, be16);
  return undefined;
}

function jpegWidth(
  b: Uint8Array,
  at: (i: number) => number,
  be16: (i: number) => number,
): number | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (at(i) !== 0xff) return undefined;
    const marker = at(i + 1);
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return be16(i + 7);
    }
    i += 2 + be16(i + 2);
  }
  return undefined;
}
