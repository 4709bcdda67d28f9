// merkle: RFC 9162 hashes and inclusion proofs (lib/merkle.c's
// gl_merkle_verify_inclusion), with BigInt indices.
import { equalBytes } from './codec.js';
import { sha256p } from './crypto.js';

export const leafHash = (entry) => sha256p(0x00, entry);
export const nodeHash = (l, r) => sha256p(0x01, l, r);

const bitlen = (x) => (x === 0n ? 0 : x.toString(2).length);
const popcount = (x) => [...x.toString(2)].filter((c) => c === '1').length;

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
