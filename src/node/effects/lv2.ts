import { z } from "zod";
import { type Audio, frameCount, makeAudio } from "../../audio/audio.ts";
import { OptionError, ToolError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { nextPowerOfTwo, RealFft } from "../../dsp/fft.ts";
import { type AnyEffect, defineEffect, type RenderResult } from "../../effects/effect.ts";
import { runTool, type ToolRequirement } from "../tools.ts";
import {
  averageChannels,
  copyAudio,
  fitLength,
  formatNumber,
  missingProgramsReason,
  roundTripThroughFiles,
} from "./common.ts";

/**
 * LV2 plugins as deepsp effects, run offline by `lv2apply` (Debian `lilv-utils`): the guitarix pedals
 * (Debian `guitarix-lv2`) as typed effects, and any installed plugin through the generic `lv2.plugin`.
 *
 * How a render runs: the audio goes to a temporary float32 WAV and
 *   lv2apply -i input.wav -o output.wav -c SYMBOL VALUE ... PLUGIN_URI
 * writes the plugin's output (lv2apply runs the plugin one frame per run() call, with every control input at
 * its default unless set). Channels: when the plugin has as many audio inputs as the audio has channels the
 * file goes through whole; otherwise (a mono plugin on stereo audio, ...) each channel goes through its own
 * run, fed to every audio input of the plugin. Extra output channels are averaged (mono audio through a
 * mono-in / stereo-out plugin); a single output channel of a multi-input plugin is copied to every channel.
 *
 * Determinism: the four pedals are bit-identical from run to run (measured, and checked by the tests). Of the
 * 230 plugins lv2ls lists with guitarix-lv2, swh-lv2 and calf-plugins installed (Debian 12), 193 rendered
 * 0.5 s of noise bit-identically twice, 16 did not (calf Analyzer, Flanger, SidechainLimiter, Vocoder; gx_fuzz,
 * gx_chorus_stereo, gx_oc_2, gx_studiopre, gxtubedelay; swh artificialLatency, chebstortion, comb, const,
 * decimator, dj_eq_mono, waveTerrain) and 21 cannot run under lv2apply: 7 instruments/generators and 6 with
 * atom ports (listLv2Plugins flags these as unsupportedReason and lv2.plugin refuses them up front), and
 * 8 that crash (calf Equalizer 8/12/30 Band and MultibandEnhancer, gx_detune, gx_livelooper; swh mbeq and
 * pitchScaleHQ, whose libraries miss their libfftw3f link in Debian): tool/failed errors quoting lv2apply.
 *
 * Latency: lv2apply cannot hand back control *output* ports, so a plugin's latency port cannot be read
 * directly. For a plugin that declares one (lv2info: "Has latency: yes, reported by port N"), the latency is
 * measured instead: 0.5 s of seeded noise (then 0.25 s of silence) runs through the plugin with the same
 * controls at the same rate, and the lag of the PHAT cross-correlation peak (phatDelay) is reported as
 * latencySamples, cached per plugin, controls and rate. This is the delay the output actually has
 * wherever the plugin's output is a delayed version of its input (lookahead limiters: 240 samples at 48 kHz
 * for swh fastLookaheadLimiter, 8191 for lookaheadLimiterConst; Hilbert and Bode shifters: 99; amPitchshift:
 * 512), up to 0.25 s. Where the correlation has no clear peak (confidence < 0.1) it reports 0. Plugins without
 * a latency port report 0: their filters' group delay is part of their sound.
 */

const LV2APPLY: ToolRequirement = { program: "lv2apply", debianPackage: "lilv-utils" };
const LV2INFO: ToolRequirement = { program: "lv2info", debianPackage: "lilv-utils" };
const LV2LS: ToolRequirement = { program: "lv2ls", debianPackage: "lilv-utils" };

const LV2_CORE = "http://lv2plug.in/ns/lv2core#";

/** One port of a plugin as lv2info describes it. */
export interface Lv2Port {
  index: number;
  symbol: string;
  name: string;
  /** audio, control, or the type URI of anything else (atom, CV, event...). */
  type: "audio" | "control" | string;
  direction: "input" | "output";
  minimum?: number;
  maximum?: number;
  default?: number;
  /** Port properties without the lv2core prefix: integer, toggled, enumeration, connectionOptional... */
  properties: string[];
  /** lv2:designation without the lv2core prefix (enabled, latency, freeWheeling...) or the full URI. */
  designation?: string;
  /** Named values of an enumeration port: value -> label. */
  scalePoints: { value: number; label: string }[];
}

/** A control input port: what `-c SYMBOL VALUE` sets. */
export interface Lv2Control {
  symbol: string;
  name: string;
  minimum?: number;
  maximum?: number;
  default?: number;
  /** integer, toggled, enumeration... */
  properties: string[];
  scalePoints: { value: number; label: string }[];
}

/** A plugin as `deepsp effects list` shows it. */
export interface Lv2PluginInfo {
  uri: string;
  name: string;
  /** lv2info's Class ("Plugin", "Distortion Plugin"...). */
  className: string;
  audioInputs: number;
  audioOutputs: number;
  /** Control inputs in port order. */
  controls: Lv2Control[];
  /** Symbol of the port that reports latency, when the plugin has one. */
  latencyPort?: string;
  /**
   * LV2 features the plugin requires of its host. lv2apply provides none, yet most such plugins run anyway
   * (calf Filterclavier, guitarix jcm800pre, redeye, metal_amp); a few crash (gx_detune: worker#schedule,
   * gx_livelooper), which shows as a tool/failed error.
   */
  requiredFeatures: string[];
  /** Why lv2apply cannot run it (no audio in/out, ports it cannot connect); undefined when it may. */
  unsupportedReason?: string;
  ports: Lv2Port[];
}

/** Debian package that ships a plugin, from its URI, for install hints. */
function packageFor(uri: string): string | undefined {
  if (uri.startsWith("http://guitarix.sourceforge.net/")) return "guitarix-lv2";
  if (uri.startsWith("http://calf.sourceforge.net/")) return "calf-plugins";
  if (uri.startsWith("http://plugin.org.uk/swh-plugins/")) return "swh-lv2";
  return undefined;
}

function short(uri: string): string {
  return uri.startsWith(LV2_CORE) ? uri.slice(LV2_CORE.length) : uri;
}

/**
 * Parses `lv2info URI` output: header fields ("Name:", "Class:", "Has latency:", "Required Features:" with
 * continuation lines) and one block per "Port N:" with Type, Symbol, Name, Minimum, Maximum, Default,
 * Properties, Designation and Scale Points. Exported for tests.
 */
export function parseLv2Info(text: string): Lv2PluginInfo {
  const lines = text.split(/\r?\n/);
  const uri = lines.find((line) => line.trim() !== "")?.trim() ?? "";
  const header = new Map<string, string[]>();
  const ports: Lv2Port[] = [];
  let port: (Lv2Port & { types: string[] }) | undefined;
  let lastKey: string | undefined;
  let inScalePoints = false;
  const finishPort = () => {
    if (!port) return;
    const { types, ...rest } = port;
    const typeUri = types.find((t) => t !== `${LV2_CORE}InputPort` && t !== `${LV2_CORE}OutputPort`) ?? "";
    rest.type =
      typeUri === `${LV2_CORE}AudioPort`
        ? "audio"
        : typeUri === `${LV2_CORE}ControlPort`
          ? "control"
          : typeUri;
    rest.direction = types.includes(`${LV2_CORE}OutputPort`) ? "output" : "input";
    ports.push(rest);
    port = undefined;
  };
  for (const line of lines) {
    const portHeader = /^\tPort (\d+):\s*$/.exec(line);
    if (portHeader) {
      finishPort();
      port = {
        index: Number(portHeader[1]),
        symbol: "",
        name: "",
        type: "",
        direction: "input",
        properties: [],
        scalePoints: [],
        types: [],
      };
      lastKey = undefined;
      inScalePoints = false;
      continue;
    }
    if (port) {
      const scalePoint = /^\t\t\t\s*([-+0-9.eE]+)\s*=\s*"(.*)"\s*$/.exec(line);
      if (inScalePoints && scalePoint) {
        port.scalePoints.push({ value: Number(scalePoint[1]), label: scalePoint[2]! });
        continue;
      }
      const field = /^\t\t([A-Z][A-Za-z ]*):\s*(.*)$/.exec(line);
      const continuation = /^\t\t {2,}(\S.*)$/.exec(line);
      if (field) {
        lastKey = field[1]!;
        inScalePoints = lastKey === "Scale Points";
        addPortField(port, lastKey, field[2]!.trim());
      } else if (continuation && lastKey !== undefined) {
        addPortField(port, lastKey, continuation[1]!.trim());
      }
      continue;
    }
    const field = /^\t([A-Z][A-Za-z ]*):\s*(.*)$/.exec(line);
    const continuation = /^\t {2,}(\S.*)$/.exec(line);
    if (field) {
      lastKey = field[1]!;
      header.set(lastKey, field[2]!.trim() === "" ? [] : [field[2]!.trim()]);
    } else if (continuation && lastKey !== undefined) {
      header.get(lastKey)?.push(continuation[1]!.trim());
    } else if (/^\t\t/.test(line)) {
      lastKey = undefined; // nested blocks (UIs) end the previous header field
    }
  }
  finishPort();

  const latencyIndex = /reported by port (\d+)/.exec(header.get("Has latency")?.[0] ?? "");
  const latencyPort =
    latencyIndex === null ? undefined : ports.find((p) => p.index === Number(latencyIndex[1]))?.symbol;
  const requiredFeatures = header.get("Required Features") ?? [];
  const audioInputs = ports.filter((p) => p.type === "audio" && p.direction === "input").length;
  const audioOutputs = ports.filter((p) => p.type === "audio" && p.direction === "output").length;
  const controls = ports
    .filter((p) => p.type === "control" && p.direction === "input")
    .map(({ symbol, name, minimum, maximum, properties, scalePoints, ...rest }) => ({
      symbol,
      name,
      ...(minimum === undefined ? {} : { minimum }),
      ...(maximum === undefined ? {} : { maximum }),
      ...(rest.default === undefined ? {} : { default: rest.default }),
      properties,
      scalePoints,
    }));
  const unconnectable = ports.filter(
    (p) => p.type !== "audio" && p.type !== "control" && !p.properties.includes("connectionOptional"),
  );
  let unsupportedReason: string | undefined;
  if (audioInputs === 0) unsupportedReason = "it has no audio input (an instrument or generator)";
  else if (audioOutputs === 0) unsupportedReason = "it has no audio output";
  else if (unconnectable.length > 0) {
    const list = unconnectable.map((p) => `${p.symbol} (${p.type.replace(/^.*[#/]/, "")})`).join(", ");
    unsupportedReason = `lv2apply cannot connect its port(s) ${list}`;
  }
  return {
    uri,
    name: header.get("Name")?.[0] ?? uri,
    className: header.get("Class")?.[0] ?? "",
    audioInputs,
    audioOutputs,
    controls,
    ...(latencyPort === undefined ? {} : { latencyPort }),
    requiredFeatures,
    ...(unsupportedReason === undefined ? {} : { unsupportedReason }),
    ports,
  };
}

function addPortField(port: Lv2Port & { types: string[] }, key: string, value: string): void {
  const number = () => {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  switch (key) {
    case "Type":
      port.types.push(value);
      break;
    case "Symbol":
      port.symbol = value;
      break;
    case "Name":
      port.name = value;
      break;
    case "Minimum": {
      const n = number();
      if (n !== undefined) port.minimum = n;
      break;
    }
    case "Maximum": {
      const n = number();
      if (n !== undefined) port.maximum = n;
      break;
    }
    case "Default": {
      const n = number();
      if (n !== undefined) port.default = n;
      break;
    }
    case "Properties":
      port.properties.push(short(value));
      break;
    case "Designation":
      port.designation = short(value);
      break;
  }
}

const infoCache = new Map<string, Promise<Lv2PluginInfo | undefined>>();

/** lv2info for one plugin, parsed; undefined when the plugin is not installed. Cached per process. */
export function lv2PluginInfo(uri: string): Promise<Lv2PluginInfo | undefined> {
  let cached = infoCache.get(uri);
  if (!cached) {
    cached = (async () => {
      try {
        const { stdout } = await runTool({
          program: LV2INFO.program,
          debianPackage: LV2INFO.debianPackage,
          args: [uri],
          timeoutSeconds: 60,
        });
        return parseLv2Info(new TextDecoder().decode(stdout));
      } catch (error) {
        // lv2info exits non-zero with "Plugin not found." for an unknown URI.
        if (error instanceof ToolError && error.code === "tool/failed") return undefined;
        throw error;
      }
    })();
    cached.catch(() => infoCache.delete(uri));
    infoCache.set(uri, cached);
  }
  return cached;
}

/** The URIs lv2ls finds (LV2_PATH or the default /usr/lib/lv2, ~/.lv2 ...). Not cached: installs show up. */
export async function lv2PluginUris(): Promise<string[]> {
  const { stdout } = await runTool({
    program: LV2LS.program,
    debianPackage: LV2LS.debianPackage,
    args: [],
    timeoutSeconds: 60,
  });
  return new TextDecoder()
    .decode(stdout)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Every LV2 plugin lv2ls finds, with its name, audio input/output counts, control inputs (symbol, name,
 * range, default) and why lv2apply cannot run it (unsupportedReason), for `deepsp effects list`. Runs lv2info
 * once per plugin (a few ms each, four at a time; cached per process). Throws tool/missing when lilv-utils
 * is not installed.
 */
export async function listLv2Plugins(): Promise<Lv2PluginInfo[]> {
  const uris = await lv2PluginUris();
  const results: (Lv2PluginInfo | undefined)[] = new Array(uris.length);
  let next = 0;
  const worker = async () => {
    while (next < uris.length) {
      const index = next++;
      results[index] = await lv2PluginInfo(uris[index]!);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results.filter((info): info is Lv2PluginInfo => info !== undefined);
}

/** One line saying what to install when lv2apply/lv2info or the plugin is missing, else undefined. */
export async function lv2UnavailableReason(uri?: string): Promise<string | undefined> {
  const missing = await missingProgramsReason([LV2APPLY, LV2INFO, LV2LS]);
  if (missing || uri === undefined) return missing;
  const uris = await lv2PluginUris();
  if (uris.includes(uri)) return undefined;
  return missingPluginMessage(uri);
}

function missingPluginMessage(uri: string): string {
  const pkg = packageFor(uri);
  return `LV2 plugin <${uri}> is not installed (${pkg ? `apt-get install -y ${pkg}` : "not found by lv2ls; check LV2_PATH"})`;
}

/** Control values as lv2apply takes them: symbol -> value. */
export type Lv2Controls = Record<string, number>;

/**
 * Checks `controls` against the plugin's control inputs: unknown symbols and values outside the plugin's
 * range are OptionErrors that list the valid controls with their ranges.
 */
export function checkControls(info: Lv2PluginInfo, controls: Lv2Controls, what: string): void {
  const valid = () => info.controls.map((c) => `${c.symbol} ${formatRange(c)}`).join(", ");
  for (const [symbol, value] of Object.entries(controls)) {
    const control = info.controls.find((c) => c.symbol === symbol);
    if (!control) {
      throw new OptionError(
        "options/invalid",
        `${what}: ${info.name} has no control input "${symbol}" (valid: ${valid() || "none"})`,
      );
    }
    if (!Number.isFinite(value)) {
      throw new OptionError("options/invalid", `${what}: ${symbol}: expected a number, got ${value}`);
    }
    const { minimum, maximum } = control;
    if ((minimum !== undefined && value < minimum) || (maximum !== undefined && value > maximum)) {
      throw new OptionError(
        "options/invalid",
        `${what}: ${symbol}: must be in ${formatRange(control)}, got ${value}`,
      );
    }
  }
}

function formatRange(control: Lv2Control): string {
  const min = control.minimum === undefined ? "?" : formatNumber(control.minimum);
  const max = control.maximum === undefined ? "?" : formatNumber(control.maximum);
  const def = control.default === undefined ? "" : `, default ${formatNumber(control.default)}`;
  return `[${min}..${max}${def}]`;
}

/**
 * Runs a plugin over `audio` with lv2apply and returns the output with the input's rate, length and channel
 * count, plus the latency (measured for plugins with a latency port, else 0). Checks the controls first.
 */
export async function renderLv2(
  audio: Audio,
  uri: string,
  controls: Lv2Controls,
  what: string,
): Promise<RenderResult> {
  const info = await lv2PluginInfo(uri);
  if (!info) throw new ToolError("tool/missing", `${what}: ${missingPluginMessage(uri)}`);
  if (info.unsupportedReason) {
    throw new OptionError(
      "effects/unsupported",
      `${what}: ${info.name} <${uri}> cannot run under lv2apply: ${info.unsupportedReason}`,
    );
  }
  checkControls(info, controls, what);
  if (frameCount(audio) === 0) return { audio: copyAudio(audio), latencySamples: 0 };
  const output = await applyPlugin(audio, info, controls);
  const latencySamples =
    info.latencyPort === undefined ? 0 : await measuredLatency(info, controls, audio.sampleRate);
  return { audio: output, latencySamples };
}

/** lv2apply over the audio, whole or channel by channel (see the file comment), fitted to the input. */
async function applyPlugin(audio: Audio, info: Lv2PluginInfo, controls: Lv2Controls): Promise<Audio> {
  const frames = frameCount(audio);
  const channelCount = audio.channels.length;
  const runs: Audio[] =
    info.audioInputs === channelCount
      ? [audio]
      : audio.channels.map((channel) => makeAudio(audio.sampleRate, [channel]));
  const outputs: Float32Array[] = [];
  for (const [run, input] of runs.entries()) {
    const result = await runLv2apply(input, info.uri, controls);
    if (result.sampleRate !== audio.sampleRate) {
      throw new ToolError(
        "tool/failed",
        `lv2apply wrote ${result.sampleRate} Hz audio for a ${audio.sampleRate} Hz input (${info.uri})`,
      );
    }
    const produced = result.channels;
    const wanted = input.channels.length;
    if (produced.length === wanted) {
      outputs.push(...produced);
    } else if (runs.length > 1 && produced.length === channelCount) {
      outputs.push(produced[run]!); // channel c of a per-channel run of a plugin with as many outputs
    } else if (produced.length === 1) {
      for (let c = 0; c < wanted; c++) outputs.push(produced[0]!);
    } else {
      const mean = new Float32Array(produced[0]!.length);
      for (let i = 0; i < mean.length; i++) {
        let sum = 0;
        for (const channel of produced) sum += channel[i]!;
        mean[i] = sum / produced.length;
      }
      for (let c = 0; c < wanted; c++) outputs.push(mean);
    }
  }
  return makeAudio(
    audio.sampleRate,
    outputs.map((channel) => fitLength(channel, frames)),
  );
}

async function runLv2apply(audio: Audio, uri: string, controls: Lv2Controls): Promise<Audio> {
  const controlArgs = Object.entries(controls).flatMap(([symbol, value]) => [
    "-c",
    symbol,
    formatNumber(value),
  ]);
  return roundTripThroughFiles(audio, "lv2apply", async ({ input, output }) => {
    try {
      await runTool({
        program: LV2APPLY.program,
        debianPackage: LV2APPLY.debianPackage,
        args: ["-i", input, "-o", output, ...controlArgs, uri],
      });
    } catch (error) {
      // Name the plugin: "lv2apply was killed by SIGABRT; stderr: free(): invalid pointer" alone does not.
      if (error instanceof ToolError && error.code !== "tool/missing") {
        throw new ToolError(error.code, `${error.message} (plugin <${uri}>)`, { cause: error });
      }
      throw error;
    }
  });
}

/** Probe: seeded Gaussian noise at -20 dBFS RMS, then silence so a long latency still shows. */
const PROBE_NOISE_SECONDS = 0.5;
const PROBE_MAX_LATENCY_SECONDS = 0.25;
const PROBE_SEED = 0x1a7e;
/** Below this cross-correlation confidence the probe says nothing useful (pitch shifters...): report 0. */
const PROBE_MIN_CONFIDENCE = 0.1;

const latencyCache = new Map<string, Promise<number>>();

function measuredLatency(info: Lv2PluginInfo, controls: Lv2Controls, sampleRate: number): Promise<number> {
  const key = JSON.stringify([info.uri, Object.entries(controls).sort(), sampleRate]);
  let cached = latencyCache.get(key);
  if (!cached) {
    cached = (async () => {
      const noiseFrames = Math.round(PROBE_NOISE_SECONDS * sampleRate);
      const probe = new Float32Array(noiseFrames + Math.round(PROBE_MAX_LATENCY_SECONDS * sampleRate));
      const rng = new Rng(PROBE_SEED);
      for (let i = 0; i < noiseFrames; i++) probe[i] = 0.1 * rng.normal();
      const input = makeAudio(sampleRate, [probe]);
      const output = await applyPlugin(input, info, controls);
      const maxLag = Math.round(PROBE_MAX_LATENCY_SECONDS * sampleRate);
      const estimate = phatDelay(probe, averageChannels(output.channels), maxLag);
      return estimate.confidence >= PROBE_MIN_CONFIDENCE ? estimate.delaySamples : 0;
    })();
    cached.catch(() => latencyCache.delete(key));
    latencyCache.set(key, cached);
  }
  return cached;
}

/**
 * Delay of `y` behind `x` in 0..maxLag samples by generalised cross-correlation with PHAT weighting over the
 * whole signals (one FFT of both, no segments, so lags of a few hundred ms are found at any rate):
 * argmax_l IFFT(Y X* / |Y X*|)[l]. confidence = 1 - (best peak elsewhere, >= 4 samples away) / (best peak).
 * Exported for tests.
 */
export function phatDelay(
  x: Float32Array,
  y: Float32Array,
  maxLag: number,
): { delaySamples: number; confidence: number } {
  const size = nextPowerOfTwo(x.length + y.length);
  const fft = new RealFft(size);
  const padded = new Float64Array(size);
  const spectrumX = new Float64Array(size + 2);
  const spectrumY = new Float64Array(size + 2);
  padded.set(x);
  fft.forward(spectrumX, padded);
  padded.fill(0);
  padded.set(y);
  fft.forward(spectrumY, padded);
  const cross = new Float64Array(size + 2);
  let largest = 0;
  for (let k = 0; k <= size / 2; k++) {
    const xr = spectrumX[2 * k]!;
    const xi = spectrumX[2 * k + 1]!;
    const yr = spectrumY[2 * k]!;
    const yi = spectrumY[2 * k + 1]!;
    cross[2 * k] = yr * xr + yi * xi; // Y conj(X)
    cross[2 * k + 1] = yi * xr - yr * xi;
    largest = Math.max(largest, Math.hypot(cross[2 * k]!, cross[2 * k + 1]!));
  }
  const floor = largest * 1e-9 + Number.MIN_VALUE;
  for (let k = 0; k <= size / 2; k++) {
    const magnitude = Math.hypot(cross[2 * k]!, cross[2 * k + 1]!) + floor;
    cross[2 * k]! /= magnitude;
    cross[2 * k + 1]! /= magnitude;
  }
  const correlation = new Float64Array(size);
  fft.inverse(correlation, cross);
  const limit = Math.min(maxLag, size - 1);
  let best = 0;
  for (let lag = 1; lag <= limit; lag++) if (correlation[lag]! > correlation[best]!) best = lag;
  let second = 0;
  for (let lag = 0; lag <= limit; lag++) {
    if (Math.abs(lag - best) >= 4) second = Math.max(second, Math.abs(correlation[lag]!));
  }
  const peak = correlation[best]!;
  return { delaySamples: best, confidence: peak > 0 ? Math.max(0, 1 - second / peak) : 0 };
}

/** The generic effect: any installed plugin by URI, controls as "symbol=value;symbol=value". */
const pluginSchema = z.strictObject({
  uri: z
    .string()
    .min(1)
    .default("http://guitarix.sourceforge.net/plugins/gxts9#ts9sim")
    .describe("plugin URI as lv2ls lists it (deepsp effects list shows the installed ones)"),
  controls: z
    .string()
    .regex(
      /^\s*([A-Za-z_][\w]*\s*=\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*(;\s*|$))*$/,
      'control values as "symbol=value;symbol=value" (port symbols from lv2info)',
    )
    .default("")
    .describe(
      'control inputs as "symbol=value;symbol=value" (port symbols and ranges from lv2info); unset ones keep their defaults',
    ),
});

/** Parses "drive=0.5; level=0.7" into { drive: 0.5, level: 0.7 } (duplicates are an OptionError). */
export function parseControls(text: string): Lv2Controls {
  const controls: Lv2Controls = {};
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const match = /^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$/.exec(part);
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(value)) {
      throw new OptionError("options/invalid", `lv2 controls: "${part.trim()}" is not symbol=number`);
    }
    if (match[1]! in controls) {
      throw new OptionError("options/invalid", `lv2 controls: ${match[1]} is set twice`);
    }
    controls[match[1]!] = value;
  }
  return controls;
}

export const lv2Plugin = defineEffect({
  name: "lv2.plugin",
  engine: "lv2",
  description:
    "any installed LV2 plugin run by lv2apply (uri + controls); deterministic when the plugin is (most are; a few, e.g. calf Flanger, are not)",
  schema: pluginSchema,
  render: (audio, o) => renderLv2(audio, o.uri, parseControls(o.controls), `lv2.plugin <${o.uri}>`),
  unavailableReason: () => lv2UnavailableReason(),
});

/** One typed knob of a pedal: its parameter name, the port symbol and the plugin's range and default. */
interface Knob {
  parameter: string;
  symbol: string;
  minimum: number;
  maximum: number;
  default: number;
  description: string;
}

/**
 * A pedal with typed knobs. The ranges and defaults are the plugin's own (lv2info, guitarix-lv2 0.44.1); the
 * names are the knob labels in camelCase. Unset knobs keep the plugin's defaults; BYPASS stays "enabled".
 */
function pedal(spec: { name: string; uri: string; description: string; knobs: readonly Knob[] }): AnyEffect {
  const shape: Record<string, z.ZodDefault<z.ZodNumber>> = {};
  for (const knob of spec.knobs) {
    shape[knob.parameter] = z
      .number()
      .min(knob.minimum)
      .max(knob.maximum)
      .default(knob.default)
      .describe(`${knob.description} (port ${knob.symbol}, ${knob.minimum}..${knob.maximum})`);
  }
  const schema = z.strictObject(shape);
  return defineEffect({
    name: spec.name,
    engine: "lv2",
    description: spec.description,
    schema,
    render: (audio, parameters) => {
      const controls: Lv2Controls = {};
      for (const knob of spec.knobs) controls[knob.symbol] = parameters[knob.parameter] as number;
      return renderLv2(audio, spec.uri, controls, spec.name);
    },
    unavailableReason: () => lv2UnavailableReason(spec.uri),
  });
}

export const TS9_URI = "http://guitarix.sourceforge.net/plugins/gxts9#ts9sim";
export const DS1_URI = "http://guitarix.sourceforge.net/plugins/gx_bossds1_#_bossds1_";
export const BIG_MUFF_URI = "http://guitarix.sourceforge.net/plugins/gx_bmp_#_bmp_";
export const FUZZ_FACE_URI = "http://guitarix.sourceforge.net/plugins/gx_fuzzface_#_fuzzface_";

export const lv2Ts9 = pedal({
  name: "lv2.ts9",
  uri: TS9_URI,
  description:
    "guitarix GxTubeScreamer (Ibanez TS-9 circuit model): mid-humped soft-clipping overdrive, mono",
  knobs: [
    {
      parameter: "drive",
      symbol: "fslider2_",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Drive: gain into the clipping diodes",
    },
    {
      parameter: "tone",
      symbol: "fslider1_",
      minimum: 100,
      maximum: 1000,
      default: 400,
      description: "Tone: 100 dark .. 1000 bright",
    },
    {
      parameter: "level",
      symbol: "fslider0_",
      minimum: -20,
      maximum: 4,
      default: -16,
      description: "Level: output volume, roughly dB at the top of its range",
    },
  ],
});

export const lv2Ds1 = pedal({
  name: "lv2.ds1",
  uri: DS1_URI,
  description: "guitarix GxBoss DS1 (Boss DS-1 circuit model): hard-clipping distortion, mono",
  knobs: [
    {
      parameter: "drive",
      symbol: "DRIVE",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Dist: gain into the clipper",
    },
    {
      parameter: "tone",
      symbol: "TONE",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Tone: 0 bright .. 1 dark and bass-heavy (measured; the model's direction)",
    },
    {
      parameter: "level",
      symbol: "LEVEL",
      minimum: -20,
      maximum: 12,
      default: -2,
      description: "Level: output volume, roughly dB",
    },
  ],
});

export const lv2BigMuff = pedal({
  name: "lv2.bigmuff",
  uri: BIG_MUFF_URI,
  description: "guitarix GxBigMuffPi (Electro-Harmonix Big Muff Pi circuit model): sustaining fuzz, mono",
  knobs: [
    {
      parameter: "sustain",
      symbol: "SUSTAIN",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Sustain: gain into the clipping stages",
    },
    {
      parameter: "tone",
      symbol: "TONE",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Tone: 0 dark (low-pass path) .. 1 bright (high-pass path)",
    },
    {
      parameter: "volume",
      symbol: "VOLUME",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Volume: output level, linear",
    },
  ],
});

export const lv2FuzzFace = pedal({
  name: "lv2.fuzzface",
  uri: FUZZ_FACE_URI,
  description: "guitarix GxFuzzFaceJH2 (Dallas Arbiter Fuzz Face circuit model): two-transistor fuzz, mono",
  knobs: [
    {
      parameter: "fuzz",
      symbol: "FUZZ",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Fuzz: gain of the transistor stages",
    },
    {
      parameter: "level",
      symbol: "LEVEL",
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: "Volume: output level",
    },
  ],
});

/** The LV2 effects: the four pedals, then the generic plugin host. */
export const lv2Effects: readonly AnyEffect[] = [lv2Ts9, lv2Ds1, lv2BigMuff, lv2FuzzFace, lv2Plugin];
