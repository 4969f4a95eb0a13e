/**
 * Second-order IIR sections from Robert Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter
 * coefficients" (the same formulas as Web Audio's BiquadFilterNode), run in float64.
 */
export type BiquadType = "lowpass" | "highpass" | "bandpass" | "notch" | "peaking" | "lowshelf" | "highshelf";

/** Normalised coefficients: y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2]. */
export interface BiquadCoefficients {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export interface BiquadDesign {
  type: BiquadType;
  /** Centre / corner frequency in Hz, 0 < frequencyHz < sampleRate / 2. */
  frequencyHz: number;
  sampleRate: number;
  /** Quality factor; default 1/sqrt(2) (Butterworth for low/high-pass). */
  q?: number;
  /** Gain in dB for peaking and shelving filters; default 0. */
  gainDb?: number;
}

export function biquadCoefficients(design: BiquadDesign): BiquadCoefficients {
  const q = design.q ?? Math.SQRT1_2;
  const w0 = (2 * Math.PI * design.frequencyHz) / design.sampleRate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a = 10 ** ((design.gainDb ?? 0) / 40);
  let b0: number;
  let b1: number;
  let b2: number;
  let a0: number;
  let a1: number;
  let a2: number;
  switch (design.type) {
    case "lowpass":
      [b0, b1, b2] = [(1 - cos) / 2, 1 - cos, (1 - cos) / 2];
      [a0, a1, a2] = [1 + alpha, -2 * cos, 1 - alpha];
      break;
    case "highpass":
      [b0, b1, b2] = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
      [a0, a1, a2] = [1 + alpha, -2 * cos, 1 - alpha];
      break;
    case "bandpass": // constant 0 dB peak gain
      [b0, b1, b2] = [alpha, 0, -alpha];
      [a0, a1, a2] = [1 + alpha, -2 * cos, 1 - alpha];
      break;
    case "notch":
      [b0, b1, b2] = [1, -2 * cos, 1];
      [a0, a1, a2] = [1 + alpha, -2 * cos, 1 - alpha];
      break;
    case "peaking":
      [b0, b1, b2] = [1 + alpha * a, -2 * cos, 1 - alpha * a];
      [a0, a1, a2] = [1 + alpha / a, -2 * cos, 1 - alpha / a];
      break;
    case "lowshelf": {
      const s = 2 * Math.sqrt(a) * alpha;
      [b0, b1, b2] = [
        a * (a + 1 - (a - 1) * cos + s),
        2 * a * (a - 1 - (a + 1) * cos),
        a * (a + 1 - (a - 1) * cos - s),
      ];
      [a0, a1, a2] = [a + 1 + (a - 1) * cos + s, -2 * (a - 1 + (a + 1) * cos), a + 1 + (a - 1) * cos - s];
      break;
    }
    case "highshelf": {
      const s = 2 * Math.sqrt(a) * alpha;
      [b0, b1, b2] = [
        a * (a + 1 + (a - 1) * cos + s),
        -2 * a * (a - 1 + (a + 1) * cos),
        a * (a + 1 + (a - 1) * cos - s),
      ];
      [a0, a1, a2] = [a + 1 - (a - 1) * cos + s, 2 * (a - 1 - (a + 1) * cos), a + 1 - (a - 1) * cos - s];
      break;
    }
  }
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

/** Filters `input` into a new Float32Array (direct form I, float64 state, starting from rest). */
export function biquadFilter(input: Float32Array, c: BiquadCoefficients): Float32Array {
  const output = Float32Array.from(input);
  biquadFilterInPlace(output, c);
  return output;
}

/** Direct form I over `x`, in place, float64 state, starting from rest (each sample is read before it is written). */
export function biquadFilterInPlace(x: Float32Array | Float64Array, c: BiquadCoefficients): void {
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let n = 0; n < x.length; n++) {
    const input = x[n]!;
    const y = c.b0 * input + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
    x2 = x1;
    x1 = input;
    y2 = y1;
    y1 = y;
    x[n] = y;
  }
}

/**
 * Q of each second-order section of an `order`-pole Butterworth low/high-pass (order even, 2..16): the poles
 * sit on a circle at angles theta_k = pi (2k - 1) / (2 order), k = 1..order/2, and the section holding the
 * conjugate pair k has Q_k = 1 / (2 cos(theta_k)). Order 2 gives 1/sqrt(2); order 4 gives 0.5412 and 1.3066.
 * (Any filter-design text, e.g. Zolzer, "DAFX", 2nd ed., section 2.2.)
 */
export function butterworthQs(order: number): number[] {
  if (!Number.isInteger(order) || order < 2 || order > 16 || order % 2 !== 0) {
    throw new RangeError(`Butterworth order must be an even integer 2..16, got ${order}`);
  }
  return Array.from(
    { length: order / 2 },
    (_, i) => 1 / (2 * Math.cos((Math.PI * (2 * i + 1)) / (2 * order))),
  );
}

/** Runs `input` through `sections` in series into a new Float32Array (each from rest, float64 state). */
export function biquadCascade(input: Float32Array, sections: readonly BiquadCoefficients[]): Float32Array {
  let signal = input;
  for (const section of sections) signal = biquadFilter(signal, section);
  return sections.length === 0 ? Float32Array.from(input) : signal;
}

/**
 * |H(e^{jw})| in dB of a section at `frequencyHz`, w = 2 pi frequencyHz / sampleRate:
 * H = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2) on the unit circle.
 */
export function biquadMagnitudeDb(c: BiquadCoefficients, frequencyHz: number, sampleRate: number): number {
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  const [c1, s1, c2, s2] = [Math.cos(w), Math.sin(w), Math.cos(2 * w), Math.sin(2 * w)];
  const numRe = c.b0 + c.b1 * c1 + c.b2 * c2;
  const numIm = -(c.b1 * s1 + c.b2 * s2);
  const denRe = 1 + c.a1 * c1 + c.a2 * c2;
  const denIm = -(c.a1 * s1 + c.a2 * s2);
  return 10 * Math.log10((numRe * numRe + numIm * numIm) / (denRe * denRe + denIm * denIm));
}
