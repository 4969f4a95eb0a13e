import { z } from "zod";
import type { Audio } from "../../audio/audio.ts";
import { OptionError } from "../../core/errors.ts";
import { parseOptions } from "../../core/options.ts";
import { type AnyEffect, defineEffect, type RenderResult } from "../effect.ts";
import { type CreateContext, type Graph, type GraphNode, renderGraph } from "./graph.ts";

/**
 * The Web Audio engine's effects: each is a one-node graph (graph.ts) with typed parameters, rendered in an
 * OfflineAudioContext from the injected `createContext` (node-web-audio-api in Node: src/node/webaudio.ts;
 * the browser's own in a page). `webaudio.graph` renders a whole graph given as JSON.
 *
 * Node (node-web-audio-api 2.2) and Chromium give the same samples, to float rounding, for biquad, waveshaper
 * without oversampling, convolver, delay and gain. The oversampled waveshaper and the compressor are
 * different algorithms in the two (resampler filters; compressor detector, knee and look-ahead): same
 * character and static curve, different samples (test/effects/webaudio/chromium.test.ts measures both).
 */

const biquadTypes = [
  "lowpass",
  "highpass",
  "bandpass",
  "lowshelf",
  "highshelf",
  "peaking",
  "notch",
  "allpass",
] as const;

const biquadShape = {
  type: z
    .enum(biquadTypes)
    .default("lowpass")
    .describe("filter type: lowpass, highpass, bandpass, lowshelf, highshelf, peaking, notch or allpass"),
  frequencyHz: z
    .number()
    .positive()
    .max(192000)
    .default(1000)
    .describe("corner or centre frequency, Hz (below Nyquist)"),
  q: z
    .number()
    .min(0.01)
    .max(100)
    .default(Math.SQRT1_2)
    .describe(
      "linear quality factor (0.7071 = Butterworth); Web Audio's lowpass/highpass Q in dB is 20 log10(q); shelves ignore it",
    ),
  gainDb: z
    .number()
    .min(-40)
    .max(40)
    .default(0)
    .describe("boost (+) or cut (-) of peaking and shelving filters, dB; other types ignore it"),
};

const waveshaperShape = {
  curve: z
    .enum(["tanh", "hardclip", "softclip"])
    .default("tanh")
    .describe("tanh, hardclip (clamp to +-1) or softclip (cubic 1.5 (u - u^3/3), clipping at |u| = 1)"),
  driveDb: z.number().min(-20).max(40).default(18).describe("gain before the curve, dB"),
  oversample: z
    .enum(["none", "2x", "4x"])
    .default("4x")
    .describe("Web Audio oversampling around the curve: none, 2x or 4x (less aliasing, some latency)"),
};

const compressorShape = {
  thresholdDb: z.number().min(-100).max(0).default(-24).describe("level above which gain is reduced, dBFS"),
  kneeDb: z.number().min(0).max(40).default(30).describe("width of the soft knee above the threshold, dB"),
  ratio: z.number().min(1).max(20).default(12).describe("input dB per output dB above the knee"),
  attackSeconds: z
    .number()
    .min(0)
    .max(1)
    .default(0.003)
    .describe("time to reduce the gain by 10 dB, seconds"),
  releaseSeconds: z.number().min(0).max(1).default(0.25).describe("time to raise the gain by 10 dB, seconds"),
};

const mix = (defaultValue: number) =>
  z.number().min(0).max(1).default(defaultValue).describe("wet fraction: output = (1 - mix) dry + mix wet");

const convolverShape = {
  impulseSeconds: z.number().min(0.001).max(10).default(1.5).describe("length of the room response, seconds"),
  rt60Seconds: z.number().min(0.01).max(20).default(1).describe("time for the tail to fall 60 dB, seconds"),
  predelaySeconds: z
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe("silence before the first reflection, seconds"),
  dampingHz: z
    .number()
    .min(0)
    .max(192000)
    .default(8000)
    .describe("one-pole low-pass on the response, Hz (below Nyquist); 0 = none"),
  seed: z.number().int().min(0).max(4294967295).default(1).describe("seed of the synthetic room response"),
  normalize: z
    .boolean()
    .default(false)
    .describe("Web Audio's equal-power normalisation of the response (off: the response has unit energy)"),
  mix: mix(0.3),
};

const delayShape = {
  delaySeconds: z.number().min(0.0001).max(10).default(0.25).describe("time between echoes, seconds"),
  feedback: z
    .number()
    .min(-0.99)
    .max(0.99)
    .default(0.4)
    .describe("each echo's amplitude relative to the one before, -0.99..0.99"),
  mix: mix(0.35),
};

const gainShape = {
  gainDb: z.number().min(-120).max(60).default(0).describe("gain, dB"),
};

/** One node of a graph, its fields validated and completed (every field but `kind` has a default). */
export const graphNodeSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("biquad"), ...biquadShape }),
  z.strictObject({ kind: z.literal("waveshaper"), ...waveshaperShape }),
  z.strictObject({ kind: z.literal("compressor"), ...compressorShape }),
  z.strictObject({ kind: z.literal("convolver"), ...convolverShape }),
  z.strictObject({ kind: z.literal("delay"), ...delayShape }),
  z.strictObject({ kind: z.literal("gain"), ...gainShape }),
]);

/** A graph: `{ "nodes": [ { "kind": "biquad", ... }, ... ] }`, nodes in series (an empty list passes audio through). */
export const graphSchema = z.strictObject({
  nodes: z.array(graphNodeSchema).max(64).describe("nodes in series, input first"),
});

/** A small amp-like default for webaudio.graph: high-pass, 4x-oversampled tanh drive, low-pass, level. */
export const DEFAULT_GRAPH: Graph = {
  nodes: [
    { kind: "biquad", type: "highpass", frequencyHz: 80, q: Math.SQRT1_2, gainDb: 0 },
    { kind: "waveshaper", curve: "tanh", driveDb: 24, oversample: "4x" },
    { kind: "biquad", type: "lowpass", frequencyHz: 5000, q: Math.SQRT1_2, gainDb: 0 },
    { kind: "gain", gainDb: -6 },
  ],
};

/**
 * Parses and validates a graph given as JSON text (or an already-parsed object): unknown node kinds or
 * fields and out-of-range values are OptionErrors naming the node (`nodes.1.driveDb: ...`).
 */
export function parseGraph(input: unknown): Graph {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new OptionError(
        "options/invalid",
        `webaudio graph: not valid JSON (${(error as Error).message})`,
      );
    }
  }
  return parseOptions(graphSchema, value, "webaudio graph") as Graph;
}

async function render(node: GraphNode, audio: Audio, createContext: CreateContext): Promise<RenderResult> {
  return renderGraph({ nodes: [node] }, audio, createContext);
}

/**
 * The Web Audio effects, rendering with `createContext` (Node: `createNodeContext` from
 * "deepsp/node"; a browser: `(channels, length, rate) => new OfflineAudioContext(channels, length, rate)`).
 */
export function webAudioEffects(createContext: CreateContext): AnyEffect[] {
  return [
    defineEffect({
      name: "webaudio.biquad",
      engine: "webaudio",
      description: "Web Audio BiquadFilterNode: low/high/band-pass, shelves, peaking, notch, all-pass",
      schema: z.strictObject(biquadShape),
      render: (audio, p) => render({ kind: "biquad", ...p }, audio, createContext),
    }),
    defineEffect({
      name: "webaudio.waveshaper",
      engine: "webaudio",
      description: "Web Audio WaveShaperNode: tanh, hard or soft clipping with drive and oversampling",
      schema: z.strictObject(waveshaperShape),
      render: (audio, p) => render({ kind: "waveshaper", ...p }, audio, createContext),
    }),
    defineEffect({
      name: "webaudio.compressor",
      engine: "webaudio",
      description:
        "Web Audio DynamicsCompressorNode (6 ms look-ahead reported as latency; automatic makeup gain)",
      schema: z.strictObject(compressorShape),
      render: (audio, p) => render({ kind: "compressor", ...p }, audio, createContext),
    }),
    defineEffect({
      name: "webaudio.convolver",
      engine: "webaudio",
      description: "Web Audio ConvolverNode reverb with a synthetic, seeded room response",
      schema: z.strictObject(convolverShape),
      render: (audio, p) => render({ kind: "convolver", ...p }, audio, createContext),
    }),
    defineEffect({
      name: "webaudio.delay",
      engine: "webaudio",
      description: "Web Audio DelayNode feedback echo",
      schema: z.strictObject(delayShape),
      render: (audio, p) => render({ kind: "delay", ...p }, audio, createContext),
    }),
    defineEffect({
      name: "webaudio.graph",
      engine: "webaudio",
      description: "a chain of Web Audio nodes given as JSON {nodes: [{kind: biquad|waveshaper|...}, ...]}",
      schema: z.strictObject({
        graph: z
          .string()
          .default(JSON.stringify(DEFAULT_GRAPH))
          .superRefine((text, context) => {
            try {
              parseGraph(text);
            } catch (error) {
              context.addIssue({ code: "custom", message: (error as Error).message });
            }
          })
          .describe(
            'JSON {"nodes": [{"kind": "biquad", "type": "lowpass", "frequencyHz": 800}, ...]}; omitted fields take the webaudio.<kind> defaults',
          ),
      }),
      render: (audio, p) => renderGraph(parseGraph(p.graph), audio, createContext),
    }),
  ];
}
