import { coordinate, escapeXml, formatNumber, niceTicks } from "./svg.ts";

/**
 * Waveform overlays for the report (target and model output as two coloured lines in one SVG), the
 * min/max decimation that keeps every peak when a view has more samples than pixels, and the pickers for
 * the zoomed views: the largest onset (a transient) and the steadiest loud stretch (a held tone).
 * Platform-neutral.
 */

/** Per-column extremes of samples [start, end): min[i], max[i] over column i's samples. */
export interface MinMax {
  min: Float32Array;
  max: Float32Array;
}

/**
 * Min/max decimation: splits samples [start, end) into `columns` consecutive, near-equal runs and keeps the
 * smallest and largest value of each, so a drawn column spans every sample it stands for and no peak is
 * lost (plain subsampling would drop them). Needs end - start >= columns >= 1.
 */
export function minMaxDecimate(
  samples: ArrayLike<number>,
  start: number,
  end: number,
  columns: number,
): MinMax {
  const n = end - start;
  if (!(Number.isInteger(columns) && columns >= 1 && n >= columns)) {
    throw new RangeError(`minMaxDecimate: need end - start (${n}) >= columns (${columns}) >= 1`);
  }
  const min = new Float32Array(columns);
  const max = new Float32Array(columns);
  for (let column = 0; column < columns; column++) {
    const from = start + Math.floor((column * n) / columns);
    const to = start + Math.floor(((column + 1) * n) / columns);
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let i = from; i < to; i++) {
      const value = samples[i]!;
      if (value < low) low = value;
      if (value > high) high = value;
    }
    min[column] = low;
    max[column] = high;
  }
  return { min, max };
}

/** Mean square of consecutive frames of `frame` samples (the last partial frame dropped). */
function frameEnergies(samples: ArrayLike<number>, frame: number): Float64Array {
  const count = Math.floor(samples.length / frame);
  const energies = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += samples[i]! * samples[i]!;
    energies[f] = sum / frame;
  }
  return energies;
}

/**
 * The sample where the energy rises most from one 5 ms frame to the next (the largest onset: a pick
 * attack, a drum hit, a note start). 0 when the audio is shorter than two frames or silent.
 */
export function findTransient(samples: ArrayLike<number>, sampleRate: number): number {
  const frame = Math.max(1, Math.round(sampleRate * 0.005));
  const energies = frameEnergies(samples, frame);
  let best = 0;
  let bestRise = 0;
  for (let f = 1; f < energies.length; f++) {
    const rise = energies[f]! - energies[f - 1]!;
    if (rise > bestRise) {
      bestRise = rise;
      best = f;
    }
  }
  if (best === 0) return 0;
  // The onset inside the frame: the first sample whose magnitude reaches half the frame's peak.
  let peak = 0;
  for (let i = best * frame; i < (best + 1) * frame; i++) peak = Math.max(peak, Math.abs(samples[i]!));
  for (let i = best * frame; i < (best + 1) * frame; i++) if (Math.abs(samples[i]!) >= peak / 2) return i;
  return best * frame;
}

/**
 * The stretch of `seconds` whose 10 ms frame levels vary least relative to their mean (a held tone), among
 * stretches at most 12 dB below the loudest one; [start, end) in samples. The whole audio when it is
 * shorter than the stretch.
 */
export function findSteadySegment(
  samples: ArrayLike<number>,
  sampleRate: number,
  seconds = 0.1,
): { start: number; end: number } {
  const frame = Math.max(1, Math.round(sampleRate * 0.01));
  const span = Math.max(2, Math.round(seconds / 0.01));
  const levels = Array.from(frameEnergies(samples, frame), Math.sqrt);
  if (levels.length < span) return { start: 0, end: samples.length };
  const means: number[] = [];
  const spreads: number[] = [];
  for (let s = 0; s + span <= levels.length; s++) {
    let sum = 0;
    let squares = 0;
    for (let f = s; f < s + span; f++) {
      sum += levels[f]!;
      squares += levels[f]! * levels[f]!;
    }
    const mean = sum / span;
    means.push(mean);
    spreads.push(Math.sqrt(Math.max(0, squares / span - mean * mean)));
  }
  const loudest = Math.max(...means);
  let best = 0;
  let bestScore = Number.POSITIVE_INFINITY;
  means.forEach((mean, s) => {
    if (loudest === 0 || mean < loudest / 4) return;
    const score = spreads[s]! / mean;
    if (score < bestScore) {
      bestScore = score;
      best = s;
    }
  });
  return { start: best * frame, end: (best + span) * frame };
}

export interface WaveformSeries {
  label: string;
  /** A CSS colour. */
  color: string;
  samples: ArrayLike<number>;
}

export interface WaveformOptions {
  title: string;
  sampleRate: number;
  /** Drawn over each other in this order (the first at the back). */
  series: WaveformSeries[];
  /** Samples [start, end) of every series. */
  start: number;
  end: number;
  /** Seconds the axis shows at sample 0 (e.g. where the audio starts in its file). Default 0. */
  originSeconds?: number;
  /** Pixels. Defaults 900 x 240. */
  width?: number;
  height?: number;
}

const MARGIN = { left: 58, right: 14, top: 30, bottom: 38 };

/**
 * A standalone SVG document: the series as lines over a time axis (ms for views under a second, else s)
 * and a symmetric amplitude axis fitted to the largest |sample| shown. A view with more samples than plot
 * pixels draws each series min/max-decimated per pixel column (a zig-zag through every column's extremes,
 * so peaks survive).
 */
export function waveformSvg(options: WaveformOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 240;
  const { start, end, sampleRate } = options;
  const n = end - start;
  if (!(n >= 1)) throw new RangeError(`waveformSvg: empty view [${start}, ${end})`);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  let peak = 0;
  for (const { samples } of options.series) {
    for (let i = start; i < end; i++) peak = Math.max(peak, Math.abs(samples[i]!));
  }
  const yTicks = niceTicks(-(peak || 1), peak || 1, 4);
  const range = Math.max(Math.abs(yTicks[0]!), Math.abs(yTicks[yTicks.length - 1]!), peak, 1e-9);
  const y = (value: number) => MARGIN.top + plotHeight / 2 - (value / range) * (plotHeight / 2);
  const x = (index: number) => MARGIN.left + (n === 1 ? 0 : ((index - start) / (n - 1)) * plotWidth);

  const origin = options.originSeconds ?? 0;
  const t0 = origin + start / sampleRate;
  const t1 = origin + (end - 1) / sampleRate;
  const inMs = t1 - t0 < 1;
  const unit = inMs ? 1000 : 1;
  const xTicks = niceTicks(t0 * unit, t1 * unit, 8);
  const xOf = (t: number) => MARGIN.left + (t1 === t0 ? 0 : ((t / unit - t0) / (t1 - t0)) * plotWidth);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  // Grid and axes.
  for (const tick of yTicks) {
    if (Math.abs(tick) > range) continue;
    const yy = coordinate(y(tick));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${yy}" y2="${yy}" stroke="${tick === 0 ? "#999" : "#e3e3e3"}"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${formatNumber(tick, 3)}</text>`,
    );
  }
  for (const tick of xTicks) {
    const xx = coordinate(xOf(tick));
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eeeeee"/>`,
      `<text x="${xx}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle">${formatNumber(tick, 4)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">time (${inMs ? "ms" : "s"})</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
  );
  // The series.
  const columns = Math.floor(plotWidth);
  for (const series of options.series) {
    const points: string[] = [];
    if (n > columns) {
      const { min, max } = minMaxDecimate(series.samples, start, end, columns);
      for (let c = 0; c < columns; c++) {
        const xx = coordinate(MARGIN.left + ((c + 0.5) / columns) * plotWidth);
        points.push(`${xx},${coordinate(y(max[c]!))}`, `${xx},${coordinate(y(min[c]!))}`);
      }
    } else {
      for (let i = start; i < end; i++)
        points.push(`${coordinate(x(i))},${coordinate(y(series.samples[i]!))}`);
    }
    parts.push(
      `<polyline fill="none" stroke="${escapeXml(series.color)}" stroke-width="1.2" stroke-opacity="0.85" stroke-linejoin="round" points="${points.join(" ")}"><title>${escapeXml(series.label)}</title></polyline>`,
    );
  }
  // Legend, top right.
  let legendX = width - MARGIN.right;
  for (const series of [...options.series].reverse()) {
    const textWidth = 7 * series.label.length;
    legendX -= textWidth + 30;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 18}" y1="14" y2="14" stroke="${escapeXml(series.color)}" stroke-width="3"/>`,
      `<text x="${legendX + 23}" y="18">${escapeXml(series.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
