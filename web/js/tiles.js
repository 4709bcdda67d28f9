// tiles: C2SP tlog-tiles (lib/tile.c): entry bundle and hash tile paths
// and decoding, and the hash of a complete subtree read from hash tiles.
// A subtree of 2^(8L + k) leaves (k < 8) is 2^k consecutive hashes of one
// level-L tile, starting at a multiple of 2^k (gl_tile_locate), hashed up
// k levels. Tile widths are those of a tree of a given size, so a tile
// read for a checkpoint is the prefix of the log's growing tile it names.
//
// Partial tiles that are gone: tlog-tiles lets a log (or a copy of it)
// stop serving tile/L/N.p/W once tile/L/N is full. getTile is the one
// place the explorer reads tiles, and falls back as lib/tile.c's
// gl_tile_fetch does: a 404 on a partial path, and only then, asks for
// the full tile, which must be whole (256 hashes, exactly 8192 bytes, or
// a bundle of exactly 256 entries) before its first W hashes or entries
// are kept; a short or malformed full tile is refused, never padded. The
// caller checks what is kept exactly as it would the partial tile
// (decodeHashTile or decodeBundle with width W, then against the signed
// root), so a full tile that lies is caught all the same.
import { ParseError } from './codec.js';
import { completeHash } from './merkle.js';

export const TILE_WIDTH = 256;
export const HASH_LEN = 32;
export const BUNDLE_MAX = TILE_WIDTH * (2 + 65535); // bytes of a full bundle at most

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

// The path of hash tile n (BigInt) at level, or of entry bundle n when
// level is 'entries', of width w.
function pathOf(level, n, w) {
  return (level === 'entries' ? '/tile/entries/' : `/tile/${level}/`) + tileIndex(n) + (w < TILE_WIDTH ? `.p/${w}` : '');
}

export const bundleWidth = (n, size) => tileWidth(0, n, size);

// The path of hash tile n (BigInt) at level (0..7) of a tree of size leaves.
export function tilePath(level, n, size) {
  return pathOf(level, n, tileWidth(level, n, size));
}

// The bytes of hash tile n (BigInt) at level (0..7), or of entry bundle
// n when level is 'entries', of a tree of size leaves, through
// get(path, cap, { allow404, what }) (api.js's get): the partial tile, or
// the first W hashes or entries of the full one when the partial path
// answers 404 (see above). Throws get's errors, or a ParseError for a
// full tile that is not whole.
export async function getTile(get, level, n, size, what) {
  const entries = level === 'entries', width = tileWidth(entries ? 0 : level, n, size);
  const path = pathOf(level, n, width), full = pathOf(level, n, TILE_WIDTH);
  const cap = (w) => (entries ? BUNDLE_MAX : w * HASH_LEN);
  const data = await get(path, cap(width), { allow404: width < TILE_WIDTH, what });
  if (data !== null) return data;
  const whole = await get(full, cap(TILE_WIDTH), { what: `${what} (${path} answered 404, so its full tile)` });
  try {
    return trimFull(whole, entries, width);
  } catch (e) {
    throw new ParseError(`${path} answered 404, and its full tile is not whole: ${e.message}`);
  }
}

// The first width hashes or entries of a whole full tile (gl_tile_trim).
function trimFull(data, entries, width) {
  if (!entries) {
    if (data.length !== TILE_WIDTH * HASH_LEN) throw new ParseError(`${data.length} bytes, not a full tile of ${TILE_WIDTH} hashes`);
    return data.subarray(0, width * HASH_LEN);
  }
  let e;
  try { e = decodeBundle(data, TILE_WIDTH); } catch {
    throw new ParseError(`${data.length} bytes, not a bundle of ${TILE_WIDTH} entries`);
  }
  const last = e[width - 1];
  return data.subarray(0, last.byteOffset - data.byteOffset + last.length);
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
  if (data.length > BUNDLE_MAX) throw new ParseError('entry bundle too large', 'toobig');
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
