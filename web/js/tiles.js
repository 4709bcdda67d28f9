// tiles: C2SP tlog-tiles entry bundles (lib/tile.c): paths and decoding.
import { ParseError } from './codec.js';

export const TILE_WIDTH = 256;

// "x001/x234/067" for 1234067.
export function tileIndex(n) {
  let d = n.toString();
  d = '0'.repeat((3 - d.length % 3) % 3) + d;
  const g = d.match(/.../g);
  return g.map((x, i) => (i < g.length - 1 ? 'x' + x : x)).join('/');
}

// The path of entry bundle n (BigInt) of a tree of size entries.
export function bundlePath(n, size) {
  const full = size / 256n, w = n < full ? 256n : size - n * 256n;
  return '/tile/entries/' + tileIndex(n) + (w < 256n ? '.p/' + w.toString() : '');
}

export function bundleWidth(n, size) {
  return Number(n < size / 256n ? 256n : size - n * 256n);
}

// The entries (Uint8Array views) of a bundle that must hold want of them.
export function decodeBundle(data, want) {
  const out = [];
  let at = 0;
  if (data.length > TILE_WIDTH * (2 + 65535)) throw new ParseError('entry bundle too large', 'toobig');
  while (at < data.length) {
    if (out.length === want || data.length - at < 2) throw new ParseError('trailing bytes in the entry bundle');
    const n = data[at] << 8 | data[at + 1];
    at += 2;
    if (data.length - at < n) throw new ParseError('truncated entry in the entry bundle');
    out.push(data.subarray(at, at + n));
    at += n;
  }
  if (out.length !== want) throw new ParseError(`the entry bundle holds ${out.length} entries, not ${want}`);
  return out;
}
