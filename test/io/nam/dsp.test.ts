import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import { Rng } from "../../../src/core/rng.ts";
import { activateRows, parseActivation } from "../../../src/io/nam/dsp/activations.ts";
import { NamError, type NamFile, parseNamFile } from "../../../src/io/nam/file.ts";
import { createNamStreamProcessor, loadNamDsp, type NamPlayerOptions } from "../../../src/io/nam/player.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { missingShared, sharedPath } from "../../helpers/shared.ts";

/*
 * The player on small hand-made .nam models, against hand computations and plain float64 references written
 * from NAM core's source (each rule cites its file), and its errors, real-time safety and stream contract.
 */

function nam(
  architecture: string,
  config: unknown,
  weights: number[],
  sampleRate: number | null = 48000,
): NamFile {
  const document = { version: "0.5.4", architecture, config, weights, sample_rate: sampleRate ?? undefined };
  return parseNamFile(JSON.stringify(document), "test.nam");
}

/** Plays `input` from reset(prewarm) in blocks of `block` (the last may be shorter). */
function play(
  file: NamFile,
  input: ArrayLike<number>,
  prewarm = false,
  block = 7,
  options: NamPlayerOptions = {},
) {
  const dsp = loadNamDsp(file, options);
  dsp.prepare(block);
  dsp.reset(prewarm);
  const output = new Float32Array(input.length);
  const x = new Float32Array(block);
  const y = new Float32Array(block);
  for (let start = 0; start < input.length; start += block) {
    const frames = Math.min(block, input.length - start);
    for (let t = 0; t < frames; t++) x[t] = input[start + t]!;
    dsp.process(x, y, frames);
    output.set(y.subarray(0, frames), start);
  }
  return output;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    assert.ok(
      error <= tolerance,
      `sample ${i}: ${actual[i]} vs ${expected[i]} (error ${error} > ${tolerance})`,
    );
  }
}

function throwsNam(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof NamError, `expected a NamError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

/** Float32-representable random weights in [-scale, scale). */
function randomWeights(count: number, seed: number, scale = 0.5): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Math.fround(rng.uniform(-scale, scale)));
}

function noise(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.uniform(-0.8, 0.8));
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Hands out `weights` in order; `done()` checks that all were taken. Without weights: zeros, counting. */
function cursor(weights?: number[]) {
  let at = 0;
  return {
    take(count: number): number[] {
      const out = weights ? weights.slice(at, at + count) : new Array<number>(count).fill(0);
      at += count;
      return out;
    },
    get count() {
      return at;
    },
  };
}

// Linear ====================================================================================================

test("Linear: y[t] = bias + sum_k h[k] x[t - k], h[0] on the newest sample (the file's taps, reversed for the conv)", () => {
  // receptive_field 3: h = [1, 0.5, 0.25], bias 0.1 (linear.cpp reverses the weights for its dot product).
  const file = nam("Linear", { receptive_field: 3, bias: true }, [1, 0.5, 0.25, 0.1]);
  const y = play(file, [1, 0, 0, 0, 2, 4], false, 2);
  assertClose(y, [1.1, 0.6, 0.35, 0.1, 2.1, 0.1 + 4 + 1], 1e-6);
  const noBias = nam("Linear", { receptive_field: 2, bias: false, implementation: "direct" }, [2, -1]);
  assertClose(play(noBias, [1, 3, 0]), [2, 5, -3], 0);
});

test("a weight count that does not match the config is an error naming both counts", () => {
  const config = { receptive_field: 3, bias: true };
  throwsNam(
    () => loadNamDsp(nam("Linear", config, [1, 2, 3])),
    "nam/weight-count",
    /implies 4 weights, the file has 3/,
  );
  throwsNam(
    () => loadNamDsp(nam("Linear", config, [1, 2, 3, 4, 5])),
    "nam/weight-count",
    /implies 4 weights, the file has 5/,
  );
  const lstm = { input_size: 1, hidden_size: 2, num_layers: 1 };
  throwsNam(
    () => loadNamDsp(nam("LSTM", lstm, [0])),
    "nam/weight-count",
    /test\.nam: the config implies 39 weights, the file has 1/,
  );
});

// Errors ====================================================================================================

test("unknown architectures, fields, activations and versions are errors naming them", () => {
  const document = { version: "0.5.4", architecture: "Transformer", config: {}, weights: [] };
  throwsNam(() => parseNamFile(JSON.stringify(document), "t.nam"), "nam/architecture", /"Transformer"/);
  const lstm = { input_size: 1, hidden_size: 1, num_layers: 1, bidirectional: true };
  throwsNam(
    () => loadNamDsp(nam("LSTM", lstm, [])),
    "nam/unsupported",
    /test\.nam: config\.bidirectional: unsupported field/,
  );
  const wavenet = smallWavenetConfig();
  wavenet.layers[1]!.dropout = 0.1;
  throwsNam(() => loadNamDsp(nam("WaveNet", wavenet, [])), "nam/unsupported", /config\.layers\[1\]\.dropout/);
  const mish = smallWavenetConfig();
  mish.layers[0]!.activation = "Mish";
  throwsNam(
    () => loadNamDsp(nam("WaveNet", mish, [])),
    "nam/config",
    /config\.layers\[0\]\.activation: unknown activation "Mish"/,
  );
  const film = smallWavenetConfig();
  film.layers[0]!.conv_pre_film = { active: true, scale: 2 };
  throwsNam(
    () => loadNamDsp(nam("WaveNet", film, [])),
    "nam/unsupported",
    /config\.layers\[0\]\.conv_pre_film\.scale/,
  );
  for (const version of ["0.4.9", "0.8.0", "1.5.0", "0.5"]) {
    const bad = {
      version,
      architecture: "Linear",
      config: { receptive_field: 1, bias: false },
      weights: [1],
    };
    throwsNam(() => parseNamFile(JSON.stringify(bad), "t.nam"), "nam/version", /not supported|must be/);
  }
  const newest = {
    version: "0.7.9",
    architecture: "Linear",
    config: { receptive_field: 1, bias: false },
    weights: [1],
  };
  assert.equal(loadNamDsp(parseNamFile(JSON.stringify(newest))).receptiveField, 1);
});

test("configs NAM core rejects are errors naming the field", () => {
  const wiring = smallWavenetConfig();
  wiring.layers[1]!.channels = 3; // must equal the previous array's head size (model.cpp)
  throwsNam(
    () => loadNamDsp(nam("WaveNet", wiring, [])),
    "nam/config",
    /config\.layers\[1\]\.channels: is 3/,
  );
  const prelu = smallWavenetConfig();
  prelu.layers[0]!.activation = { type: "PReLU", negative_slopes: [0.1, 0.2] }; // 3 channels, gated layer
  throwsNam(
    () => loadNamDsp(nam("WaveNet", prelu, [])),
    "nam/config",
    /PReLU has 2 negative slope\(s\) but is applied to 3/,
  );
  const mono = { receptive_field: 1, bias: false, in_channels: 2, out_channels: 2 };
  throwsNam(() => loadNamDsp(nam("Linear", mono, [1])), "nam/unsupported", /plays mono models/);
  const dsp = loadNamDsp(nam("Linear", { receptive_field: 1, bias: false }, [1]));
  assert.throws(() => dsp.prepare(0), OptionError);
});

// Activations ===============================================================================================

test("activations as activations.h defines them, with their parameters", () => {
  const x = [-5, -1.5, -0.5, 0, 0.25, 2, 7];
  const cases: [unknown, (v: number) => number][] = [
    ["Tanh", Math.tanh],
    ["Hardtanh", (v) => Math.min(Math.max(v, -1), 1)],
    ["ReLU", (v) => Math.max(v, 0)],
    ["LeakyReLU", (v) => (v > 0 ? v : Math.fround(0.01) * v)],
    [{ type: "LeakyReLU", negative_slope: 0.2 }, (v) => (v > 0 ? v : Math.fround(0.2) * v)],
    [{ type: "PReLU", negative_slope: 0.3 }, (v) => (v > 0 ? v : Math.fround(0.3) * v)],
    ["Sigmoid", sigmoid],
    ["SiLU", (v) => v * sigmoid(v)],
    ["Hardswish", (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6],
    ["Softsign", (v) => v / (1 + Math.abs(v))],
    [
      { type: "LeakyHardTanh", min_val: -0.5, max_val: 1, min_slope: 0.1, max_slope: 0.25 },
      (v) => (v < -0.5 ? (v + 0.5) * 0.1 - 0.5 : v > 1 ? (v - 1) * 0.25 + 1 : v),
    ],
    // The rational approximation NAM core names "Fasttanh" (within 6e-3 of tanh).
    ["Fasttanh", (v) => Math.tanh(v)],
  ];
  for (const [config, f] of cases) {
    const y = Float32Array.from(x);
    activateRows(parseActivation(config, "activation"), y, 0, y.length, 1, y.length);
    assertClose(y, x.map(f), config === "Fasttanh" ? 6e-3 : 1e-6);
  }
  // PReLU with one slope per channel: channel c uses slope c.
  const rows = Float32Array.of(-1, 2, -1, 2);
  activateRows(parseActivation({ type: "PReLU", negative_slopes: [0.1, 0.5] }, "a"), rows, 0, 2, 2, 2);
  assertClose(rows, [-0.1, 2, -0.5, 2], 1e-7);
});

// LSTM ======================================================================================================

test("LSTM: two layers from their stored initial state, against a float64 reference step (lstm.cpp)", () => {
  const hidden = 2;
  const config = { input_size: 1, hidden_size: hidden, num_layers: 2 };
  const counts = [4 * hidden * (1 + hidden), 4 * hidden * (2 * hidden)].map(
    (w) => w + 4 * hidden + 2 * hidden,
  );
  const weights = randomWeights(counts[0]! + counts[1]! + hidden + 1, 11, 0.9);
  const input = noise(40, 3);
  const reference = (x: ArrayLike<number>) => {
    const c = cursor(weights);
    const layers = [1, hidden].map((inputs) => ({
      inputs,
      w: c.take(4 * hidden * (inputs + hidden)),
      b: c.take(4 * hidden),
      h: c.take(hidden),
      c: c.take(hidden),
    }));
    const headW = c.take(hidden);
    const headB = c.take(1)[0]!;
    return Array.from(x, (sample) => {
      let layerInput = [sample];
      for (const layer of layers) {
        const xh = [...layerInput, ...layer.h];
        const g = layer.b.map((b, r) => xh.reduce((acc, v, j) => acc + layer.w[r * xh.length + j]! * v, b));
        // Gate rows i, f, g, o (PyTorch's order).
        layer.c = layer.c.map(
          (cell, k) => sigmoid(g[hidden + k]!) * cell + sigmoid(g[k]!) * Math.tanh(g[2 * hidden + k]!),
        );
        layer.h = layer.c.map((cell, k) => sigmoid(g[3 * hidden + k]!) * Math.tanh(cell));
        layerInput = layer.h;
      }
      return layerInput.reduce((acc, v, k) => acc + headW[k]! * v, headB);
    });
  };
  assertClose(play(nam("LSTM", config, weights), input), reference(input), 2e-6);
  // Prewarm: 0.5 s of the file's rate (50 samples at 100 Hz), in whole blocks of maxBlock: 7 * 8 = 56 zeros.
  const prewarmed = play(nam("LSTM", config, weights, 100), input, true, 8);
  const zeros = new Float32Array(56);
  assertClose(prewarmed, reference([...zeros, ...input]).slice(56), 2e-6);
});

// ConvNet ===================================================================================================

test("ConvNet: kernel-2 dilated blocks, batch norm folded, head (convnet.cpp), against a float64 reference", () => {
  for (const batchnorm of [true, false]) {
    const channels = 2;
    const dilations = [1, 2];
    const config = { channels, dilations, batchnorm, activation: "Tanh" };
    const blockWeights = (inputs: number) =>
      channels * inputs * 2 + (batchnorm ? 4 * channels + 1 : channels);
    const weights = randomWeights(blockWeights(1) + blockWeights(channels) + channels + 1, 5, 0.9);
    if (batchnorm) {
      // Positive running variances and a small eps (running_var follows mean in each block).
      for (const start of [4, blockWeights(1) + 8]) {
        for (let c = 0; c < channels; c++) weights[start + channels + c] = Math.fround(0.5 + c);
        weights[start + 4 * channels] = Math.fround(1e-5);
      }
    }
    const input = noise(60, 9);
    const reference = (x: number[]) => {
      const c = cursor(weights);
      let signal = [x];
      for (const dilation of dilations) {
        const inputs = signal.length;
        const w = c.take(channels * inputs * 2);
        const b = batchnorm ? new Array<number>(channels).fill(0) : c.take(channels);
        const [mean, variance, gamma, beta] = batchnorm ? [0, 1, 2, 3].map(() => c.take(channels)) : [];
        const eps = batchnorm ? c.take(1)[0]! : 0;
        signal = b.map((bias, o) =>
          x.map((_, t) => {
            let acc = bias;
            for (let i = 0; i < inputs; i++) {
              acc +=
                w[(o * inputs + i) * 2]! * (signal[i]![t - dilation] ?? 0) +
                w[(o * inputs + i) * 2 + 1]! * signal[i]![t]!;
            }
            if (batchnorm)
              acc = ((acc - mean![o]!) * gamma![o]!) / Math.sqrt(eps + variance![o]!) + beta![o]!;
            return Math.tanh(acc);
          }),
        );
      }
      const headW = c.take(channels);
      const headB = c.take(1)[0]!;
      return x.map((_, t) => signal.reduce((acc, row, k) => acc + headW[k]! * row[t]!, headB));
    };
    // Prewarm runs 1 + 1 + 2 = 4 zeros (a whole block of 7): the reference starts from zero-input history.
    const prefix = new Array<number>(7).fill(0);
    const expected = reference([...prefix, ...input]).slice(7);
    assertClose(play(nam("ConvNet", config, weights), input, true), expected, 2e-6);
  }
});

// WaveNet ===================================================================================================

/** The WaveNet layer-array fields the float64 reference below understands. */
interface TestArray {
  input_size: number;
  condition_size: number;
  channels: number;
  kernel_size?: number;
  kernel_sizes?: number[];
  dilations: number[];
  activation: unknown;
  gating_mode?: string[];
  gated?: boolean;
  head1x1?: { active: boolean; out_channels: number; groups: number };
  head?: { out_channels: number; kernel_size: number; bias: boolean };
  head_size?: number;
  head_bias?: boolean;
  [field: string]: unknown;
}

interface TestWavenet {
  layers: TestArray[];
  head: { channels: number; out_channels: number; kernel_sizes: number[]; activation: string };
  head_scale: number;
}

/** Two arrays (gated and plain layers, head1x1, per-layer kernel sizes, a head conv of kernel 2), a post-stack head. */
function smallWavenetConfig(): TestWavenet {
  return {
    layers: [
      {
        input_size: 1,
        condition_size: 1,
        channels: 3,
        kernel_size: 2,
        dilations: [1, 3],
        activation: "Tanh",
        gating_mode: ["none", "gated"],
        head1x1: { active: true, out_channels: 2, groups: 1 },
        head: { out_channels: 2, kernel_size: 2, bias: false },
      },
      {
        input_size: 3,
        condition_size: 1,
        channels: 2,
        kernel_sizes: [3, 2],
        dilations: [2, 1],
        activation: "Tanh",
        gated: false,
        head_size: 1,
        head_bias: true,
      },
    ],
    head: { channels: 2, out_channels: 1, kernel_sizes: [3, 2], activation: "Tanh" },
    head_scale: 0.5,
  };
}

type Rows = number[][];

/** y[o][t] = b[o] + sum_{i,k} w[o, i, k] x[i][t - (K - 1 - k) d], zero before t = 0 (a fresh ring buffer). */
function conv(
  x: Rows,
  w: number[],
  b: number[] | null,
  outChannels: number,
  kernelSize = 1,
  dilation = 1,
): Rows {
  const n = x[0]!.length;
  return Array.from({ length: outChannels }, (_, o) =>
    Array.from({ length: n }, (_, t) => {
      let acc = b ? b[o]! : 0;
      x.forEach((row, i) => {
        for (let k = 0; k < kernelSize; k++) {
          acc += w[(o * x.length + i) * kernelSize + k]! * (row[t - (kernelSize - 1 - k) * dilation] ?? 0);
        }
      });
      return acc;
    }),
  );
}

const add = (a: Rows, b: Rows): Rows => a.map((row, c) => row.map((v, t) => v + b[c]![t]!));

/** NAM core's WaveNet (wavenet/model.cpp) for smallWavenetConfig's features, in float64 from fresh state. */
function wavenetReference(
  config: ReturnType<typeof smallWavenetConfig>,
  weights: number[] | undefined,
  input: number[],
) {
  const c = cursor(weights);
  const x: Rows = [input];
  let arrayInput = x;
  let head: Rows | null = null;
  for (const array of config.layers) {
    const channels = array.channels;
    const kernelSizes = array.kernel_sizes ?? array.dilations.map(() => array.kernel_size!);
    const modes = array.gating_mode ?? array.dilations.map(() => (array.gated ? "gated" : "none"));
    const head1x1 = array.head1x1?.out_channels ?? 0;
    const headIn = head1x1 || channels;
    const headSpec = array.head ?? { out_channels: array.head_size!, kernel_size: 1, bias: array.head_bias! };
    let layer = conv(arrayInput, c.take(channels * array.input_size), null, channels);
    let sum: Rows = head ?? Array.from({ length: headIn }, () => input.map(() => 0));
    array.dilations.forEach((dilation, j) => {
      const gated = modes[j] === "gated";
      const zChannels = gated ? 2 * channels : channels;
      const kernelSize = kernelSizes[j]!;
      const convW = c.take(zChannels * channels * kernelSize);
      const convB = c.take(zChannels);
      const z = add(
        conv(layer, convW, convB, zChannels, kernelSize, dilation),
        conv(x, c.take(zChannels), null, zChannels),
      );
      const a = z
        .slice(0, channels)
        .map((row, ch) =>
          row.map((v, t) => (gated ? Math.tanh(v) * sigmoid(z[channels + ch]![t]!) : Math.tanh(v))),
        );
      const residual = conv(a, c.take(channels * channels), c.take(channels), channels);
      sum = add(sum, head1x1 ? conv(a, c.take(head1x1 * channels), c.take(head1x1), head1x1) : a);
      layer = add(layer, residual);
    });
    const w = c.take(headSpec.out_channels * headIn * headSpec.kernel_size);
    head = conv(
      sum,
      w,
      headSpec.bias ? c.take(headSpec.out_channels) : null,
      headSpec.out_channels,
      headSpec.kernel_size,
    );
    arrayInput = layer;
  }
  const post = config.head;
  let inChannels = head!.length;
  const convs = post.kernel_sizes.map((kernelSize, i) => {
    const out = i === post.kernel_sizes.length - 1 ? post.out_channels : post.channels;
    const spec = { w: c.take(out * inChannels * kernelSize), b: c.take(out), out, kernelSize };
    inChannels = out;
    return spec;
  });
  const scale = c.take(1)[0]!; // the last weight, not config.head_scale
  let y = head!.map((row) => row.map((v) => scale * v));
  for (const { w, b, out, kernelSize } of convs)
    y = conv(
      y.map((row) => row.map(Math.tanh)),
      w,
      b,
      out,
      kernelSize,
    );
  return { output: y[0]!, weightCount: c.count };
}

test("WaveNet: gating, head1x1, kernel sizes, head kernel 2 and a post-stack head, against a float64 reference", () => {
  const config = smallWavenetConfig();
  const { weightCount } = wavenetReference(config, undefined, [0]);
  const weights = randomWeights(weightCount, 21, 0.7);
  const input = Array.from(noise(80, 4));
  const { output } = wavenetReference(config, weights, input);
  assertClose(play(nam("WaveNet", config, weights), input, false, 5), output, 1e-5);
  const dsp = loadNamDsp(nam("WaveNet", config, weights));
  // 1 + the arrays' receptive fields (1 + 3 + 1) + (4 + 1 + 0) + the post-stack head's (3 - 1) + (2 - 1).
  assert.equal(dsp.prewarmSamples, 14);
  assert.equal(dsp.receptiveField, 14);
});

// SlimmableContainer ========================================================================================

function container(maxValues: number[], responses: number[][]) {
  const submodels = responses.map((weights, i) => ({
    max_value: maxValues[i],
    model: {
      version: "0.5.4",
      architecture: "Linear",
      config: { receptive_field: weights.length, bias: false },
      weights,
    },
  }));
  return nam("SlimmableContainer", { submodels }, []);
}

test("a SlimmableContainer plays its last submodel, or the one chosen; a bad index is an error", () => {
  const file = container([0.5, 1], [[2], [1, 1]]);
  const input = [1, 2, 3];
  assertClose(play(file, input), [1, 3, 5], 0);
  const first = play(file, input, false, 7, { submodel: 0 });
  const direct = play(parseNamFile((file.config.submodels as { model: unknown }[])[0]!.model), input);
  assert.deepEqual(first, direct);
  assertClose(first, [2, 4, 6], 0);
  throwsNam(
    () => loadNamDsp(file, { submodel: 2 }),
    "nam/option",
    /submodel must be a whole number in \[0, 1\]/,
  );
  throwsNam(
    () => loadNamDsp(nam("Linear", { receptive_field: 1, bias: false }, [1]), { submodel: 0 }),
    "nam/option",
    /no submodels/,
  );
  throwsNam(
    () => loadNamDsp(container([1, 0.5], [[1], [1]])),
    "nam/config",
    /submodels\[1\]\.max_value: submodels must be sorted/,
  );
});

test("a real container's submodel 0 plays as that submodel's own .nam object", {
  skip: missingShared("nam-reference/models/slimmable_container.nam"),
}, () => {
  const text = readFileSync(sharedPath("nam-reference/models/slimmable_container.nam"), "utf8");
  const file = parseNamFile(text, "slimmable_container.nam");
  const input = noise(3000, 8);
  const submodel = parseNamFile((file.config.submodels as { model: unknown }[])[0]!.model);
  assert.equal(submodel.architecture, "LSTM");
  assert.deepEqual(play(file, input, true, 64, { submodel: 0 }), play(submodel, input, true, 64));
});

// Real-time safety and the stream contract ==================================================================

test("process() and reset() do not allocate (NamDsp and the stream processor)", async (t) => {
  const config = smallWavenetConfig();
  const weights = randomWeights(wavenetReference(config, undefined, [0]).weightCount, 2);
  const lstm = { input_size: 1, hidden_size: 3, num_layers: 2 };
  const files = [
    nam("WaveNet", config, weights),
    nam("LSTM", lstm, randomWeights(4 * 3 * 4 + 4 * 3 * 6 + 2 * (12 + 6) + 4, 3)),
    nam(
      "ConvNet",
      { channels: 2, dilations: [1, 2], batchnorm: false, activation: "ReLU" },
      randomWeights(19, 4),
    ),
    nam("Linear", { receptive_field: 300, bias: true }, randomWeights(301, 5)),
  ];
  const a2 = "nam-reference/models/wavenet_a2_max.nam";
  if (!missingShared(a2))
    files.push(parseNamFile(readFileSync(sharedPath(a2), "utf8"), "wavenet_a2_max.nam"));
  const rng = new Rng(6);
  const sizes = Int32Array.from({ length: 5000 }, () => 1 + rng.int(64));
  const input = noise(64, 1);
  for (const file of files) {
    const name = `${file.source} (${file.architecture})`;
    const dsp = loadNamDsp(file);
    dsp.prepare(64);
    dsp.reset(true);
    const output = new Float32Array(64);
    const m = await measureAllocation(() => {
      for (let i = 0; i < sizes.length; i++) dsp.process(input, output, sizes[i]!);
      for (let i = 0; i < 100; i++) dsp.reset(i % 2 === 0);
    });
    t.diagnostic(`${name} NamDsp: new space +${m.newSpaceGrowth} B, ${m.gcs} GCs`);
    assert.ok(allocationFree(m), `${name}: new space grew ${m.newSpaceGrowth} bytes, ${m.gcs} GCs`);
    const processor = createNamStreamProcessor(file, { audioChannels: 2, warmUpSamples: 1024 });
    processor.prepare(48000, 64);
    const inputs = [input, input];
    const outputs = [new Float32Array(64), new Float32Array(64)];
    const p = await measureAllocation(() => {
      for (let i = 0; i < sizes.length; i++) processor.process(inputs, outputs, sizes[i]!);
      for (let i = 0; i < 100; i++) processor.reset();
    });
    t.diagnostic(`${name} stream processor: new space +${p.newSpaceGrowth} B, ${p.gcs} GCs`);
    assert.ok(
      allocationFree(p),
      `${name} stream processor: new space grew ${p.newSpaceGrowth} bytes, ${p.gcs} GCs`,
    );
  }
});

test("the stream processor counts misuse instead of throwing: not prepared, blocks larger than prepared", () => {
  const file = nam("Linear", { receptive_field: 2, bias: true }, [1, 1, 0.5]);
  const processor = createNamStreamProcessor(file, { warmUpSamples: 0 });
  const output = [new Float32Array(4).fill(9)];
  processor.process([Float32Array.of(1, 2, 3, 4)], output, 4);
  assert.deepEqual(output[0], new Float32Array(4));
  assert.equal(processor.faultCount, 1);
  assert.equal(processor.lastFault, "not-prepared");
  assert.equal(processor.latencySamples, 0);
  processor.prepare(48000, 2);
  processor.process([Float32Array.of(1, 2, 3, 4)], output, 4);
  assertClose(output[0]!, [1.5, 3.5, 5.5, 7.5], 0);
  assert.equal(processor.lastFault, "block-too-large");
  assert.throws(() => createNamStreamProcessor(file, { prewarm: "yes" as unknown as boolean }), OptionError);
});
