// crypto: WebCrypto's SHA-256 and Ed25519, and why they may be missing.
// Browsers offer crypto.subtle only in a secure context (HTTPS, or
// http://localhost / 127.0.0.1); Ed25519 needs a recent browser.
import { concat } from './codec.js';

export async function sha256(u8) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', u8));
}

// SHA-256(prefix byte || parts...): RFC 9162 leaf and node hashes.
export function sha256p(prefix, ...parts) {
  return sha256(concat(Uint8Array.of(prefix), ...parts));
}

const keyCache = new Map();

// 1 if sig (64 bytes) is pub's (32 bytes) Ed25519 signature of msg.
export async function ed25519Verify(pub, msg, sig) {
  if (sig.length !== 64) return false;
  const id = String.fromCharCode(...pub);
  let key = keyCache.get(id);
  if (!key) {
    key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(id, key);
  }
  return crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg);
}

// null when this page can verify, else one sentence saying why not.
export async function unavailable() {
  if (!globalThis.isSecureContext || !globalThis.crypto || !crypto.subtle)
    return 'This browser offers no WebCrypto here: browsers allow it only on HTTPS ' +
      'pages or on http://localhost. Open the explorer over HTTPS (see the README: ' +
      'put a TLS reverse proxy in front of glasslogd) or on localhost.';
  try {
    await crypto.subtle.importKey('raw', Uint8Array.from([
      0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
      0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a]),
    { name: 'Ed25519' }, false, ['verify']);
    await crypto.subtle.digest('SHA-256', new Uint8Array(1));
  } catch {
    return 'This browser\'s WebCrypto has no Ed25519, which every signature here needs: ' +
      'use a current Chromium, Firefox or Safari.';
  }
  return null;
}
