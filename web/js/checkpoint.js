// checkpoint: tlog-checkpoint text and tlog-cosignature/v1 lines, ported
// from lib/checkpoint.c and lib/cosig.c (same caps).
import { ParseError, bytes, b64decodeExact, parseU64, nextLine } from './codec.js';
import { textValid, KEY_COSIG } from './note.js';
import { ed25519Verify } from './crypto.js';

export const CHECKPOINT_TEXT_MAX = 16384;
export const CHECKPOINT_EXT_MAX = 16;
const TIME_MAX = (1n << 63n) - 1n; // also the largest tree size (as lib/checkpoint.c)

// {origin, size (BigInt), root (32 bytes), next}
export function parseCheckpoint(text) {
  if (text.length > CHECKPOINT_TEXT_MAX) throw new ParseError('checkpoint text over 16 KiB', 'toobig');
  if (!textValid(text)) throw new ParseError('checkpoint text is not valid note text');
  let l = nextLine(text, 0);
  if (!l || l.line.length === 0) throw new ParseError('no origin line');
  if (l.line.length > 256) throw new ParseError('origin longer than 256 bytes', 'toobig');
  const origin = l.line;
  l = nextLine(text, l.pos);
  if (!l) throw new ParseError('no size line');
  const size = parseU64(l.line);
  if (size > TIME_MAX) throw new ParseError('tree size exceeds 2^63-1');
  l = nextLine(text, l.pos);
  if (!l) throw new ParseError('no root hash line');
  const root = b64decodeExact(l.line, 32);
  let pos = l.pos, next = 0;
  while (pos < text.length) {
    l = nextLine(text, pos);
    if (!l || l.line.length === 0) throw new ParseError('empty extension line');
    if (++next > CHECKPOINT_EXT_MAX) throw new ParseError('more than 16 extension lines', 'toobig');
    pos = l.pos;
  }
  return { origin, size, root, next };
}

// Checks one signature line against witness key w (type 0x04): 'nokey'
// (not w's name and ID), 'invalid' or {time} (BigInt seconds).
export async function verifyCosig(w, text, sig) {
  if (w.type !== KEY_COSIG || sig.id !== w.id || sig.name !== w.name) return 'nokey';
  if (sig.sig.length !== 72 || text.length > CHECKPOINT_TEXT_MAX) return 'invalid';
  let t = 0n;
  for (let i = 0; i < 8; i++) t = t << 8n | BigInt(sig.sig[i]);
  if (t > TIME_MAX) return 'invalid';
  const msg = bytes('cosignature/v1\ntime ' + t.toString() + '\n' + text);
  return await ed25519Verify(w.pub, msg, sig.sig.slice(8)) ? { time: t } : 'invalid';
}

// gl_cosig_verify_note: per witness {status: 'cosigned'|'absent'|'invalid',
// time, line}. The witness's first line (its name and key ID) decides and
// its later lines are ignored, as Go's note verifier drops repeated
// signatures by one key; line is the index in note.sigs of that line, -1
// unless cosigned.
export async function verifyCosigs(note, witnesses) {
  const out = [];
  for (const w of witnesses) {
    let st = { status: 'absent', time: 0n, line: -1 };
    for (let i = 0; i < note.sigs.length; i++) {
      const r = await verifyCosig(w, note.text, note.sigs[i]);
      if (r === 'nokey') continue;
      st = r === 'invalid' ? { status: 'invalid', time: 0n, line: -1 }
        : { status: 'cosigned', time: r.time, line: i };
      break;
    }
    out.push(st);
  }
  return out;
}
