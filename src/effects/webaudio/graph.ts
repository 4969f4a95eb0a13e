import type { Audio } from "../../audio/audio.ts";
import { OptionError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";

/**
 * Web Audio effect graphs: a small JSON description of Web Audio nodes in series, built inside an
 * OfflineAudioContext and rendered. The context comes from `createContext`, so the same code renders with
 * node-web-audio-api in Node (src/node/webaudio.ts) and with the browser's own Web Audio in Chromium.
 * The two give the same samples to float rounding for gain (bit-identical), biquad, waveshaper without
 * oversampling, convolver and delay; the oversampled waveshaper (different resampling filters and latency)
 * and the compressor (different detector, knee and look-ahead) are the same effect, not the same samples
 * (test/effects/webaudio/chromium.test.ts measures all of it).
 *
 * Platform-neutral: this module references no Web Audio or DOM global, only the context it is given.
 *
 *   { "nodes": [
 *       { "kind": "biquad", "type": "highpass", "frequencyHz": 80, "q": 0.7071, "gainDb": 0 },
 *       { "kind": "waveshaper", "curve": "tanh", "driveDb": 24, "oversample": "4x" },
 *       { "kind": "biquad", "type": "lowpass", "frequencyHz": 5000, "q": 0.7071, "gainDb": 0 },
 *       { "kind": "delay", "delaySeconds": 0.25, "feedback": 0.4, "mix": 0.3 } ] }
 *
 * Every field is required here; effects.ts's zod schema fills the defaults and checks the ranges.
 */

export type BiquadType =
  | "lowpass"
  | "highpass"
  | "bandpass"
  | "lowshelf"
  | "highshelf"
  | "peaking"
  | "notch"
  | "allpass";

/** BiquadFilterNode (RBJ cookbook filters; Web Audio's formulas). */
export interface BiquadSpec {
  kind: "biquad";
  type: BiquadType;
  /** Corner / centre frequency in Hz (Web Audio clamps it to [0, Nyquist]). */
  frequencyHz: number;
  /**
   * Linear quality factor for every type (1/sqrt(2) = Butterworth). Web Audio reads Q in dB for lowpass and
   * highpass (resonance, 20 log10 q) and linearly for the others; the conversion happens here. Shelves ignore it.
   */
  q: number;
  /** Boost/cut in dB of peaking and shelving filters; the other types ignore it. */
  gainDb: number;
}

export type ShaperCurve = "tanh" | "hardclip" | "softclip";
export type Oversample = "none" | "2x" | "4x";

/** WaveShaperNode with a curve of CURVE_LENGTH points: y = curve(10^(driveDb/20) x). */
export interface WaveShaperSpec {
  kind: "waveshaper";
  /**
   * tanh: tanh(u); hardclip: clamp(u, -1, 1); softclip: the cubic 1.5 (u - u^3/3) for |u| <= 1, else sign(u)
   * (smooth at the knee, peak 1). All are odd, so silence stays silence and there is no DC offset.
   */
  curve: ShaperCurve;
  /** Gain in dB before the curve (baked into the curve, so inputs beyond [-1, 1] clip at curve(+-drive)). */
  driveDb: number;
  /** Web Audio's oversampling around the curve: less aliasing, some latency (see nodeLatencySamples). */
  oversample: Oversample;
}

/** DynamicsCompressorNode: Web Audio's compressor, stereo-linked, with its own automatic makeup gain. */
export interface CompressorSpec {
  kind: "compressor";
  /** Level in dBFS above which the gain is reduced, [-100, 0]. */
  thresholdDb: number;
  /** Width in dB of the soft knee above the threshold, [0, 40]. */
  kneeDb: number;
  /** dB of input change per dB of output change above the knee, [1, 20]. */
  ratio: number;
  /** Seconds to reduce the gain by 10 dB, [0, 1]. */
  attackSeconds: number;
  /** Seconds to raise the gain by 10 dB, [0, 1]. */
  releaseSeconds: number;
}

/** ConvolverNode with a synthesised room response (see synthesizeImpulse), mixed with the dry signal. */
export interface ConvolverSpec extends ImpulseOptions {
  kind: "convolver";
  /**
   * Web Audio's equal-power normalisation of the impulse (ConvolverNode.normalize, see normalizationScale).
   * Off: the impulse is used as synthesised (unit energy: wet about as loud as dry for broadband input).
   */
  normalize: boolean;
  /** Wet fraction: output = (1 - mix) dry + mix wet, [0, 1]. */
  mix: number;
}

/**
 * Feedback echo: the response of a DelayNode fed back through a GainNode, built without a cycle (see
 * echoStages): echoes at k delaySeconds with gains feedback^(k-1).
 */
export interface DelaySpec {
  kind: "delay";
  /** Seconds between echoes (any positive time: there is no cycle, so no one-render-quantum minimum). */
  delaySeconds: number;
  /** Gain of each echo relative to the previous one, (-1, 1). */
  feedback: number;
  /** Wet fraction: output = (1 - mix) x[n] + mix sum_k feedback^(k-1) x[n - k delay], [0, 1]. */
  mix: number;
}

/** GainNode. */
export interface GainSpec {
  kind: "gain";
  gainDb: number;
}

export type GraphNode = BiquadSpec | WaveShaperSpec | CompressorSpec | ConvolverSpec | DelaySpec | GainSpec;
export type NodeKind = GraphNode["kind"];

/** Nodes in series: the input feeds nodes[0], whose output feeds nodes[1], ... The last feeds the output. */
export interface Graph {
  nodes: GraphNode[];
}

/** Makes the OfflineAudioContext to render in: node-web-audio-api's class in Node, the browser's own there. */
export type CreateContext = (channels: number, length: number, sampleRate: number) => OfflineAudioContext;

export interface GraphRender {
  /** Same sample rate, channel count and length as the input (tails past the end are cut). */
  audio: Audio;
  /** Sum of the nodes' processing latencies (nodeLatencySamples). */
  latencySamples: number;
}

/**
 * Number of points in a waveshaper curve: 2^16 + 1. Web Audio maps x in [-1, 1] to the index
 * (N - 1)(x + 1) / 2 and interpolates linearly, so an odd N puts x = 0 exactly on the middle point (curve value
 * 0: no offset). With h = 2 / (N - 1) = 3.05e-5 the interpolation error is about h^2/8 max|f''| for a smooth
 * curve (tanh at the largest drive, 40 dB: 9e-7; at 18 dB: 6e-9) and drive h / 4 at a hard clip's corner
 * (7.6e-4 at 40 dB, 3e-5 at 12 dB, only for samples within h of the corner). 8193 points would make those
 * 64 times larger. Longer curves gain nothing: node-web-audio-api computes the index in float32, which
 * resolves x to about 6e-8 whatever N is; the curve (256 KiB) is built once per render.
 */
export const CURVE_LENGTH = 65537;

/**
 * Renders `audio` through the graph in an OfflineAudioContext from `createContext`. Each channel is
 * processed as Web Audio processes it (the compressor links two channels and accepts at most two).
 */
export async function renderGraph(
  graph: Graph,
  audio: Audio,
  createContext: CreateContext,
): Promise<GraphRender> {
  const rendered = await renderSamples(graph, audio, createContext);
  let latencySamples = 0;
  for (const node of graph.nodes)
    latencySamples += await nodeLatencySamples(node, audio.sampleRate, createContext);
  return { audio: rendered, latencySamples };
}

/** renderGraph without the latency. */
async function renderSamples(graph: Graph, audio: Audio, createContext: CreateContext): Promise<Audio> {
  const channels = audio.channels.length;
  const length = audio.channels[0]?.length ?? 0;
  const { sampleRate } = audio;
  for (const node of graph.nodes) checkNode(node, channels, sampleRate);
  if (length === 0) return { sampleRate, channels: audio.channels.map(() => new Float32Array(0)) };
  const context = createContext(channels, length, sampleRate);
  const buffer = context.createBuffer(channels, length, sampleRate);
  audio.channels.forEach((channel, index) => {
    buffer.copyToChannel(new Float32Array(channel), index);
  });
  const source = context.createBufferSource();
  source.buffer = buffer;
  let tail: AudioNode = source;
  for (const node of graph.nodes) tail = buildNode(context, tail, node, channels);
  tail.connect(context.destination);
  source.start(0);
  const rendered = await context.startRendering();
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const samples = new Float32Array(length);
    rendered.copyFromChannel(samples, c);
    out.push(samples);
  }
  return { sampleRate, channels: out };
}

/**
 * Samples by which a node's output lags its input through processing rather than character (an echo's delay
 * is the effect itself), as the engine behind `createContext` implements it. Web Audio leaves these to the
 * implementation and they differ (measured at 22.05-96 kHz):
 * - waveshaper with oversampling: Chromium's FIR up/down-samplers 128 frames (2x) and 192 (4x);
 *   node-web-audio-api's block FFT resampler (rubato) 128 for both;
 * - compressor: a 6 ms look-ahead, floor(0.006 sampleRate) frames in Chromium (288 at 48 kHz) and whole render
 *   quanta in node-web-audio-api, ceil(0.006 sampleRate / 128) * 128 (384 at 48 kHz);
 * - biquad, waveshaper without oversampling, convolver, delay, gain: 0.
 * So the engine is asked: a small probe graph (a few thousand frames) is rendered once per engine, sample
 * rate and node type, and the answer cached: the peak of an impulse through an identity curve for the
 * waveshaper, the first non-zero output after a -120 dBFS impulse (below any threshold) for the compressor.
 * The cache is keyed by the `createContext` function: pass the same one each time.
 */
export async function nodeLatencySamples(
  node: GraphNode,
  sampleRate: number,
  createContext: CreateContext,
): Promise<number> {
  let probe: GraphNode;
  let amplitude: number;
  if (node.kind === "waveshaper" && node.oversample !== "none") {
    probe = { kind: "waveshaper", curve: "hardclip", driveDb: 0, oversample: node.oversample };
    amplitude = 0.5;
  } else if (node.kind === "compressor") {
    probe = {
      kind: "compressor",
      thresholdDb: -24,
      kneeDb: 30,
      ratio: 12,
      attackSeconds: 0.003,
      releaseSeconds: 0.25,
    };
    amplitude = 1e-6;
  } else {
    return 0;
  }
  const key = `${JSON.stringify(probe)}@${sampleRate}`;
  let cache = latencyCache.get(createContext);
  if (!cache) {
    cache = new Map();
    latencyCache.set(createContext, cache);
  }
  const known = cache.get(key);
  if (known !== undefined) return known;
  const at = 1024;
  const length = at + Math.ceil(0.05 * sampleRate) + 1024; // room for a 6 ms look-ahead in whole quanta
  const impulse = new Float32Array(length);
  impulse[at] = amplitude;
  const audio = await renderSamples({ nodes: [probe] }, { sampleRate, channels: [impulse] }, createContext);
  const out = audio.channels[0]!;
  let index = -1;
  if (probe.kind === "compressor") {
    index = out.findIndex((value) => value !== 0);
  } else {
    let largest = 0;
    out.forEach((value, i) => {
      if (Math.abs(value) > largest) {
        largest = Math.abs(value);
        index = i;
      }
    });
  }
  const latency = index < 0 ? 0 : Math.max(0, index - at);
  cache.set(key, latency);
  return latency;
}

const latencyCache = new WeakMap<CreateContext, Map<string, number>>();

/** The waveshaper curve: CURVE_LENGTH float32 points of curve(drive x) for x evenly spaced over [-1, 1]. */
export function shaperCurve(
  curve: ShaperCurve,
  driveDb: number,
  length = CURVE_LENGTH,
): Float32Array<ArrayBuffer> {
  const drive = 10 ** (driveDb / 20);
  const points = new Float32Array(length);
  const middle = (length - 1) / 2;
  for (let i = 0; i < length; i++) {
    const u = drive * ((i - middle) / middle);
    points[i] = shape(curve, u);
  }
  return points;
}

/** The shaping function itself, for tests and reference renders. */
export function shape(curve: ShaperCurve, u: number): number {
  switch (curve) {
    case "tanh":
      return Math.tanh(u);
    case "hardclip":
      return Math.min(1, Math.max(-1, u));
    case "softclip":
      return u >= 1 ? 1 : u <= -1 ? -1 : 1.5 * (u - (u * u * u) / 3);
  }
}

/**
 * The Web Audio spec's ConvolverNode normalisation, applied here to the impulse (and the node's own switched
 * off): scale = 0.00125 * (44100 / sampleRate) / sqrt(mean square of the impulse), the mean square floored at
 * 0.000125^2. node-web-audio-api uses the spec's 0.00125, Chromium 10^(-58/20) = 0.0012589 (0.06 dB louder,
 * measured), so doing it here keeps the engines' samples equal.
 */
export function normalizationScale(impulse: Float32Array, sampleRate: number): number {
  let sum = 0;
  for (let n = 0; n < impulse.length; n++) sum += impulse[n]! * impulse[n]!;
  const power = Math.max(Math.sqrt(sum / Math.max(1, impulse.length)), 0.000125);
  return (0.00125 * (44100 / sampleRate)) / power;
}

/** The synthetic room's shape. Times in seconds; the same seed gives the same impulse everywhere. */
export interface ImpulseOptions {
  /** Length of the impulse response in seconds. */
  impulseSeconds: number;
  /** Time for the diffuse tail to decay by 60 dB. */
  rt60Seconds: number;
  /** Silence before the first reflection (the direct sound is the dry path, not part of the impulse). */
  predelaySeconds: number;
  /** Cutoff of the one-pole low-pass applied to the tail (air and wall absorption); 0 = no filter. */
  dampingHz: number;
  /** Seed of the reflections' times and signs and of the tail's noise. */
  seed: number;
}

/**
 * A deterministic room response at `sampleRate`: 8 early reflections at seeded times in the 40 ms after the
 * predelay, with random signs and amplitudes falling as the tail does, then a diffuse tail of Gaussian noise
 * under an exponential envelope exp(-6.91 t / rt60) (-60 dB at rt60), low-passed by a one-pole filter, then
 * scaled to unit energy (sum of squares 1), so wet and dry have about the same loudness for broadband input.
 * Uses only the seeded Rng (32-bit integer arithmetic) and float64 Math.exp/log/sin/cos, which V8 computes
 * the same way in Node and in Chromium (the cross-engine test checks the impulses are bit-identical).
 */
export function synthesizeImpulse(options: ImpulseOptions, sampleRate: number): Float32Array<ArrayBuffer> {
  const length = Math.max(1, Math.round(options.impulseSeconds * sampleRate));
  const start = Math.min(length - 1, Math.round(options.predelaySeconds * sampleRate));
  const response = new Float64Array(length);
  const rng = new Rng(options.seed);
  const decayPerSample = Math.exp(-6.907755278982137 / (options.rt60Seconds * sampleRate)); // ln(1000)
  // Diffuse tail: noise with the envelope, built by repeated multiplication (no pow per sample).
  let envelope = 1;
  for (let n = start; n < length; n++) {
    response[n] = 0.5 * rng.normal() * envelope;
    envelope *= decayPerSample;
  }
  // Early reflections, on top of the tail's start.
  const spread = Math.max(1, Math.round(0.04 * sampleRate));
  for (let k = 0; k < 8; k++) {
    const offset = rng.int(spread);
    const n = start + offset;
    if (n >= length) continue;
    const sign = rng.float() < 0.5 ? -1 : 1;
    const amplitude =
      (0.5 + 0.5 * rng.float()) *
      Math.exp((-6.907755278982137 * offset) / (options.rt60Seconds * sampleRate));
    response[n] = response[n]! + sign * amplitude;
  }
  if (options.dampingHz > 0) {
    const pole = Math.exp((-2 * Math.PI * options.dampingHz) / sampleRate);
    let state = 0;
    for (let n = 0; n < length; n++) {
      state = (1 - pole) * response[n]! + pole * state;
      response[n] = state;
    }
  }
  let energy = 0;
  for (let n = 0; n < length; n++) energy += response[n]! * response[n]!;
  const scale = energy > 0 ? 1 / Math.sqrt(energy) : 0;
  const impulse = new Float32Array(length);
  for (let n = 0; n < length; n++) impulse[n] = response[n]! * scale;
  return impulse;
}

function checkNode(node: GraphNode, channels: number, sampleRate: number): void {
  const nyquistHz = sampleRate / 2;
  const belowNyquist = (field: string, hz: number): void => {
    if (hz >= nyquistHz) {
      throw new OptionError(
        "options/invalid",
        `webaudio ${node.kind}: ${field}: must be below Nyquist (${nyquistHz} Hz at ${sampleRate} Hz), got ${hz}`,
      );
    }
  };
  if (node.kind === "biquad") belowNyquist("frequencyHz", node.frequencyHz);
  if (node.kind === "convolver" && node.dampingHz > 0) belowNyquist("dampingHz", node.dampingHz);
  if (node.kind === "compressor" && channels > 2) {
    throw new OptionError(
      "effects/channels",
      `webaudio compressor: Web Audio's DynamicsCompressorNode takes mono or stereo (linked) audio, got ${channels} channels`,
    );
  }
}

/** One factor of the echo cascade: out = in + gain * (in delayed by `seconds`). */
export interface EchoStage {
  seconds: number;
  gain: number;
}

/** Echoes quieter than this relative to the first (-144 dB, below float32 resolution) are left out. */
const ECHO_FLOOR = 2 ** -24;

/**
 * The feedback echo sum_{k>=1} a^(k-1) x[n - kD] as a cascade without a cycle: 1 / (1 - a z^-D) truncated to
 * 2^J terms equals prod_{j<J} (1 + a^(2^j) z^(-2^j D)), so J stages (delays D, 2D, 4D, ... with gains a, a^2,
 * a^4, ...) give 2^J echoes. J is the smallest that covers every echo inside `length` frames that is louder
 * than ECHO_FLOOR. Why not a DelayNode in a GainNode loop: Chromium adds one render quantum (128 frames) to
 * every trip round a cycle (echoes of a 100 ms delay at 48 kHz come every 4928 frames, not 4800), and
 * node-web-audio-api does not, so a loop gives different samples in each; a cycle also forces delays of at
 * least 128 frames. The cascade is exact in both, for any delay. Stages would need DelayNodes of 180 s or
 * more (Web Audio's limit) only for echoes that late, which are left out.
 */
export function echoStages(
  node: Pick<DelaySpec, "delaySeconds" | "feedback">,
  length: number,
  sampleRate: number,
): EchoStage[] {
  const a = node.feedback;
  if (a === 0 || node.delaySeconds <= 0) return [];
  // Echo k (k >= 1) comes at k D with gain a^(k-1): count those that start before the end and are audible.
  const byLength = Math.ceil(length / (node.delaySeconds * sampleRate));
  const byLevel =
    Math.abs(a) >= 1
      ? Number.POSITIVE_INFINITY
      : 1 + Math.floor(Math.log(ECHO_FLOOR) / Math.log(Math.abs(a)));
  const echoes = Math.min(byLength, byLevel);
  const stages: EchoStage[] = [];
  let gain = a;
  for (let span = 1; span < echoes; span *= 2) {
    const seconds = span * node.delaySeconds;
    if (seconds >= 179) break;
    stages.push({ seconds, gain });
    gain *= gain;
  }
  return stages;
}

function buildNode(
  context: OfflineAudioContext,
  input: AudioNode,
  node: GraphNode,
  channels: number,
): AudioNode {
  switch (node.kind) {
    case "biquad": {
      const filter = context.createBiquadFilter();
      filter.type = node.type;
      filter.frequency.value = node.frequencyHz;
      filter.Q.value = node.type === "lowpass" || node.type === "highpass" ? 20 * Math.log10(node.q) : node.q;
      filter.gain.value = node.gainDb;
      input.connect(filter);
      return filter;
    }
    case "waveshaper": {
      const shaper = context.createWaveShaper();
      shaper.curve = shaperCurve(node.curve, node.driveDb);
      shaper.oversample = node.oversample;
      input.connect(shaper);
      return shaper;
    }
    case "compressor": {
      const compressor = context.createDynamicsCompressor();
      compressor.threshold.value = node.thresholdDb;
      compressor.knee.value = node.kneeDb;
      compressor.ratio.value = node.ratio;
      compressor.attack.value = node.attackSeconds;
      compressor.release.value = node.releaseSeconds;
      input.connect(compressor);
      return compressor;
    }
    case "convolver": {
      const impulse = synthesizeImpulse(node, context.sampleRate);
      if (node.normalize) {
        const scale = normalizationScale(impulse, context.sampleRate);
        for (let n = 0; n < impulse.length; n++) impulse[n] = impulse[n]! * scale;
      }
      const impulseBuffer = context.createBuffer(1, impulse.length, context.sampleRate);
      impulseBuffer.copyToChannel(impulse, 0);
      // ConvolverNode takes at most two channels (clamped-max), so each channel gets its own mono convolver;
      // a mono impulse on a mono input gives a mono output in every implementation.
      const wet = dryWet(context, input, node.mix);
      const splitter = channels > 1 ? context.createChannelSplitter(channels) : undefined;
      const merger = channels > 1 ? context.createChannelMerger(channels) : undefined;
      if (splitter) input.connect(splitter);
      for (let c = 0; c < channels; c++) {
        const convolver = context.createConvolver();
        convolver.channelCount = 1;
        convolver.channelCountMode = "explicit";
        convolver.normalize = false; // read when the buffer is set, so set it first; see normalizationScale
        convolver.buffer = impulseBuffer;
        if (splitter && merger) {
          splitter.connect(convolver, c, 0);
          convolver.connect(merger, 0, c);
        } else {
          input.connect(convolver);
          convolver.connect(wet.wetIn);
        }
      }
      if (merger) merger.connect(wet.wetIn);
      return wet.output;
    }
    case "delay": {
      const wet = dryWet(context, input, node.mix);
      let echoes: AudioNode = input;
      for (const stage of echoStages(node, context.length, context.sampleRate)) {
        // out = in + gain * in delayed by `seconds`: one factor (1 + a^(2^j) z^(-2^j D)) of the cascade
        const delay = context.createDelay(stage.seconds + 1 / context.sampleRate);
        delay.delayTime.value = stage.seconds;
        const gain = context.createGain();
        gain.gain.value = stage.gain;
        const sum = context.createGain();
        echoes.connect(sum);
        echoes.connect(delay);
        delay.connect(gain);
        gain.connect(sum);
        echoes = sum;
      }
      const first = context.createDelay(node.delaySeconds + 1 / context.sampleRate);
      first.delayTime.value = node.delaySeconds;
      echoes.connect(first);
      first.connect(wet.wetIn);
      return wet.output;
    }
    case "gain": {
      const gain = context.createGain();
      gain.gain.value = 10 ** (node.gainDb / 20);
      input.connect(gain);
      return gain;
    }
  }
}

/** output = (1 - mix) input + mix wetIn; returns the node the wet signal goes into and the sum. */
function dryWet(
  context: OfflineAudioContext,
  input: AudioNode,
  mix: number,
): { wetIn: AudioNode; output: AudioNode } {
  const output = context.createGain();
  if (mix !== 1) {
    const dry = context.createGain();
    dry.gain.value = 1 - mix;
    input.connect(dry);
    dry.connect(output);
  }
  const wet = context.createGain();
  wet.gain.value = mix;
  wet.connect(output);
  return { wetIn: wet, output };
}
