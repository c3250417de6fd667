/**
 * Reads one config file's bytes and decides whether they are usable text: size limit, control
 * bytes, UTF-8 validity, byte-order mark. Problems are pushed as diagnostics, never thrown.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Diagnostic } from './diagnostics.js';
import { at, type Position } from './source-positions.js';

/** Refuse files larger than this: a config is kilobytes; 10 MB is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;

function firstBinaryByte(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    // Control characters other than tab, newline and carriage return do not belong in YAML.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return i;
    if (b === 0x7f) return i;
  }
  return -1;
}

/**
 * Reads at most limit + 1 bytes: a device or pipe given as the config (/dev/zero, /dev/urandom)
 * has no size to check first and would otherwise be read until memory runs out.
 */
function readBounded(abs: string, limit: number): Buffer {
  const fd = openSync(abs, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 16, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Line and column (in characters) of a byte offset, for errors found before decoding. */
function byteOffsetPosition(bytes: Buffer, offset: number, display: string): Position {
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  return { file: display, line: before.split('\n').length, col: [...before.slice(lineStart)].length + 1 };
}

/** Decodes and checks one file; returns null (with errors pushed) when it cannot be used. */
export function readSource(abs: string, display: string, from: Position | null, errors: Diagnostic[], given?: Buffer): { text: string } | null {
  const where = from ?? { file: display, line: 1, col: 1 };
  if (given) return checkBytes(given, display, where, errors);
  let size: number;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) {
      errors.push(at(where, `${display} is a directory, not a config file`));
      return null;
    }
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    errors.push(at(where, code === 'ENOENT' ? `${display}: no such file` : `${display}: cannot read (${code ?? String(err)})`));
    return null;
  }
  if (size > MAX_CONFIG_BYTES) {
    errors.push(at(where, `${display} is ${size} bytes, more than the ${MAX_CONFIG_BYTES} allowed`, 'a config file is text of a few kilobytes'));
    return null;
  }
  let bytes: Buffer;
  try {
    bytes = readBounded(abs, MAX_CONFIG_BYTES);
  } catch (err) {
    errors.push(at(where, `${display}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`));
    return null;
  }
  return checkBytes(bytes, display, where, errors);
}

function checkBytes(bytes: Buffer, display: string, where: Position, errors: Diagnostic[]): { text: string } | null {
  if (bytes.length > MAX_CONFIG_BYTES) {
    errors.push(at(where, `${display} is ${bytes.length} bytes, more than the ${MAX_CONFIG_BYTES} allowed`, 'a config file is text of a few kilobytes'));
    return null;
  }
  const bad = firstBinaryByte(bytes);
  if (bad >= 0) {
    errors.push(at(byteOffsetPosition(bytes, bad, display), `not a text file (control byte 0x${bytes[bad].toString(16).padStart(2, '0')})`, 'is this the right file?'));
    return null;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const at16 = Math.max(0, lossy.indexOf('\uFFFD'));
    const badByte = Buffer.byteLength(lossy.slice(0, at16));
    errors.push(at(byteOffsetPosition(bytes, badByte, display), 'not a text file (invalid UTF-8)', 'is this the right file?'));
    return null;
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return { text };
}
