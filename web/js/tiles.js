// tiles: C2SP tlog-tiles (lib/tile.c): entry bundle and hash tile paths
// and decoding, and the hash of a complete subtree read from hash tiles.
// A subtree of 2^(8L + k) leaves (k < 8) is 2^k consecutive hashes of one
// level-L tile, starting at a multiple of 2^k (gl_tile_locate), hashed up
// k levels. Tile widths are those of a tree of a given size, so a tile
// read for a checkpoint is the prefix of the log's growing tile it names.
import { ParseError } from './codec.js';
import { completeHash } from './merkle.js';

export const TILE_WIDTH = 256;
export const HASH_LEN = 32;

// "x001/x234/067" for 1234067.
export function tileIndex(n) {
  let d = n.toString();
  d = '0'.repeat((3 - d.length % 3) % 3) + d;
  const g = d.match(/.../g);
  return g.map((x, i) => (i < g.length - 1 ? 'x' + x : x)).join('/');
}

// The width of tile n (BigInt) at level (0..7) of a tree of size leaves
// (gl_tile_width); 0 if the tree has no such tile.
export function tileWidth(level, n, size) {
  const hashes = size >> BigInt(8 * level), full = hashes / 256n;
  if (n < full) return TILE_WIDTH;
  return n === full ? Number(hashes % 256n) : 0;
}

const suffix = (w) => (w < TILE_WIDTH ? '.p/' + w.toString() : '');

// The path of entry bundle n (BigInt) of a tree of size entries.
export function bundlePath(n, size) {
  return '/tile/entries/' + tileIndex(n) + suffix(tileWidth(0, n, size));
}

export const bundleWidth = (n, size) => tileWidth(0, n, size);

// The path of hash tile n (BigInt) at level (0..7) of a tree of size leaves.
export function tilePath(level, n, size) {
  return `/tile/${level}/${tileIndex(n)}${suffix(tileWidth(level, n, size))}`;
}

// The hashes (Uint8Array(32) views) of a hash tile that must hold want.
export function decodeHashTile(data, want) {
  if (data.length !== want * HASH_LEN) throw new ParseError(`the hash tile holds ${data.length} bytes, not ${want * HASH_LEN}`);
  const out = [];
  for (let i = 0; i < want; i++) out.push(data.subarray(i * HASH_LEN, (i + 1) * HASH_LEN));
  return out;
}

// A subtree(lo, hi) for merkle.proveInclusion over a tree of size leaves:
// the hash of the complete subtree of leaves [lo, hi), from the hashes of
// tile(level, n, width) (resolving to decodeHashTile's array). Remembers
// the hashes it computed.
export function tileSubtrees(size, tile) {
  const memo = new Map();
  return (lo, hi) => {
    const key = `${lo}-${hi}`;
    if (!memo.has(key)) {
      const height = (hi - lo).toString(2).length - 1, level = Math.floor(height / 8), k = height % 8;
      const first = lo >> BigInt(8 * level), n = first / 256n, start = Number(first % 256n);
      const width = tileWidth(level, n, size);
      if (hi > size || level > 7 || start + (1 << k) > width) throw new RangeError(`leaves ${lo} to ${hi} are outside a tree of size ${size}`);
      memo.set(key, tile(level, n, width).then((h) => completeHash(h.slice(start, start + (1 << k)))));
    }
    return memo.get(key);
  };
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
