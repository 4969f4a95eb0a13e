/**
 * Byte-level builders for hand-made WAV files, so a test reads like the file it describes:
 *   riff([fmtChunk({ formatTag: 1, channelCount: 2, sampleRate: 48000, bitsPerSample: 16 }), chunk("data", s16(0, -1))])
 * Every field can be set to a wrong value on purpose (sizes, blockAlign, GUID...) to build broken files.
 */

/** Concatenates byte arrays / byte lists into one Uint8Array. */
export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** ASCII bytes of a string (chunk ids, text payloads). */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

export function u16(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(2 * values.length));
  values.forEach((v, i) => {
    view.setUint16(2 * i, v, true);
  });
  return new Uint8Array(view.buffer);
}

export function u32(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => {
    view.setUint32(4 * i, v >>> 0, true);
  });
  return new Uint8Array(view.buffer);
}

/** Unsigned 8-bit samples, given as the raw byte values (128 = silence). */
export function u8(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Signed 16-bit little-endian samples. */
export function s16(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(2 * values.length));
  values.forEach((v, i) => {
    view.setInt16(2 * i, v, true);
  });
  return new Uint8Array(view.buffer);
}

/** Signed 24-bit little-endian samples (values in [-2^23, 2^23); 0x800000 and up are taken as two's complement). */
export function s24(...values: number[]): Uint8Array {
  const out = new Uint8Array(3 * values.length);
  values.forEach((v, i) => {
    out[3 * i] = v & 0xff;
    out[3 * i + 1] = (v >> 8) & 0xff;
    out[3 * i + 2] = (v >> 16) & 0xff;
  });
  return out;
}

/** Signed 32-bit little-endian samples. */
export function s32(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => {
    view.setInt32(4 * i, v, true);
  });
  return new Uint8Array(view.buffer);
}

export function f32(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true);
  });
  return new Uint8Array(view.buffer);
}

export function f64(...values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(8 * values.length));
  values.forEach((v, i) => {
    view.setFloat64(8 * i, v, true);
  });
  return new Uint8Array(view.buffer);
}

/**
 * One RIFF chunk: id, 32-bit size, payload, and a pad byte when the payload is odd (unless `pad: false`).
 * `size` overrides the declared size (to build truncated or streamed chunks).
 */
export function chunk(
  id: string,
  payload: Uint8Array,
  options: { size?: number; pad?: boolean } = {},
): Uint8Array {
  const padByte = (options.pad ?? true) && payload.length % 2 === 1 ? [0] : [];
  return concat(ascii(id), u32(options.size ?? payload.length), payload, padByte);
}

/**
 * "RIFF" <size> "WAVE" followed by the chunks. `size` overrides the RIFF size (default: the real length - 8);
 * `magic` / `form` replace "RIFF" / "WAVE" to build files of other kinds.
 */
export function riff(
  chunks: Uint8Array[],
  options: { size?: number; magic?: string; form?: string } = {},
): Uint8Array {
  const body = concat(...chunks);
  return concat(
    ascii(options.magic ?? "RIFF"),
    u32(options.size ?? body.length + 4),
    ascii(options.form ?? "WAVE"),
    body,
  );
}

export interface FmtFields {
  formatTag: number;
  channelCount: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Default channelCount * bitsPerSample / 8. */
  blockAlign?: number;
  /** Default sampleRate * blockAlign. */
  byteRate?: number;
  /** Writes an 18-byte fmt with this cbSize (and cbSize zero bytes of extra data). */
  cbSize?: number;
  /** Writes the 40-byte WAVE_FORMAT_EXTENSIBLE fmt (formatTag should then be 0xFFFE). */
  extensible?: { validBits: number; channelMask: number; subFormat: number | Uint8Array };
}

/** A "fmt " chunk: 16 bytes (plain), 18 + cbSize (with cbSize), or 40 (extensible). */
export function fmtChunk(fields: FmtFields): Uint8Array {
  const blockAlign = fields.blockAlign ?? (fields.channelCount * fields.bitsPerSample) / 8;
  const byteRate = fields.byteRate ?? fields.sampleRate * blockAlign;
  const base = concat(
    u16(fields.formatTag, fields.channelCount),
    u32(fields.sampleRate, byteRate),
    u16(blockAlign, fields.bitsPerSample),
  );
  const ext = fields.extensible;
  if (ext !== undefined) {
    const guid = typeof ext.subFormat === "number" ? subFormatGuid(ext.subFormat) : ext.subFormat;
    return chunk("fmt ", concat(base, u16(22, ext.validBits), u32(ext.channelMask), guid));
  }
  if (fields.cbSize !== undefined) {
    return chunk("fmt ", concat(base, u16(fields.cbSize), new Uint8Array(fields.cbSize)));
  }
  return chunk("fmt ", base);
}

/** KSDATAFORMAT_SUBTYPE GUID for a format tag: {tag}-0000-0010-8000-00AA00389B71 in file byte order. */
export function subFormatGuid(tag: number): Uint8Array {
  return concat(u16(tag, 0), [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
}

/** The common case: a plain PCM file with a 16-byte fmt and a data chunk, samples already encoded. */
export function pcmWav(
  channelCount: number,
  sampleRate: number,
  bitsPerSample: number,
  samples: Uint8Array,
): Uint8Array {
  return riff([fmtChunk({ formatTag: 1, channelCount, sampleRate, bitsPerSample }), chunk("data", samples)]);
}
