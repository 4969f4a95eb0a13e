import { DeepspError } from "./errors.ts";

/**
 * Base64 (RFC 4648, standard alphabet, padded) for binary data in JSON files (model weights, checkpoints),
 * identical in Node, browsers and Workers without Buffer or atob/btoa.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const CODES = new Uint8Array(ALPHABET.length);
const DIGITS = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  CODES[i] = ALPHABET.charCodeAt(i);
  DIGITS[ALPHABET.charCodeAt(i)] = i;
}

/** Bytes -> base64 text. */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = CODES[(n >>> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? CODES[(n >>> 6) & 63]! : 61; // "="
    out[o++] = 61;
  }
  let text = "";
  for (let start = 0; start < out.length; start += 8192) {
    text += String.fromCharCode(...out.subarray(start, start + 8192));
  }
  return text;
}

/** Base64 text -> bytes; throws DeepspError ("base64/invalid") on any character outside the alphabet or bad padding. */
export function decodeBase64(text: string): Uint8Array {
  const invalid = (why: string) => new DeepspError("base64/invalid", `not valid base64: ${why}`);
  if (text.length % 4 !== 0) throw invalid(`length ${text.length} is not a multiple of 4`);
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  const digit = (i: number): number => {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DIGITS[code]! : -1;
    if (value < 0) {
      throw invalid(`character ${JSON.stringify(text[i])} at position ${i}`);
    }
    return value;
  };
  let o = 0;
  const end = text.length - (padding > 0 ? 4 : 0);
  for (let i = 0; i < end; i += 4) {
    const n = (digit(i) << 18) | (digit(i + 1) << 12) | (digit(i + 2) << 6) | digit(i + 3);
    bytes[o++] = n >>> 16;
    bytes[o++] = (n >>> 8) & 255;
    bytes[o++] = n & 255;
  }
  if (padding > 0) {
    const n = (digit(end) << 18) | (digit(end + 1) << 12) | (padding === 1 ? digit(end + 2) << 6 : 0);
    bytes[o++] = n >>> 16;
    if (padding === 1) bytes[o++] = (n >>> 8) & 255;
  }
  return bytes;
}
