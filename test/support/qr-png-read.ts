import decodeQR from 'qr/decode.js';

// Reads what a person's phone would: a PNG (as qr-png.ts writes them: 1-bit grayscale, filter 0
// scanlines) back into pixels, and the QR code in it back into its text with `qr`'s decoder.

export interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** RGBA, 4 bytes a pixel. */
  rgba: Uint8Array;
}

export async function readPng(bytes: Uint8Array): Promise<Png> {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let header: DataView | null = null;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') header = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
    if (type === 'IEND') break;
  }
  if (!header) throw new Error('PNG without IHDR');
  const width = header.getUint32(0);
  const height = header.getUint32(4);
  const bitDepth = header.getUint8(8);
  const colorType = header.getUint8(9);
  if (bitDepth !== 1 || colorType !== 0) throw new Error(`only 1-bit grayscale is read here, not depth ${bitDepth} type ${colorType}`);
  const stream = new Blob(idat as Uint8Array<ArrayBuffer>[]).stream().pipeThrough(new DecompressionStream('deflate'));
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const rowBytes = Math.ceil(width / 8);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const start = y * (rowBytes + 1);
    if (raw[start] !== 0) throw new Error(`scanline ${y} uses filter ${raw[start]}`);
    for (let x = 0; x < width; x++) {
      const white = (raw[start + 1 + (x >> 3)]! >> (7 - (x & 7))) & 1;
      rgba.fill(white ? 255 : 0, (y * width + x) * 4, (y * width + x) * 4 + 3);
      rgba[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, bitDepth, colorType, rgba };
}

/** The text of the QR code in a PNG, as a scanner reads it. */
export async function scanQrPng(bytes: Uint8Array): Promise<string> {
  const png = await readPng(bytes);
  return decodeQR({ width: png.width, height: png.height, data: png.rgba }, { format: 'RGBA' });
}
