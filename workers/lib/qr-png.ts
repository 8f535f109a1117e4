import encodeQR from 'qr';

// A QR code as a PNG, in plain TypeScript: `qr` gives the modules, this writes them as a 1-bit
// grayscale PNG (IHDR, one zlib-compressed IDAT through the runtime's CompressionStream, IEND).
// Chat platforms take PNG photos and attachments, not the GIF or SVG `qr` writes itself, and a
// rasterizer would be a native or wasm dependency for a black-and-white grid.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG of `text` as a QR code: `scale` pixels per module, the quiet zone of 4 modules included. */
export async function qrPng(text: string, scale = 6): Promise<Uint8Array> {
  const modules = encodeQR(text, 'raw', { ecc: 'medium', border: 4 });
  const size = modules.length * scale;
  const rowBytes = Math.ceil(size / 8);
  // Each scanline: filter byte 0 (none), then 8 pixels a byte, 1 = white (grayscale bit depth 1).
  const raw = new Uint8Array((rowBytes + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = modules[Math.floor(y / scale)]!;
    const start = y * (rowBytes + 1) + 1;
    raw.fill(0xff, start, start + rowBytes);
    for (let x = 0; x < size; x++) {
      if (row[Math.floor(x / scale)]) raw[start + (x >> 3)]! &= ~(0x80 >> (x & 7));
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, size);
  view.setUint32(4, size);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, grayscale, deflate, adaptive filtering, no interlace
  const idat = await zlib(raw);
  return concat([Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

async function zlib(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

let table: Uint32Array | null = null;

/** CRC-32 (ISO-HDLC), as PNG chunks carry it over type and data. */
function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
