import assert from "node:assert/strict";
import { test } from "node:test";
import { RealFft } from "../../../src/dsp/fft.ts";
import {
  aWeightingFilter,
  aWeightingTaps,
  createLoss,
  type FirFilter,
  firBackward,
  firForward,
  foldedDifferentiatorFilter,
  highpassFilter,
} from "../../../src/train/losses/index.ts";
import { assertClose, Rng, randomArray } from "../../helpers/gradcheck.ts";

const FFT_SIZE = 65536;

/** |H(f)| in dB of an FIR's taps, measured with a zero-padded real FFT; the nearest bin to `hz`. */
function responseDb(taps: Float64Array, sampleRate: number, hz: number): number {
  const fft = new RealFft(FFT_SIZE);
  const signal = new Float64Array(FFT_SIZE);
  signal.set(taps);
  const spectrum = new Float64Array(FFT_SIZE + 2);
  fft.forward(spectrum, signal);
  const k = Math.round((hz * FFT_SIZE) / sampleRate);
  return 10 * Math.log10(spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2);
}

/** The filter's impulse response, through firForward on a long enough zero row. */
function impulseResponse(filter: FirFilter, length = 8): Float64Array {
  const impulse = new Float64Array(length);
  impulse[filter.advance] = 1;
  const out = new Float64Array(length);
  firForward(out, 0, impulse, 0, length, filter);
  return out;
}

test("A-weighting taps reproduce scipy's firls design (auraloss FIRFilter 'aw')", () => {
  // Reference: the auraloss recipe run with scipy 1.17 (bilinear, freqz worN=512, firls 101 taps);
  // taps[0], [1], [25], [48], [49], [50] and the tap sum. scipy's polynomial bilinear transform is itself
  // off by up to 1e-7 in |H| (we evaluate |H_A(j 2 fs tan(pi f / fs))| directly), hence atol 1e-7.
  const reference = {
    44100: [
      -0.00192693678593435, -0.00200614244873466, -0.00706917791555478, -0.01517457445286021,
      0.2734031649014831, 0.544319924892739, 0.10083035224296023,
    ],
    48000: [
      -0.0021327336367343974, -0.0022179417806834577, -0.0074114967583624736, 0.0002951943480069628,
      0.27400676068389124, 0.52109345360181236, 0.11567863798653613,
    ],
  } as const;
  for (const sampleRate of [44100, 48000] as const) {
    const taps = aWeightingTaps(sampleRate, 101);
    assert.equal(taps.length, 101);
    for (let i = 0; i < 50; i++) assert.equal(taps[i], taps[100 - i], "symmetric");
    const sum = taps.reduce((a, b) => a + b, 0);
    const picked = [0, 1, 25, 48, 49, 50].map((i) => taps[i]!);
    assertClose([...picked, sum], reference[sampleRate], {
      atol: 1e-7,
      rtol: 0,
      what: `${sampleRate} Hz taps`,
    });
  }
});

test("A-weighting FIR: ~0 dB at 1 kHz, strongly attenuates 50 Hz, zero phase (centred)", () => {
  for (const sampleRate of [44100, 48000]) {
    const { taps, advance } = aWeightingFilter(sampleRate, 101);
    assert.equal(advance, 50);
    const at1k = responseDb(taps, sampleRate, 1000);
    const at50 = responseDb(taps, sampleRate, 50);
    const at3k = responseDb(taps, sampleRate, 3000);
    assert.ok(Math.abs(at1k) < 0.3, `${sampleRate} Hz: 1 kHz at ${at1k.toFixed(2)} dB`);
    assert.ok(at50 < -15, `${sampleRate} Hz: 50 Hz at ${at50.toFixed(2)} dB`);
    assert.ok(
      at3k > 0.5 && at3k < 1.8,
      `${sampleRate} Hz: 3 kHz at ${at3k.toFixed(2)} dB (A-weighting: +1.2)`,
    );
  }
  // centred: a symmetric impulse response stays in place (a sine keeps its phase)
  const filter = aWeightingFilter(48000, 11);
  const length = 200;
  const sine = Float64Array.from({ length }, (_, n) => Math.sin((2 * Math.PI * 2000 * n) / 48000));
  const out = new Float64Array(length);
  firForward(out, 0, sine, 0, length, filter);
  let cross = 0;
  let quadrature = 0;
  for (let n = 24; n < 168; n++) {
    // six whole periods of 24 samples: sin and cos are orthogonal here
    cross += out[n]! * sine[n]!;
    quadrature += out[n]! * Math.cos((2 * Math.PI * 2000 * n) / 48000);
  }
  assert.ok(Math.abs(quadrature) < 1e-9 * Math.abs(cross) + 1e-9, "no phase shift");
});

test("first-order high-pass: y[n] = x[n] - a x[n-1], |H| = 1 - a at 0 Hz and 1 + a at Nyquist", () => {
  for (const a of [0, 0.5, 0.85, 0.95]) {
    const filter = highpassFilter(a);
    assertClose(impulseResponse(filter), [1, -a, 0, 0, 0, 0, 0, 0], { what: `h for a = ${a}` });
    const padded = new Float64Array(16);
    padded.set(filter.taps);
    const spectrum = new Float64Array(18);
    new RealFft(16).forward(spectrum, padded);
    assert.ok(Math.abs(spectrum[0]! - (1 - a)) < 1e-12, "DC gain");
    assert.ok(Math.abs(spectrum[16]! - (1 + a)) < 1e-12, "Nyquist gain");
  }
  // on a row: the first output sees x[-1] = 0
  const x = Float64Array.of(1, 2, 4, 8);
  const y = new Float64Array(4);
  firForward(y, 0, x, 0, 4, highpassFilter(0.85));
  assertClose(y, [1, 2 - 0.85, 4 - 1.7, 8 - 3.4], { atol: 1e-15 });
  // a larger coefficient weights low-frequency errors less: a DC error shrinks with a
  const shape = { batch: 1, channels: 1, length: 256 };
  const target = Float64Array.from({ length: 256 }, (_, n) => Math.sin(n / 3));
  const offset = target.map((v) => v + 0.1);
  const values = [0, 0.5, 0.85, 0.95].map((coefficient) =>
    createLoss({ type: "mse", preEmphasis: { type: "highpass", coefficient } }).forward(
      offset,
      target,
      shape,
    ),
  );
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! < values[i - 1]!, `${values}`);
  // coefficient 0 is the identity
  const plain = createLoss({ type: "esr" }).forward(offset, target, shape);
  const zero = createLoss({ type: "esr", preEmphasis: { type: "highpass", coefficient: 0 } });
  assert.equal(zero.forward(offset, target, shape), plain);
});

test("folded differentiator: y[n] = x[n] - a x[n-2], band-pass around fs/4", () => {
  const filter = foldedDifferentiatorFilter(0.85);
  assertClose(impulseResponse(filter), [1, 0, -0.85, 0, 0, 0, 0, 0]);
  const padded = new Float64Array(16);
  padded.set(filter.taps);
  const spectrum = new Float64Array(18);
  new RealFft(16).forward(spectrum, padded);
  const magnitude = (k: number) => Math.hypot(spectrum[2 * k]!, spectrum[2 * k + 1]!);
  assert.ok(Math.abs(magnitude(0) - 0.15) < 1e-12);
  assert.ok(Math.abs(magnitude(8) - 0.15) < 1e-12);
  assert.ok(Math.abs(magnitude(4) - 1.85) < 1e-12);
});

test("firBackward is the transpose of firForward: <H x, g> = <x, H^T g>, at any offsets", () => {
  const rng = new Rng(4);
  const length = 30;
  for (const filter of [highpassFilter(0.9), foldedDifferentiatorFilter(0.7), aWeightingFilter(48000, 21)]) {
    const x = randomArray(length + 5, rng);
    const g = randomArray(length + 3, rng);
    const y = new Float64Array(length + 3);
    firForward(y, 3, x, 5, length, filter);
    const dx = randomArray(length + 5, rng);
    const before = Float64Array.from(dx);
    firBackward(dx, 5, g, 3, length, filter, 2);
    let forward = 0;
    let transposed = 0;
    for (let i = 0; i < length; i++) {
      forward += y[3 + i]! * g[3 + i]!;
      transposed += x[5 + i]! * (dx[5 + i]! - before[5 + i]!);
    }
    assert.ok(Math.abs(2 * forward - transposed) < 1e-12, `${forward} vs ${transposed / 2}`);
    for (let i = 0; i < 5; i++) assert.equal(dx[i], before[i], "outside the segment untouched");
  }
});
