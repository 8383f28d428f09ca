/**
 * The intrinsic size in pixels of a PNG, GIF, BMP, WebP or JPEG image, read from its first bytes, or
 * undefined when the bytes are none of these or too short. Used only to decide whether an image in the
 * message frame gets a "show it whole" toggle, and how big that shows it (sanitize.ts).
 */
export interface Size {
  width: number;
  height: number;
}

export function imageSize(b: Uint8Array): Size | undefined {
  const size = read(b);
  return size && size.width > 0 && size.height > 0 && size.width < 65_536 && size.height < 65_536
    ? size
    : undefined;
}

function read(b: Uint8Array): Size | undefined {
  const at = (i: number): number => b[i] ?? 0;
  const be16 = (i: number): number => (at(i) << 8) | at(i + 1);
  const le16 = (i: number): number => at(i) | (at(i + 1) << 8);
  const ascii = (i: number, n: number): string => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length < 30) return undefined;
  const le32 = (i: number): number => le16(i) | (le16(i + 2) << 16);
  const be32 = (i: number): number => ((be16(i) << 16) | be16(i + 2)) >>> 0;
  if (ascii(1, 3) === 'PNG') return { width: be32(16), height: be32(20) };
  if (ascii(0, 4) === 'GIF8') return { width: le16(6), height: le16(8) };
  if (ascii(0, 2) === 'BM') return { width: Math.abs(le32(18)), height: Math.abs(le32(22)) };
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const kind = ascii(12, 4);
    if (kind === 'VP8 ') return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
    if (kind === 'VP8L') {
      const bits = le32(21);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
    }
    if (kind === 'VP8X') {
      return {
        width: 1 + (at(24) | (at(25) << 8) | (at(26) << 16)),
        height: 1 + (at(27) | (at(28) << 8) | (at(29) << 16)),
      };
    }
    return undefined;
  }
  if (at(0) === 0xff && at(1) === 0xd8) return jpegSize(b, at, be16);
  return undefined;
}

function jpegSize(b: Uint8Array, at: (i: number) => number, be16: (i: number) => number): Size | undefined {
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
      return { width: be16(i + 7), height: be16(i + 5) };
    }
    i += 2 + be16(i + 2);
  }
  return undefined;
}
