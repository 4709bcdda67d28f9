// merkle: RFC 9162 hashes and inclusion proofs (lib/merkle.c's
// gl_merkle_verify_inclusion and gl_merkle_prove_inclusion), with BigInt
// indices. A proof is built as lib/merkle.c builds it: RFC 9162's PATH
// gives the proof's leaf ranges D[lo:hi] (lo a multiple of the smallest
// power of two >= hi - lo); each range is a run of complete aligned
// subtrees, largest first, whose hashes (from a caller's source, e.g. the
// log's hash tiles) fold right to left into the range's hash.
import { equalBytes } from './codec.js';
import { sha256p } from './crypto.js';

export const leafHash = (entry) => sha256p(0x00, entry);
export const nodeHash = (l, r) => sha256p(0x01, l, r);

const bitlen = (x) => (x === 0n ? 0 : x.toString(2).length);
const popcount = (x) => [...x.toString(2)].filter((c) => c === '1').length;

// The root of a complete subtree: hashes.length is a power of two >= 1.
export async function completeHash(hashes) {
  let level = hashes;
  while (level.length > 1) {
    const up = [];
    for (let i = 0; i < level.length; i += 2) up.push(await nodeHash(level[i], level[i + 1]));
    level = up;
  }
  return level[0];
}

// The complete subtrees [[lo, hi], ...] of the range D[lo:hi], largest first.
function rangeSubtrees(lo, hi) {
  const out = [];
  while (lo < hi) {
    const k = 1n << BigInt(bitlen(hi - lo) - 1);
    out.push([lo, lo + k]);
    lo += k;
  }
  return out;
}

// RFC 9162 2.1.3.1 PATH(index, D[0:size]) as leaf ranges, the leaf's side first.
function inclusionRanges(index, size) {
  const out = [];
  let lo = 0n, hi = size;
  while (hi - lo > 1n) {
    const k = 1n << BigInt(bitlen(hi - lo - 1n) - 1); // the largest power of two < hi - lo
    if (index < lo + k) { out.push([lo + k, hi]); hi = lo + k; } else { out.push([lo, lo + k]); lo += k; }
  }
  return out.reverse();
}

// The inclusion proof of leaf index in the tree of size leaves; subtree(lo,
// hi) resolves to the hash of the complete subtree of leaves [lo, hi). Its
// hashes are only as good as the source's: verifyInclusion decides.
export async function proveInclusion(index, size, subtree) {
  if (inclusionLen(index, size) < 0) throw new RangeError(`index ${index} is outside a tree of size ${size}`);
  const proof = [];
  for (const [lo, hi] of inclusionRanges(index, size)) {
    const parts = rangeSubtrees(lo, hi);
    let h = await subtree(...parts[parts.length - 1]);
    for (let i = parts.length - 2; i >= 0; i--) h = await nodeHash(await subtree(...parts[i]), h);
    proof.push(h);
  }
  return proof;
}

export function inclusionLen(index, size) {
  if (index >= size || size > (1n << 63n)) return -1;
  const inner = bitlen(index ^ (size - 1n));
  return inner + (inner >= 64 ? 0 : popcount(index >> BigInt(inner)));
}

// 'ok', 'range' (index outside the tree) or 'bad'.
export async function verifyInclusion(index, size, leaf, proof, root) {
  const want = inclusionLen(index, size);
  if (want < 0) return 'range';
  if (proof.length !== want) return 'bad';
  let fn = index, sn = size - 1n, r = leaf;
  for (const p of proof) {
    if (sn === 0n) return 'bad';
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(r, root) ? 'ok' : 'bad';
}
