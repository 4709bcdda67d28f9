// hash-worker: hashes a File in slices with the incremental SHA-256,
// posting {done} after each slice and {digest} at the end.
import { Sha256 } from './sha256.js';

onmessage = async (e) => {
  const { file, chunk } = e.data;
  try {
    const h = new Sha256();
    for (let off = 0; off < file.size; off += chunk) {
      h.update(new Uint8Array(await file.slice(off, off + chunk).arrayBuffer()));
      postMessage({ done: Math.min(off + chunk, file.size) });
    }
    postMessage({ digest: h.digest() });
  } catch (err) {
    postMessage({ error: String(err && err.message || err) });
  }
};
