// hash: a file's SHA-256 in the browser; nothing is uploaded. Files up to
// ONE_SHOT bytes go to WebCrypto in one piece; larger ones are read in
// CHUNK slices and hashed incrementally (sha256.js) in a worker, with
// progress, since WebCrypto has no incremental digest.
import { sha256 } from './crypto.js';

export const ONE_SHOT = 64 << 20;
export const CHUNK = 4 << 20;

// onProgress(done, total) is called as the file is read. stale() says
// whether the hash is still wanted: once it is not, hashFile reports no
// more progress and throws (a worker is ended at its next slice).
export async function hashFile(file, onProgress = () => {}, stale = () => false) {
  if (file.size <= ONE_SHOT) {
    onProgress(0, file.size);
    const d = await sha256(new Uint8Array(await file.arrayBuffer()));
    if (stale()) throw new Error('no longer wanted');
    onProgress(file.size, file.size);
    return d;
  }
  const w = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      w.onmessage = (e) => {
        if (stale()) reject(new Error('no longer wanted'));
        else if (e.data.error) reject(new Error(e.data.error));
        else if (e.data.digest) resolve(e.data.digest);
        else onProgress(e.data.done, file.size);
      };
      w.onerror = (e) => reject(new Error(`hashing failed: ${e.message}`));
      w.postMessage({ file, chunk: CHUNK });
    });
  } finally {
    w.terminate();
  }
}
