import { hannWindow, nextPowerOfTwo, RealFft } from "../../dsp/fft.ts";
import { coordinate, escapeXml, formatNumber } from "./svg.ts";

/**
 * Spectrogram images for the report: STFT magnitude in dB on a logarithmic frequency axis, coloured with
 * viridis, as RGBA pixels (the PNG encoding is the caller's: src/node/report.ts uses pngjs), plus the SVG
 * axes and colour bar drawn beside the image. Platform-neutral.
 *
 * The frequency axis is logarithmic (from about one FFT bin, at least 20 Hz, to Nyquist): octaves get equal
 * height, as the ear hears them and as audio effects (filters, harmonics of a drive) are read. A row that
 * spans several bins shows their maximum; a row narrower than a bin interpolates between its neighbours.
 */

export interface SpectrogramOptions {
  /** Image columns (frames, spread evenly over the audio). Default 800. */
  width?: number;
  /** Image rows (log-spaced frequency bands). Default 256. */
  height?: number;
  /** FFT size; default the smallest power of two of at least 24 ms (256 at 8 kHz, 2048 at 44.1/48 kHz). */
  fftSize?: number;
  /** Lowest frequency shown, Hz; default max(20, sampleRate / fftSize). */
  minHz?: number;
}

export interface Spectrogram {
  width: number;
  height: number;
  /** dB per pixel, row-major, row 0 at the top (maxHz): 20 log10 of the amplitude a sine would have. */
  db: Float32Array;
  minHz: number;
  maxHz: number;
  fftSize: number;
  /** Duration of the audio, seconds. */
  seconds: number;
}

/**
 * STFT of `samples` (Hann window, frames centred on `width` evenly spaced instants, zero-padded at the
 * edges), magnitude in dB scaled so a full-scale sine reads 0 dB, resampled to `height` log-spaced rows.
 */
export function spectrogram(
  samples: Float32Array,
  sampleRate: number,
  options: SpectrogramOptions = {},
): Spectrogram {
  const width = options.width ?? 800;
  const height = options.height ?? 256;
  const fftSize =
    options.fftSize ?? Math.min(16384, Math.max(64, nextPowerOfTwo(Math.round(sampleRate * 0.032 * 0.75))));
  const binHz = sampleRate / fftSize;
  const maxHz = sampleRate / 2;
  const minHz = options.minHz ?? Math.max(20, binHz);
  if (!(minHz > 0 && minHz < maxHz)) {
    throw new RangeError(`spectrogram: minHz must be in (0, ${maxHz}), got ${minHz}`);
  }
  const fft = new RealFft(fftSize);
  const window = hannWindow(fftSize);
  let windowSum = 0;
  for (const w of window) windowSum += w;
  const frame = new Float64Array(fftSize);
  const spectrum = new Float64Array(fftSize + 2);
  const bins = fftSize / 2 + 1;
  const power = new Float64Array(bins);

  // Each row's band [lo, hi) in Hz, log-spaced from maxHz (row 0) down to minHz.
  const rows = Array.from({ length: height }, (_, r) => {
    const hi = maxHz * (minHz / maxHz) ** (r / height);
    const lo = maxHz * (minHz / maxHz) ** ((r + 1) / height);
    return {
      first: Math.ceil(lo / binHz),
      last: Math.min(bins - 1, Math.floor(hi / binHz)),
      centre: Math.sqrt(lo * hi) / binHz,
    };
  });

  const db = new Float32Array(width * height);
  const n = samples.length;
  const scale = (2 / windowSum) ** 2;
  for (let x = 0; x < width; x++) {
    const centre = width === 1 ? n / 2 : (x / (width - 1)) * n;
    const start = Math.round(centre - fftSize / 2);
    for (let i = 0; i < fftSize; i++) {
      const t = start + i;
      frame[i] = t >= 0 && t < n ? samples[t]! * window[i]! : 0;
    }
    fft.forward(spectrum, frame);
    for (let k = 0; k < bins; k++) power[k] = (spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2) * scale;
    for (let r = 0; r < height; r++) {
      const { first, last, centre: at } = rows[r]!;
      let value = 0;
      if (first <= last) {
        for (let k = first; k <= last; k++) value = Math.max(value, power[k]!);
      } else {
        const k = Math.min(bins - 2, Math.floor(at));
        const fraction = at - k;
        value = power[k]! * (1 - fraction) + power[k + 1]! * fraction;
      }
      db[r * width + x] = 10 * Math.log10(value + 1e-20);
    }
  }
  return { width, height, db, minHz, maxHz, fftSize, seconds: n / sampleRate };
}

// Viridis (Stéfan van der Walt & Nathaniel Smith, matplotlib 2.0's default colour map: perceptually uniform,
// readable in greyscale and by colour-blind readers). These are its 256 colours exactly: the float table
// `_viridis_data` of matplotlib's lib/matplotlib/_cm_listed.py (from https://github.com/BIDS/colormap,
// CC0), each channel rounded to 8 bits, as hex RRGGBB. (Polynomial fits such as Matt Zucker's are off by up
// to 3/255 at the ends; the table costs 1.5 kB.)
const VIRIDIS_HEX = [
  "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769",
  "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a",
  "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85",
  "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b",
  "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d",
  "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e",
  "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e",
  "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d",
  "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88",
  "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81",
  "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74",
  "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863",
  "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d",
  "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32",
  "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a",
  "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725",
].join("");

/** The 256 viridis colours as [r, g, b] 0..255. */
const VIRIDIS: readonly (readonly [number, number, number])[] = Array.from({ length: 256 }, (_, i) => {
  const at = (k: number) => Number.parseInt(VIRIDIS_HEX.slice(6 * i + 2 * k, 6 * i + 2 * k + 2), 16);
  return [at(0), at(1), at(2)] as const;
});

/**
 * Viridis at t in [0, 1] (clamped; NaN as 0) as 0..255 RGB, the nearest of its 256 colours: t = 0 is dark
 * purple (#440154), 0.5 teal (#21918c), 1 yellow (#fde725).
 */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t));
  const [r, g, b] = VIRIDIS[Math.round(x * 255)]!;
  return [r, g, b];
}

/** "#rrggbb" of viridis(t). */
export function viridisHex(t: number): string {
  return `#${viridis(t)
    .map((v) => v.toString(16).padStart(2, "0"))
    .join("")}`;
}

/**
 * RGBA pixels (width x height x 4, row-major, opaque) of a spectrogram: floorDb and below map to viridis(0),
 * ceilDb and above to viridis(1). Pass the same range for spectrograms that should be compared by colour.
 */
export function spectrogramRgba(spec: Spectrogram, range: { floorDb: number; ceilDb: number }): Uint8Array {
  const rgba = new Uint8Array(spec.width * spec.height * 4);
  const span = range.ceilDb - range.floorDb || 1;
  for (let i = 0; i < spec.db.length; i++) {
    const t = (spec.db[i]! - range.floorDb) / span;
    const [r, g, b] = VIRIDIS[Math.round(Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)) * 255)]!;
    rgba[4 * i] = r;
    rgba[4 * i + 1] = g;
    rgba[4 * i + 2] = b;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** Largest dB value of the spectrograms (the top of a shared colour range), -Infinity for none. */
export function peakDb(...specs: Spectrogram[]): number {
  let peak = Number.NEGATIVE_INFINITY;
  for (const spec of specs) for (const value of spec.db) if (value > peak) peak = value;
  return peak;
}

/** Frequencies worth a tick between minHz and maxHz: 1, 2, 5 x 10^k Hz. */
function frequencyTicks(minHz: number, maxHz: number): number[] {
  const ticks: number[] = [];
  for (let power = 1; power <= 100000; power *= 10) {
    for (const m of [1, 2, 5]) {
      const f = m * power;
      if (f >= minHz && f <= maxHz) ticks.push(f);
    }
  }
  return ticks;
}

/** Height-high SVG with the log frequency axis of `spec` (labels in Hz / kHz), to the left of the image. */
export function frequencyAxisSvg(spec: Spectrogram, width = 56): string {
  const { height, minHz, maxHz } = spec;
  const yOf = (f: number) => (Math.log(maxHz / f) / Math.log(maxHz / minHz)) * height;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10" aria-label="frequency axis, logarithmic">`,
    `<line x1="${width - 1}" x2="${width - 1}" y1="0" y2="${height}" stroke="#555"/>`,
  ];
  for (const f of frequencyTicks(minHz, maxHz)) {
    const y = coordinate(yOf(f));
    const label = f >= 1000 ? `${f / 1000}k` : `${f}`;
    parts.push(
      `<line x1="${width - 6}" x2="${width - 1}" y1="${y}" y2="${y}" stroke="#555"/>`,
      `<text x="${width - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${label}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(10 ${height / 2}) rotate(-90)" text-anchor="middle">Hz (log)</text>`,
    "</svg>",
  );
  return parts.join("");
}

/** Width-wide SVG with a time axis from 0 to `seconds` (s, or ms under a second), below the image. */
export function timeAxisSvg(seconds: number, width: number, height = 30): string {
  const inMs = seconds < 1;
  const unit = inMs ? 1000 : 1;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10" aria-label="time axis">`,
    `<line x1="0" x2="${width}" y1="0.5" y2="0.5" stroke="#555"/>`,
  ];
  const span = seconds * unit;
  const raw = span / 8;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? power;
  for (let t = 0; t <= span + 1e-9 && span > 0; t += step) {
    const x = coordinate(Math.min(width - 1, (t / span) * width));
    const anchor = t === 0 ? "start" : t + step > span ? "end" : "middle";
    parts.push(
      `<line x1="${x}" x2="${x}" y1="0" y2="5" stroke="#555"/>`,
      `<text x="${x}" y="16" text-anchor="${anchor}">${formatNumber(t, 4)}</text>`,
    );
  }
  parts.push(
    `<text x="${width / 2}" y="${height - 2}" text-anchor="middle">time (${inMs ? "ms" : "s"})</text>`,
    "</svg>",
  );
  return parts.join("");
}

/** A vertical colour bar SVG: viridis from floorDb (bottom) to ceilDb (top), labelled in dB. */
export function colorBarSvg(range: { floorDb: number; ceilDb: number }, height: number, width = 64): string {
  const stops = Array.from({ length: 17 }, (_, i) => {
    const t = i / 16;
    return `<stop offset="${coordinate(t * 100)}%" stop-color="${viridisHex(1 - t)}"/>`;
  }).join("");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10" aria-label="colour scale in dB">`,
    `<defs><linearGradient id="viridis" x1="0" x2="0" y1="0" y2="1">${stops}</linearGradient></defs>`,
    `<rect x="4" y="0" width="14" height="${height}" fill="url(#viridis)"/>`,
  ];
  const span = range.ceilDb - range.floorDb;
  const step = span > 60 ? 20 : 10;
  for (let db = Math.ceil(range.floorDb / step) * step; db <= range.ceilDb; db += step) {
    const at = ((range.ceilDb - db) / span) * (height - 1) + 0.5;
    const y = coordinate(at);
    // Labels at the ends stay inside the SVG.
    const labelY = coordinate(Math.min(height - 6, Math.max(6, at)));
    parts.push(
      `<line x1="18" x2="22" y1="${y}" y2="${y}" stroke="#555"/>`,
      `<text x="24" y="${labelY}" dominant-baseline="middle">${escapeXml(formatNumber(db, 3))} dB</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
