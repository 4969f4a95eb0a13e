import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  modelConfigFromNamA1,
  namA1ConfigFromModel,
  namA1WeightsFromParameters,
  setParametersFromNamA1Weights,
} from "../../../src/io/nam/wavenet-a1.ts";
import { PRESETS } from "../../../src/nn/models/presets.ts";
import {
  createModel,
  type WavenetLayerArrayConfig,
  type WavenetModelConfig,
} from "../../../src/nn/models/registry.ts";
import { WavenetModel, wavenetParameterShapes } from "../../../src/nn/models/wavenet.ts";
import { checkModelGradients, randomSequence } from "../../helpers/contracts.ts";
import { Rng } from "../../helpers/gradcheck.ts";
import { missingShared, sharedPath } from "../../helpers/shared.ts";

const rng = new Rng(31);

function array(overrides: Partial<WavenetLayerArrayConfig>): WavenetLayerArrayConfig {
  return {
    inputSize: 1,
    conditionSize: 1,
    channels: 2,
    headSize: 1,
    kernelSize: 3,
    dilations: [1, 2],
    activation: "tanh",
    gated: false,
    headBias: true,
    ...overrides,
  };
}

/** Closed form of the parameter count (independent of the model's own bookkeeping). */
function expectedParameters(config: WavenetModelConfig): number {
  let count = 0;
  for (const a of config.layers) {
    const mid = a.gated ? 2 * a.channels : a.channels;
    const perLayer =
      mid * a.channels * a.kernelSize + mid + mid * a.conditionSize + a.channels * a.channels + a.channels;
    count += a.inputSize * a.channels + a.dilations.length * perLayer + a.channels * a.headSize;
    if (a.headBias) count += a.headSize;
  }
  return count;
}

test("WavenetModel: float64 gradients (gated tanh / plain, general gate / plain softsign, head bias both ways)", () => {
  const configs: WavenetModelConfig[] = [
    {
      architecture: "wavenet",
      layers: [
        array({ channels: 3, headSize: 2, kernelSize: 2, dilations: [1, 2], gated: true, headBias: false }),
        array({ inputSize: 3, channels: 2, headSize: 1, kernelSize: 3, dilations: [1, 3], headBias: true }),
      ],
      headScale: 0.7,
    },
    {
      architecture: "wavenet",
      layers: [
        array({
          channels: 2,
          headSize: 3,
          kernelSize: 3,
          dilations: [1, 2],
          activation: "softsign",
          headBias: true,
        }),
        array({
          inputSize: 2,
          channels: 3,
          kernelSize: 2,
          dilations: [1, 3],
          activation: "silu",
          gated: true,
          headBias: false,
        }),
      ],
      headScale: 1.3,
    },
  ];
  configs.forEach((config, i) => {
    const model = new WavenetModel(config, { seed: 10 + i, floatType: "float64" });
    assert.equal(model.parameters.count, expectedParameters(config));
    const x = randomSequence(2, 1, model.receptiveField - 1 + 5, rng);
    assert.equal(model.forward(x).length, 5);
    checkModelGradients(model, x, 20 + i);
  });
});

test("WavenetModel reuses its buffers: repeated forward/backward give the same output buffer and gradients", () => {
  const model = new WavenetModel(
    {
      architecture: "wavenet",
      layers: [
        array({ channels: 3, headSize: 2, gated: true }),
        array({ inputSize: 3, channels: 2, dilations: [2], activation: "relu", gated: true }),
      ],
      headScale: 0.5,
    },
    { seed: 5 },
  );
  const x = randomSequence(3, 1, model.receptiveField + 20, rng);
  const input = { ...x, data: Float32Array.from(x.data) };
  const runs = [0, 1].map(() => {
    const y = model.forward(input);
    model.parameters.zeroGrads();
    model.backward({ ...y, data: Float32Array.from(y.data, (v) => v - 0.1) });
    return {
      buffer: y.data,
      output: Float32Array.from(y.data),
      grads: Float32Array.from(model.parameters.grads),
    };
  });
  assert.equal(runs[0]!.buffer, runs[1]!.buffer);
  assert.deepEqual(runs[0]!.output, runs[1]!.output);
  assert.deepEqual(runs[0]!.grads, runs[1]!.grads);
  assert.ok(runs[0]!.grads.some((g) => g !== 0));
});

test("WavenetModel: parameter names in NAM order, toConfig round trip through the registry", () => {
  const config: WavenetModelConfig = {
    architecture: "wavenet",
    layers: [array({ channels: 2, headSize: 2, headBias: false }), array({ inputSize: 2, dilations: [4] })],
    headScale: 0.02,
  };
  const model = createModel(config, { seed: 3 }) as WavenetModel;
  const names = model.parameters.entries.map((entry) => entry.name);
  assert.deepEqual(
    names,
    wavenetParameterShapes(config).map((shape) => shape.name),
  );
  assert.deepEqual(names.slice(0, 6), [
    "layers.0.rechannel.weight",
    "layers.0.layers.0.conv.weight",
    "layers.0.layers.0.conv.bias",
    "layers.0.layers.0.mixer.weight",
    "layers.0.layers.0.output.weight",
    "layers.0.layers.0.output.bias",
  ]);
  assert.ok(names.includes("layers.0.head.weight") && !names.includes("layers.0.head.bias"));
  assert.ok(names.includes("layers.1.head.bias"));
  const rebuilt = createModel(model.toConfig(), { seed: 3 });
  assert.deepEqual(rebuilt.toConfig(), model.toConfig());
  assert.deepEqual(Array.from(rebuilt.parameters.values), Array.from(model.parameters.values));
  // Defaults from the registry schema (conditionSize, activation, gated, headScale) are filled in.
  const parsed = createModel({
    architecture: "wavenet",
    layers: [{ inputSize: 1, channels: 2, headSize: 1, kernelSize: 2, dilations: [1], headBias: true }],
  });
  assert.deepEqual(parsed.toConfig(), {
    architecture: "wavenet",
    layers: [array({ kernelSize: 2, dilations: [1] })],
    headScale: 0.02,
  });
});

test("WavenetModel presets: receptive field, output length and parameter count (NAM's A1 sizes)", () => {
  const wavenets = PRESETS.filter((preset) => preset.model.architecture === "wavenet");
  assert.deepEqual(
    wavenets.map((preset) => preset.name),
    ["wavenet-standard", "wavenet-lite", "wavenet-feather", "wavenet-nano"],
  );
  for (const preset of wavenets) {
    const config = preset.model as WavenetModelConfig;
    const model = createModel(config);
    const expectedField =
      1 +
      config.layers.reduce((sum, a) => sum + (a.kernelSize - 1) * a.dilations.reduce((s, d) => s + d, 0), 0);
    assert.equal(model.receptiveField, expectedField, preset.name);
    assert.equal(model.receptiveField, 4093, preset.name);
    assert.equal(model.parameters.count, expectedParameters(config), preset.name);
    const y = model.forward(randomSequence(2, 1, model.receptiveField - 1 + 7, rng));
    assert.deepEqual([y.batch, y.channels, y.length], [2, 1, 7], preset.name);
  }
  const standard = createModel(wavenets[0]!.model);
  assert.equal(standard.parameters.count, 13801); // wavenet_a1_standard.nam: 13802 weights, the last is head_scale
});

test("WavenetModel rejects bad configs and short inputs with clear messages", () => {
  const bad = (layers: WavenetLayerArrayConfig[], pattern: RegExp) =>
    assert.throws(() => new WavenetModel({ architecture: "wavenet", layers, headScale: 0.02 }), pattern);
  bad(
    [array({ channels: 3, headSize: 2 }), array({ inputSize: 3, channels: 4 })],
    /layer array 0 headSize 2 must equal layer array 1 channels 4/,
  );
  bad(
    [array({ channels: 3, headSize: 4 }), array({ inputSize: 2, channels: 4 })],
    /layer array 1 inputSize 2 must equal layer array 0 channels 3/,
  );
  bad([array({ dilations: [] })], /layer array 0: dilations must list at least one layer/);
  bad([array({ dilations: [1, 0] })], /dilations\[1\] must be a whole number >= 1, got 0/);
  bad([array({ headSize: 2 })], /last layer array's headSize 2/);
  bad([array({ conditionSize: 2 })], /conditionSize 2 must equal the model input channels 1/);
  assert.throws(
    () => new WavenetModel({ architecture: "wavenet", layers: [], headScale: 1 }),
    /at least one layer array/,
  );
  assert.throws(
    () => createModel({ architecture: "wavenet", layers: [{ ...array({}), dilations: [] }] }),
    /dilations/,
  );
  const model = new WavenetModel({ architecture: "wavenet", layers: [array({})], headScale: 1 });
  assert.throws(
    () => model.forward(randomSequence(1, 1, 6, rng)),
    /6 samples is shorter than the receptive field 7/,
  );
});

test("NAM A1 config conversion: both directions, unsupported features refused", () => {
  const nam = {
    layers: [
      {
        input_size: 1,
        condition_size: 1,
        head_size: 2,
        channels: 3,
        kernel_size: 3,
        dilations: [1, 2],
        activation: "Tanh",
        gated: false,
        head_bias: false,
      },
      {
        input_size: 3,
        condition_size: 1,
        head_size: 1,
        channels: 2,
        kernel_size: 3,
        dilations: [8],
        activation: "LeakyReLU",
        gated: true,
        head_bias: true,
      },
    ],
    head: null,
    head_scale: 0.02,
  };
  const ours = modelConfigFromNamA1(nam);
  assert.equal(ours.layers[1]!.activation, "leakyRelu");
  assert.equal(ours.layers[1]!.gated, true);
  assert.deepEqual(namA1ConfigFromModel(ours), nam);
  assert.equal(modelConfigFromNamA1(nam, [0.5, Math.fround(0.02)]).headScale, 0.02);
  assert.equal(modelConfigFromNamA1(nam, [0.5, 0.25]).headScale, 0.25); // the core plays the last weight
  const layer0 = nam.layers[0]!;
  assert.throws(
    () => modelConfigFromNamA1({ ...nam, layers: [{ ...layer0, activation: "Swish" }, nam.layers[1]] }),
    /layers\[0\]\.activation: unknown activation "Swish"/,
  );
  assert.throws(
    () => modelConfigFromNamA1({ ...nam, layers: [{ ...layer0, bottleneck: 2 }, nam.layers[1]] }),
    /layers\[0\]: unsupported field\(s\) "bottleneck"/,
  );
  assert.throws(
    () => modelConfigFromNamA1({ ...nam, condition_dsp: {} }),
    /unsupported field\(s\) "condition_dsp"/,
  );
  assert.throws(() => modelConfigFromNamA1({ ...nam, head: { channels: 2 } }), /"head" must be null/);
  assert.throws(
    () => modelConfigFromNamA1({ ...nam, layers: [{ ...layer0, head_size: 3 }, nam.layers[1]] }),
    /layer array 0 headSize 3 must equal layer array 1 channels 2/,
  );
  assert.throws(
    () =>
      namA1ConfigFromModel({
        ...ours,
        layers: [{ ...ours.layers[0]!, activation: "identity" }, ours.layers[1]!],
      }),
    /"identity" has no NAM equivalent/,
  );
  const model = new WavenetModel(ours);
  assert.throws(
    () => setParametersFromNamA1Weights(model.parameters, ours, new Array(model.parameters.count).fill(0)),
    new RegExp(
      `expected ${model.parameters.count + 1} \\(${model.parameters.count} tensor values \\+ head_scale\\), got ${model.parameters.count}`,
    ),
  );
  const wrongScale = new Array(model.parameters.count + 1).fill(0);
  assert.throws(() => setParametersFromNamA1Weights(model.parameters, ours, wrongScale), /head_scale/);
});

interface NamFile {
  architecture: string;
  config: unknown;
  weights: number[];
}

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

for (const [file, weightCount] of [
  ["wavenet", 131],
  ["wavenet_a1_standard", 13802],
] as const) {
  const relative = `nam-reference/models/${file}.nam`;
  test(`NAM core parity: ${file}.nam (prewarmed reference, float32)`, {
    skip: missingShared(relative),
  }, (t) => {
    const nam = JSON.parse(readFileSync(sharedPath(relative), "utf8")) as NamFile;
    assert.equal(nam.architecture, "WaveNet");
    assert.equal(nam.weights.length, weightCount);
    const config = modelConfigFromNamA1(nam.config, nam.weights);
    const model = new WavenetModel(config, { floatType: "float32" });
    assert.equal(model.parameters.count, weightCount - 1);
    setParametersFromNamA1Weights(model.parameters, config, nam.weights);
    assert.deepEqual(namA1WeightsFromParameters(model.parameters, config), nam.weights);
    assert.deepEqual(namA1ConfigFromModel(config), nam.config);

    const input = readFloat32(sharedPath("nam-reference/input.f32"));
    const expected = readFloat32(sharedPath(`nam-reference/out/${file}.bs64.f32`));
    assert.equal(input.length, 144000);
    // Our valid convolution over R - 1 zeros of history equals the core's prewarm with zeros. The signal runs
    // as a batch of 8 chunks, each with its own R - 1 samples of history (zeros before the start).
    const history = model.receptiveField - 1;
    const chunks = 8;
    const chunk = input.length / chunks;
    const windowLength = history + chunk;
    const x = new Float32Array(chunks * windowLength);
    for (let b = 0; b < chunks; b++) {
      for (let t = 0; t < windowLength; t++) {
        const source = b * chunk + t - history;
        x[b * windowLength + t] = source >= 0 ? input[source]! : 0;
      }
    }
    const y = model.forward({ data: x, batch: chunks, channels: 1, length: windowLength });
    assert.deepEqual([y.batch, y.channels, y.length], [chunks, 1, chunk]);
    let maxError = 0;
    let peak = 0;
    for (let k = 0; k < expected.length; k++) {
      maxError = Math.max(maxError, Math.abs(y.data[k]! - expected[k]!));
      peak = Math.max(peak, Math.abs(expected[k]!));
    }
    t.diagnostic(`${file}: max |error| ${maxError.toExponential(2)}, peak |y| ${peak.toFixed(4)}`);
    assert.ok(maxError <= 1e-4 * Math.max(1, peak), `${file}: max |error| ${maxError} vs peak ${peak}`);
  });
}
