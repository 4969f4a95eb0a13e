import { allocateSignals, arenaCopy, Signal } from "../../../runtime/graph.ts";
import { addRows, copySamples } from "../../../runtime/kernels.ts";
import {
  type ConvLayer,
  GATE_BLEND,
  GATE_NONE,
  GATE_PRODUCT,
  MAX_LAYER_TERMS,
  packLayerWeights,
  type WasmKernels,
} from "../../../runtime/wasm/kernels.ts";
import { invalid } from "../fields.ts";
import type { NamFile, WeightReader } from "../file.ts";
import { activateRows, type NamActivation, wasmActivation } from "./activations.ts";
import {
  advanceSignals,
  type BuildModel,
  beginSignals,
  bindConv,
  type Conv,
  convArrays,
  convolve,
  copyBlock,
  HistoryDsp,
  type NamModel,
  readWeights,
  type StatefulDsp,
} from "./dsp.ts";
import {
  convOutputs,
  FILM_PLACES,
  type FilmPlace,
  filmDim,
  headInputs,
  type LayerArraySpec,
  type LayerSpec,
  type PostHeadSpec,
  parseWavenetConfig,
  type WavenetSpec,
} from "./wavenet-config.ts";

/*
 * WaveNet as NAM core runs it (NAM/wavenet/model.cpp; A2's fast path and the slimmable WaveNet at full size
 * compute the same). Per layer array, with condition c (the input, or the condition DSP's output):
 *   x0 = rechannel(input)                                          1x1, no bias
 *   per layer: z = conv(x) + mixin(c)                              dilated conv with bias; 1x1 without
 *              a = f(z) | f(z[:B]) g(z[B:]) | blend                 (GatingMode)
 *              head += head1x1(a) | a;   x' = x + layer1x1(a) | x
 *   out = head_rechannel(head)                                     conv over the summed head, kernel >= 1
 * FiLMs may modulate the steps. The next array's layers read x' and continue its head sum from `out`; the model
 * outputs head_scale * out of the last array (through the post-stack head when there is one).
 */

/** FiLM (NAM/film.h): x * scale + shift (or x * scale), [scale; shift] = a 1x1 conv of the condition. */
interface Film {
  conv: Conv;
  dim: number;
  shift: boolean;
}

interface LayerWeights {
  spec: LayerSpec;
  /** z's channels: B, or 2B with gating. */
  zChannels: number;
  conv: Conv;
  mixin: Conv;
  layer1x1: Conv | null;
  head1x1: Conv | null;
  films: Partial<Record<FilmPlace, Film>>;
}

interface ArrayWeights {
  spec: LayerArraySpec;
  rechannel: Conv;
  layers: LayerWeights[];
  headRechannel: Conv;
}

interface WavenetWeights {
  inChannels: number;
  outChannels: number;
  arrays: ArrayWeights[];
  /** The post-stack head's convs (each after the activation), or null. */
  postHead: { convs: Conv[]; activation: NamActivation } | null;
  headScale: number;
  condition: NamModel | null;
}

/** Reads a WaveNet's config and weights; `build` builds its condition DSP. */
export function loadWavenet(file: NamFile, build: BuildModel): NamModel {
  const spec = parseWavenetConfig(file);
  const condition = spec.condition ? build(spec.condition) : null;
  if (condition) checkCondition(file, spec, condition.create());
  const weights = readWeights(file, (reader): WavenetWeights => {
    const arrays = spec.arrays.map((array, i) => readArray(reader, array, `layer array ${i}`));
    const postHead = spec.postHead ? readPostHead(reader, spec.postHead) : null;
    return {
      inChannels: spec.inChannels,
      outChannels: spec.postHead ? spec.postHead.outChannels : spec.arrays.at(-1)!.headSize,
      arrays,
      postHead,
      // model.cpp WaveNet::set_weights_: the last weight, whatever the config's head_scale says.
      headScale: Math.fround(reader.next("the head scale")),
      condition,
    };
  });
  return {
    architecture: "WaveNet",
    create: (exact = false) => new WavenetDsp(weights, file.sampleRate, exact),
  };
}

/** model.cpp: the condition DSP takes the WaveNet's input, feeds every array's condition and runs at its rate. */
function checkCondition(file: NamFile, spec: WavenetSpec, condition: StatefulDsp): void {
  const path = `${file.source}: config.condition_dsp`;
  if (condition.inChannels !== spec.inChannels) {
    throw invalid(
      path,
      `takes ${condition.inChannels} channel(s), the WaveNet's input has ${spec.inChannels}`,
    );
  }
  spec.arrays.forEach((array, i) => {
    if (array.conditionSize !== condition.outChannels) {
      throw invalid(
        `${file.source}: config.layers[${i}].condition_size`,
        `is ${array.conditionSize}, the condition DSP outputs ${condition.outChannels} channel(s)`,
      );
    }
  });
  if (condition.sampleRate !== file.sampleRate) {
    throw invalid(
      path,
      `has sample rate ${condition.sampleRate}, the WaveNet ${file.sampleRate} (they must match)`,
    );
  }
}

/** A conv's weights in NAM's order: w, then the bias. kernelSize, dilation and groups default to 1. */
function readConv(
  reader: WeightReader,
  what: string,
  shape: {
    inChannels: number;
    outChannels: number;
    kernelSize?: number;
    dilation?: number;
    groups?: number;
    bias: boolean;
  },
): Conv {
  const { inChannels, outChannels, kernelSize = 1, dilation = 1, groups = 1 } = shape;
  const w = reader.take((outChannels * inChannels * kernelSize) / groups, `${what} weights`);
  const b = shape.bias ? reader.take(outChannels, `${what} bias`) : null;
  return { w, b, inChannels, outChannels, kernelSize, dilation, groups, wasm: null };
}

/**
 * An array's weights with `bind` applied to every conv (objects written out as readArray builds them, no spread:
 * the same shapes, so the code reading them sees one shape per kind of object).
 */
function mapArrayConvs(array: ArrayWeights, bind: (conv: Conv) => Conv): ArrayWeights {
  const rechannel = bind(array.rechannel);
  const layers = array.layers.map((layer): LayerWeights => {
    const { spec, zChannels } = layer;
    const conv = bind(layer.conv);
    const mixin = bind(layer.mixin);
    const layer1x1 = layer.layer1x1 ? bind(layer.layer1x1) : null;
    const head1x1 = layer.head1x1 ? bind(layer.head1x1) : null;
    const films: Partial<Record<FilmPlace, Film>> = {};
    for (const place of FILM_PLACES) {
      const film = layer.films[place];
      if (film) films[place] = { conv: bind(film.conv), dim: film.dim, shift: film.shift };
    }
    return { spec, zChannels, conv, mixin, layer1x1, head1x1, films };
  });
  const headRechannel = bind(array.headRechannel);
  return { spec: array.spec, rechannel, layers, headRechannel };
}

/** detail::Head: per kernel size a conv with bias (dilation 1), `channels` wide but for the last. */
function readPostHead(reader: WeightReader, spec: PostHeadSpec): WavenetWeights["postHead"] {
  let inChannels = spec.inChannels;
  const convs = spec.kernelSizes.map((kernelSize, i) => {
    const out = i === spec.kernelSizes.length - 1 ? spec.outChannels : spec.channels;
    const conv = readConv(reader, `post-stack head conv ${i}`, {
      inChannels,
      outChannels: out,
      kernelSize,
      bias: true,
    });
    inChannels = out;
    return conv;
  });
  return { convs, activation: spec.activation };
}

/** In LayerArray::set_weights_ order: rechannel, each layer, head rechannel. */
function readArray(reader: WeightReader, spec: LayerArraySpec, name: string): ArrayWeights {
  const { channels, bottleneck, conditionSize } = spec;
  const rechannel = readConv(reader, `${name} rechannel`, {
    inChannels: spec.inputSize,
    outChannels: channels,
    bias: false,
  });
  const layers = spec.layers.map((layer, j): LayerWeights => {
    const what = `${name} layer ${j}`;
    const zChannels = convOutputs(spec, layer);
    const { kernelSize, dilation } = layer;
    const groups = spec.groupsInput;
    const conv = readConv(reader, `${what} conv`, {
      inChannels: channels,
      outChannels: zChannels,
      kernelSize,
      dilation,
      groups,
      bias: true,
    });
    const mixin = readConv(reader, `${what} input mixin`, {
      inChannels: conditionSize,
      outChannels: zChannels,
      groups: spec.groupsInputMixin,
      bias: false,
    });
    const layer1x1 = spec.layer1x1
      ? readConv(reader, `${what} layer1x1`, {
          inChannels: bottleneck,
          outChannels: channels,
          groups: spec.layer1x1.groups,
          bias: true,
        })
      : null;
    const head1x1 = spec.head1x1
      ? readConv(reader, `${what} head1x1`, {
          inChannels: bottleneck,
          outChannels: spec.head1x1.outChannels,
          groups: spec.head1x1.groups,
          bias: true,
        })
      : null;
    const films: Partial<Record<FilmPlace, Film>> = {};
    for (const place of FILM_PLACES) {
      const film = spec.films[place];
      if (!film) continue;
      const dim = filmDim(spec, layer, place);
      const outChannels = (film.shift ? 2 : 1) * dim;
      const conv = readConv(reader, `${what} ${place}`, {
        inChannels: conditionSize,
        outChannels,
        groups: film.groups,
        bias: true,
      });
      films[place] = { conv, dim, shift: film.shift };
    }
    return { spec: layer, zChannels, conv, mixin, layer1x1, head1x1, films };
  });
  const headRechannel = readConv(reader, `${name} head rechannel`, {
    inChannels: headInputs(spec),
    outChannels: spec.headSize,
    kernelSize: spec.headKernelSize,
    dilation: spec.headDilation,
    bias: spec.headBias,
  });
  return { spec, rechannel, layers, headRechannel };
}

/** dst (+)= conv(src) over the block; src keeps the conv's (kernelSize - 1) * dilation samples of history. */
function runConv(conv: Conv, dst: Signal, src: Signal, frames: number, accumulate: boolean): void {
  convolve(conv, dst.data, dst.pos, dst.stride, src.data, src.pos, src.stride, frames, accumulate);
}

/** dst = src * scale (+ shift) over film.dim channels, [scale; shift] = film.conv(cond) in `scratch`. dst may be src. */
function applyFilm(
  film: Film,
  dst: Signal,
  src: Signal,
  cond: Signal,
  scratch: Signal,
  frames: number,
): void {
  runConv(film.conv, scratch, cond, frames, false);
  const s = scratch.data;
  for (let c = 0; c < film.dim; c++) {
    const d = c * dst.stride + dst.pos;
    const x = c * src.stride + src.pos;
    const scale = c * scratch.stride;
    if (film.shift) {
      const shift = (film.dim + c) * scratch.stride;
      for (let t = 0; t < frames; t++) dst.data[d + t] = src.data[x + t]! * s[scale + t]! + s[shift + t]!;
    } else {
      for (let t = 0; t < frames; t++) dst.data[d + t] = src.data[x + t]! * s[scale + t]!;
    }
  }
}

/**
 * A ConvLayer (src/runtime/wasm/kernels.ts) running `conv` (bound to the arena of `wasm`) from inp into out, and the
 * 1x1 `mixin` of `mix` summed with it when given; nothing else fused yet. Its packed weights go into the arena.
 */
function fusedStep(
  wasm: WasmKernels,
  conv: Conv,
  inp: Signal,
  out: Signal,
  mixin: Conv | null = null,
  mix: Signal | null = null,
): ConvLayer {
  const mixChannels = mixin ? mixin.inChannels : 0;
  const { inChannels, outChannels, kernelSize } = conv;
  const packed = packLayerWeights(conv.w, mixin?.w ?? null, outChannels, inChannels, kernelSize, mixChannels);
  return {
    inp,
    weight: arenaCopy(wasm, packed),
    bias: conv.b,
    inChannels,
    outChannels,
    kernelSize,
    dilation: conv.dilation,
    accumulate: false,
    mix,
    mixChannels,
    out,
    res: null,
    dst: out,
    head: null,
    activation: 0,
    secondary: 0,
    gate: GATE_NONE,
    slopes: null,
  };
}

/**
 * A layer as (at most) three wasm calls: main: z = conv(x) + mixin(c), a = activation / gate / blend, head sum += a
 * (when no head1x1); head: head sum += head1x1(a); out: x' = layer1x1(a) + x.
 */
interface FusedLayer {
  main: ConvLayer;
  head: ConvLayer | null;
  out: ConvLayer | null;
}

const GATES = { none: GATE_NONE, gated: GATE_PRODUCT, blended: GATE_BLEND } as const;

/** One layer array's signals for one stream. */
class ArrayRunner {
  private readonly weights: ArrayWeights;
  /** The weights with their convs bound to the DSP's arena (the weights themselves with the JS kernels). */
  w: ArrayWeights;
  /** Layer j's input block x (written by the rechannel or layer j - 1). */
  private readonly inputs: Signal[];
  /** Layer j's conv input with its history: inputs[j] itself, or FiLM(inputs[j]) with conv_pre_film. */
  private readonly convIns: Signal[];
  /** The head sum, with the head rechannel's history. */
  private readonly headSum: Signal;
  readonly headOut: Signal;
  /** The last layer's x' (the next array's input), or null when nothing reads it (the last array). */
  readonly output: Signal | null;
  /** Scratch blocks: z, the mixin's output, z before the blend, FiLM's [scale; shift], FiLM(c), head1x1's output. */
  private readonly z: Signal;
  private readonly mix: Signal;
  private readonly pre: Signal;
  private readonly film: Signal;
  private readonly condFilm: Signal;
  private readonly head: Signal;
  /** What reset clears and the prewarm snapshot saves, and every signal. */
  readonly histories: Signal[];
  readonly signals: Signal[];
  /** The wasm kernels (null: JS), and per layer its fused steps, or null where it runs op by op (FiLMs, groups...). */
  private wasm: WasmKernels | null = null;
  private fused: (FusedLayer | null)[] = [];

  constructor(w: ArrayWeights, last: boolean) {
    this.weights = w;
    this.w = w;
    const { spec } = w;
    const preFilm = spec.films.conv_pre_film !== undefined;
    this.convIns = spec.layers.map(
      (layer) => new Signal(spec.channels, (layer.kernelSize - 1) * layer.dilation),
    );
    this.inputs = preFilm ? spec.layers.map(() => new Signal(spec.channels, 0)) : this.convIns;
    this.headSum = new Signal(headInputs(spec), (spec.headKernelSize - 1) * spec.headDilation);
    this.headOut = new Signal(spec.headSize, 0);
    this.output = last ? null : new Signal(spec.channels, 0);
    const most = (values: number[]) => Math.max(0, ...values);
    const layers = w.layers;
    this.z = new Signal(most(layers.map((l) => l.zChannels)), 0);
    this.mix = new Signal(most(layers.map((l) => (l.films.input_mixin_post_film ? l.zChannels : 0))), 0);
    this.pre = new Signal(layers.some((l) => l.spec.gating === "blended") ? spec.bottleneck : 0, 0);
    this.film = new Signal(
      most(layers.flatMap((l) => Object.values(l.films).map((f) => f.conv.outChannels))),
      0,
    );
    this.condFilm = new Signal(spec.films.input_mixin_pre_film ? spec.conditionSize : 0, 0);
    this.head = new Signal(spec.head1x1 ? spec.head1x1.outChannels : 0, 0);
    this.histories = [...this.convIns, this.headSum];
    const scratch = [this.z, this.mix, this.pre, this.film, this.condFilm, this.head, this.headOut];
    this.signals = [
      ...new Set([...this.histories, ...this.inputs, ...scratch, ...(this.output ? [this.output] : [])]),
    ];
  }

  /** Every conv of the array (unbound). */
  convs(): Conv[] {
    const convs: Conv[] = [];
    mapArrayConvs(this.weights, (conv) => {
      convs.push(conv);
      return conv;
    });
    return convs;
  }

  /**
   * Binds the convs to `wasm`'s arena (where the signals are), or to the JS kernels (null); with wasm, fuses each
   * layer it can (reading the condition `cond`; `exact`: float64 tanh / sigmoid / SiLU, see wasmActivation).
   */
  bind(wasm: WasmKernels | null, cond: Signal, exact: boolean): void {
    this.w = wasm === null ? this.weights : mapArrayConvs(this.weights, (conv) => bindConv(conv, wasm));
    this.wasm = wasm;
    this.fused = wasm === null ? [] : this.w.layers.map((layer, j) => this.fuse(wasm, layer, j, cond, exact));
  }

  /** Layer j's fused steps, or null when a part of it has no fused form. */
  private fuse(
    wasm: WasmKernels,
    layer: LayerWeights,
    j: number,
    cond: Signal,
    exact: boolean,
  ): FusedLayer | null {
    const { spec } = layer;
    const f = wasmActivation(spec.activation, exact);
    const g = spec.secondary ? wasmActivation(spec.secondary, exact) : f;
    const convs = [layer.conv, layer.mixin, layer.layer1x1, layer.head1x1];
    const terms = layer.conv.inChannels * layer.conv.kernelSize + layer.mixin.inChannels;
    if (
      !f ||
      !g ||
      Object.keys(layer.films).length > 0 ||
      convs.some((conv) => conv && conv.groups !== 1) ||
      terms > MAX_LAYER_TERMS
    ) {
      return null;
    }
    const main = fusedStep(wasm, layer.conv, this.convIns[j]!, this.z, layer.mixin, cond);
    main.activation = f.code;
    main.secondary = g.code;
    main.slopes = arenaCopy(wasm, Float32Array.of(f.slope, g.slope));
    main.gate = GATES[spec.gating];
    main.head = layer.head1x1 ? null : this.headSum;
    let head: ConvLayer | null = null;
    if (layer.head1x1) {
      head = fusedStep(wasm, layer.head1x1, this.z, this.headSum);
      head.accumulate = true;
    }
    const next = this.inputs[j + 1] ?? this.output;
    let out: ConvLayer | null = null;
    if (next !== null && layer.layer1x1) {
      out = fusedStep(wasm, layer.layer1x1, this.z, next);
      out.res = this.inputs[j]!;
    }
    return { main, head, out };
  }

  /** input: the array's input block; cond: the condition block; previous: the previous array's head output. */
  process(input: Signal, cond: Signal, previous: Signal | null, frames: number): void {
    const { w, headSum } = this;
    runConv(w.rechannel, this.inputs[0]!, input, frames, false);
    const sum = headSum.data;
    for (let c = 0; c < headSum.channels; c++) {
      const row = c * headSum.stride + headSum.pos;
      if (previous === null) {
        for (let t = 0; t < frames; t++) sum[row + t] = 0;
      } else {
        copySamples(sum, row, previous.data, c * previous.stride + previous.pos, frames);
      }
    }
    for (let j = 0; j < w.layers.length; j++) this.layer(j, cond, frames);
    runConv(w.headRechannel, this.headOut, headSum, frames, false);
  }

  /** Layer j (wavenet/model.cpp Layer::Process). */
  private layer(j: number, cond: Signal, frames: number): void {
    const fused = this.fused[j];
    if (fused !== null && fused !== undefined) {
      this.fusedLayer(j, fused, frames);
      return;
    }
    const layer = this.w.layers[j]!;
    const { films, zChannels } = layer;
    const { z, film } = this;
    const bottleneck = this.w.spec.bottleneck;
    const input = this.inputs[j]!;
    const convIn = this.convIns[j]!;
    if (films.conv_pre_film) applyFilm(films.conv_pre_film, convIn, input, cond, film, frames);
    runConv(layer.conv, z, convIn, frames, false);
    if (films.conv_post_film) applyFilm(films.conv_post_film, z, z, cond, film, frames);
    let mixinIn = cond;
    if (films.input_mixin_pre_film) {
      applyFilm(films.input_mixin_pre_film, this.condFilm, cond, cond, film, frames);
      mixinIn = this.condFilm;
    }
    if (films.input_mixin_post_film) {
      runConv(layer.mixin, this.mix, mixinIn, frames, false);
      applyFilm(films.input_mixin_post_film, this.mix, this.mix, cond, film, frames);
      addRows(z.data, z.pos, z.stride, this.mix.data, this.mix.pos, this.mix.stride, zChannels, frames);
    } else {
      runConv(layer.mixin, z, mixinIn, frames, true);
    }
    if (films.activation_pre_film) applyFilm(films.activation_pre_film, z, z, cond, film, frames);
    this.activate(layer.spec, frames);
    if (films.activation_post_film) applyFilm(films.activation_post_film, z, z, cond, film, frames);

    const headSum = this.headSum;
    if (layer.head1x1) {
      const head = this.head;
      runConv(layer.head1x1, head, z, frames, false);
      if (films.head1x1_post_film) applyFilm(films.head1x1_post_film, head, head, cond, film, frames);
      addRows(
        headSum.data,
        headSum.pos,
        headSum.stride,
        head.data,
        head.pos,
        head.stride,
        head.channels,
        frames,
      );
    } else {
      addRows(headSum.data, headSum.pos, headSum.stride, z.data, z.pos, z.stride, bottleneck, frames);
    }

    const next = this.inputs[j + 1] ?? this.output;
    if (next === null) return;
    const channels = this.w.spec.channels;
    if (layer.layer1x1) {
      runConv(layer.layer1x1, next, z, frames, false);
      // model.cpp applies layer1x1_post_film in blended layers only (its weights are read for every layer).
      if (films.layer1x1_post_film && layer.spec.gating === "blended") {
        applyFilm(films.layer1x1_post_film, next, next, cond, film, frames);
      }
      addRows(next.data, next.pos, next.stride, input.data, input.pos, input.stride, channels, frames);
    } else {
      for (let c = 0; c < channels; c++) {
        copySamples(next.data, c * next.stride + next.pos, input.data, c * input.stride + input.pos, frames);
      }
    }
  }

  /** Layer j with the wasm kernels, fused: the same sums (in another float32 order) and activations. */
  private fusedLayer(j: number, fused: FusedLayer, frames: number): void {
    const wasm = this.wasm!;
    wasm.convLayer(fused.main, frames);
    if (fused.head !== null) wasm.convLayer(fused.head, frames);
    if (fused.out !== null) {
      wasm.convLayer(fused.out, frames);
      return;
    }
    const next = this.inputs[j + 1] ?? this.output;
    if (next === null) return;
    // No layer1x1: x' = x.
    const input = this.inputs[j]!;
    for (let c = 0; c < input.channels; c++) {
      copySamples(next.data, c * next.stride + next.pos, input.data, c * input.stride + input.pos, frames);
    }
  }

  /** z[:B] = a (gating_activations.h GatingActivation / BlendingActivation). */
  private activate(layer: LayerSpec, frames: number): void {
    const { z, pre } = this;
    const b = this.w.spec.bottleneck;
    const data = z.data;
    const stride = z.stride;
    // The blend mixes in z[:B] as it was before the activation.
    if (layer.gating === "blended") {
      for (let c = 0; c < b; c++) copySamples(pre.data, c * pre.stride, data, c * stride + z.pos, frames);
    }
    activateRows(layer.activation, data, z.pos, stride, b, frames);
    if (layer.gating === "none") return;
    activateRows(layer.secondary!, data, z.pos + b * stride, stride, b, frames);
    for (let c = 0; c < b; c++) {
      const a = c * stride + z.pos;
      const g = a + b * stride;
      if (layer.gating === "gated") {
        for (let t = 0; t < frames; t++) data[a + t] = data[a + t]! * data[g + t]!;
      } else {
        const p = c * pre.stride;
        for (let t = 0; t < frames; t++) {
          const alpha = data[g + t]!;
          data[a + t] = alpha * data[a + t]! + (1 - alpha) * pre.data[p + t]!;
        }
      }
    }
  }
}

class WavenetDsp extends HistoryDsp {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly prewarmSamples: number;
  readonly receptiveField: number | undefined;
  private readonly w: WavenetWeights;
  private readonly condition: StatefulDsp | null;
  /** The input block, and the condition block (the input itself without a condition DSP). */
  private readonly x: Signal;
  private readonly cond: Signal;
  private readonly runners: ArrayRunner[];
  /** The post-stack head's conv inputs, each with kernelSize - 1 samples of history. */
  private readonly headIns: Signal[];
  /** The post-stack head's convs, bound to this DSP's arena (as the weights' with the JS kernels). */
  private headConvs: Conv[];
  /** The output block in the arena (written by the post-stack head with the wasm kernels only). */
  private readonly y: Signal;
  protected readonly histories: Signal[];
  private readonly signals: Signal[];

  constructor(
    weights: WavenetWeights,
    sampleRate: number | null,
    private readonly exact: boolean,
  ) {
    super(sampleRate);
    this.w = weights;
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    this.condition = weights.condition ? weights.condition.create(exact) : null;
    this.x = new Signal(weights.inChannels, 0);
    this.cond = this.condition ? new Signal(this.condition.outChannels, 0) : this.x;
    this.runners = weights.arrays.map((array, i) => new ArrayRunner(array, i === weights.arrays.length - 1));
    this.headIns = (weights.postHead?.convs ?? []).map(
      (conv) => new Signal(conv.inChannels, conv.kernelSize - 1),
    );
    this.headConvs = weights.postHead?.convs ?? [];
    this.y = new Signal(weights.outChannels, 0);
    this.histories = [...this.runners.flatMap((runner) => runner.histories), ...this.headIns];
    this.signals = [
      ...new Set([this.x, this.cond, ...this.runners.flatMap((runner) => runner.signals), ...this.headIns]),
    ];
    // model.cpp: 1 (or the condition DSP's prewarm) + each array's receptive field (+ the post-stack head's - 1).
    const arrays = weights.arrays.reduce((sum, array) => sum + arrayReach(array), 0);
    const head = this.headIns.reduce((sum, signal) => sum + signal.keep, 0);
    this.prewarmSamples = (this.condition ? this.condition.prewarmSamples : 1) + arrays + head;
    const conditionReach = this.condition ? this.condition.receptiveField : 1;
    this.receptiveField = conditionReach === undefined ? undefined : conditionReach + arrays + head;
  }

  protected allocate(maxBlock: number): void {
    const headConvs = this.w.postHead?.convs ?? [];
    const convs = [...this.runners.flatMap((runner) => runner.convs()), ...headConvs];
    // The arena holds every conv's weights twice: bound as they are, and packed for the fused layers (with two
    // slopes per conv).
    const arrays = convArrays(convs);
    const slopes = convs.map(() => new Float32Array(2));
    const wasm = allocateSignals([...this.signals, this.y], maxBlock, [...arrays, ...arrays, ...slopes]);
    for (const runner of this.runners) runner.bind(wasm, this.cond, this.exact);
    this.headConvs = headConvs.map((conv) => bindConv(conv, wasm));
    this.condition?.prepare(maxBlock);
  }

  process(input: Float32Array, output: Float32Array, frames: number): void {
    const { x, cond, runners, w, maxBlock } = this;
    beginSignals(this.signals, frames);
    for (let c = 0; c < w.inChannels; c++) copySamples(x.data, c * x.stride, input, c * maxBlock, frames);
    // Both blocks are plain [channels][maxBlock] rows, the layout the condition DSP reads and writes.
    if (this.condition) this.condition.process(x.data, cond.data, frames);
    let arrayInput = x;
    let previous: Signal | null = null;
    for (let i = 0; i < runners.length; i++) {
      const runner = runners[i]!;
      runner.process(arrayInput, cond, previous, frames);
      if (runner.output) arrayInput = runner.output;
      previous = runner.headOut;
    }
    this.writeOutput(previous!, output, frames);
    advanceSignals(this.signals, frames);
  }

  /** output = head_scale * final, or the post-stack head of it (model.cpp WaveNet::process). */
  private writeOutput(final: Signal, output: Float32Array, frames: number): void {
    const { headScale, postHead } = this.w;
    const maxBlock = this.maxBlock;
    const target = postHead ? this.headIns[0]! : null;
    for (let c = 0; c < final.channels; c++) {
      const src = c * final.stride + final.pos;
      const dst = target ? target.data : output;
      const at = target ? c * target.stride + target.pos : c * maxBlock;
      for (let t = 0; t < frames; t++) dst[at + t] = headScale * final.data[src + t]!;
    }
    if (!postHead) return;
    const { activation } = postHead;
    const convs = this.headConvs;
    for (let i = 0; i < convs.length; i++) {
      const conv = convs[i]!;
      const src = this.headIns[i]!;
      // The activation runs on each conv's input (detail::Head::process).
      activateRows(activation, src.data, src.pos, src.stride, conv.inChannels, frames);
      const next = this.headIns[i + 1];
      if (next)
        convolve(conv, next.data, next.pos, next.stride, src.data, src.pos, src.stride, frames, false);
      else if (conv.wasm === null) {
        convolve(conv, output, 0, maxBlock, src.data, src.pos, src.stride, frames, false);
      } else {
        // The wasm kernels write to the arena's y.
        const y = this.y.data;
        convolve(conv, y, 0, maxBlock, src.data, src.pos, src.stride, frames, false);
        copyBlock(output, y, conv.outChannels, maxBlock, frames);
      }
    }
  }

  override clearState(): void {
    super.clearState();
    this.condition?.clearState();
  }

  override saveState(): void {
    super.saveState();
    this.condition?.saveState();
  }

  override restoreState(): void {
    super.restoreState();
    this.condition?.restoreState();
  }
}

/** An array's receptive field - 1: its layers' and head rechannel's (kernelSize - 1) * dilation. */
function arrayReach(array: ArrayWeights): number {
  const { spec } = array;
  const layers = spec.layers.reduce((sum, layer) => sum + (layer.kernelSize - 1) * layer.dilation, 0);
  return layers + (spec.headKernelSize - 1) * spec.headDilation;
}
