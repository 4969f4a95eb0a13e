import { type Audio, frameCount, makeAudio, mixToMono, peak, rms, toDb } from "../audio/audio.ts";
import { applyDelay, type DelayEstimate, estimateDelay } from "../audio/latency.ts";
import { resample } from "../audio/resample.ts";
import { OptionError, PairError } from "../core/errors.ts";

/** An input recording and the same audio after the effect: equal rate, equal length, compatible channels. */
export interface Pair {
  readonly input: Audio;
  readonly target: Audio;
}

export interface PairOptions {
  /** Names used in messages (file paths in the CLI). Default "input" / "target". */
  inputName?: string;
  targetName?: string;
  /** Resample the target to the input's rate when they differ (else that is an error). Default false. */
  resample?: boolean;
  /**
   * How channel counts must relate. "strict" (default): equal counts. "downmix-input": a stereo (or
   * wider) input is mixed to mono for a mono target. "duplicate-input": a mono input is copied to every
   * target channel (a mono-in, stereo-out effect).
   */
  channels?: "strict" | "downmix-input" | "duplicate-input";
  /** Lengths may differ by less than this before it is an error; the longer one is trimmed. Default 1 s. */
  maxLengthDifferenceSeconds?: number;
  /**
   * Latency handling: "detect" (default) estimates the delay and shifts the target; a number applies that
   * many samples; "none" leaves the pair as recorded.
   */
  align?: "detect" | "none" | number;
  /** Search window for "detect", in seconds. Default 0.1. */
  maxDelaySeconds?: number;
}

export interface LevelReport {
  peakDb: number;
  rmsDb: number;
  /** Samples in runs of 3 or more consecutive samples at full scale (|x| >= 0.999): the mark of clipping. */
  clippedSamples: number;
}

/** Everything checked and changed while preparing a pair, as plain data (printed by the CLI, saved with runs). */
export interface PairReport {
  sampleRate: number;
  frames: number;
  seconds: number;
  inputChannels: number;
  targetChannels: number;
  /** Frames dropped from the end of the longer file before alignment. */
  lengthTrimmedFrames: number;
  /** Set when the target was resampled. */
  resampledTargetFromHz?: number;
  channelHandling: "as-is" | "downmix-input" | "duplicate-input";
  /** The shift applied to the target (positive: the target lagged the input). */
  delay:
    | { source: "detected"; delaySamples: number; estimate: DelayEstimate }
    | { source: "given"; delaySamples: number }
    | { source: "none"; delaySamples: 0 };
  input: LevelReport;
  target: LevelReport;
  warnings: string[];
}

const SILENCE_DB = -60;
const CLIP_LEVEL = 0.999;
const CLIP_RUN = 3;

/**
 * Checks an input/target pair and makes it ready for splitting: equal sample rates (or resampled when
 * asked), lengths within `maxLengthDifferenceSeconds` (trimmed with a warning), compatible channels, all
 * samples finite; warns about silence and clipping; detects and removes latency.
 * Throws PairError naming the file and what was expected.
 */
export function preparePair(
  input: Audio,
  target: Audio,
  options: PairOptions = {},
): { pair: Pair; report: PairReport } {
  const inputName = options.inputName ?? "input";
  const targetName = options.targetName ?? "target";
  const warnings: string[] = [];

  checkFinite(input, inputName);
  checkFinite(target, targetName);

  let resampledTargetFromHz: number | undefined;
  if (input.sampleRate !== target.sampleRate) {
    if (!options.resample) {
      throw new PairError(
        "pair/sample-rate",
        `${inputName} is ${input.sampleRate} Hz but ${targetName} is ${target.sampleRate} Hz: ` +
          `sample rates must match (ask to resample the target to ${input.sampleRate} Hz)`,
      );
    }
    resampledTargetFromHz = target.sampleRate;
    target = resample(target, input.sampleRate);
    warnings.push(`${targetName} resampled from ${resampledTargetFromHz} Hz to ${input.sampleRate} Hz`);
  }

  const channelMode = options.channels ?? "strict";
  let channelHandling: PairReport["channelHandling"] = "as-is";
  const inputChannels = input.channels.length;
  const targetChannels = target.channels.length;
  if (inputChannels !== targetChannels) {
    if (channelMode === "downmix-input" && targetChannels === 1) {
      input = makeAudio(input.sampleRate, [mixToMono(input)]);
      channelHandling = "downmix-input";
    } else if (channelMode === "duplicate-input" && inputChannels === 1) {
      input = makeAudio(
        input.sampleRate,
        target.channels.map(() => input.channels[0]!),
      );
      channelHandling = "duplicate-input";
    } else {
      const hint =
        targetChannels === 1
          ? " (ask to mix the input down to mono for a mono target)"
          : inputChannels === 1
            ? " (ask to copy the mono input to every target channel)"
            : "";
      throw new PairError(
        "pair/channels",
        `${inputName} has ${inputChannels} channel(s) but ${targetName} has ${targetChannels}: counts must match${hint}`,
      );
    }
  }

  const maxDifference = options.maxLengthDifferenceSeconds ?? 1;
  const inputFrames = frameCount(input);
  const targetFrames = frameCount(target);
  const difference = Math.abs(inputFrames - targetFrames);
  if (difference >= maxDifference * input.sampleRate) {
    throw new PairError(
      "pair/length",
      `${inputName} has ${inputFrames} frames (${seconds(inputFrames, input.sampleRate)}) but ${targetName} has ` +
        `${targetFrames} (${seconds(targetFrames, input.sampleRate)}): they differ by ${maxDifference} s or more, ` +
        "so they are probably not the same take",
    );
  }
  const frames = Math.min(inputFrames, targetFrames);
  if (difference > 0) {
    const longer = inputFrames > targetFrames ? inputName : targetName;
    warnings.push(`${longer} is ${difference} frames longer; trimmed its end to ${frames} frames`);
    input = trim(input, frames);
    target = trim(target, frames);
  }
  if (frames === 0) throw new PairError("pair/empty", `${inputName} and ${targetName} contain no audio`);

  const inputLevels = levels(input);
  const targetLevels = levels(target);
  for (const [name, level] of [
    [inputName, inputLevels],
    [targetName, targetLevels],
  ] as const) {
    if (level.rmsDb < SILENCE_DB) {
      warnings.push(`${name} is nearly silent (${level.rmsDb.toFixed(1)} dBFS rms): nothing to learn from`);
    }
    if (level.clippedSamples > 0) {
      warnings.push(
        `${name} has ${level.clippedSamples} samples in flat runs at full scale: it looks clipped`,
      );
    }
  }

  const align = options.align ?? "detect";
  let delay: PairReport["delay"] = { delaySamples: 0, source: "none" };
  if (align === "detect") {
    const estimate = estimateDelay(input, target, { maxDelaySeconds: options.maxDelaySeconds ?? 0.1 });
    delay = { source: "detected", delaySamples: estimate.delaySamples, estimate };
  } else if (typeof align === "number") {
    if (!Number.isInteger(align)) {
      throw new OptionError(
        "options/invalid",
        `align: a delay must be a whole number of samples, got ${align}`,
      );
    }
    delay = { source: "given", delaySamples: align };
  }
  if (delay.delaySamples !== 0) ({ input, target } = applyDelay(input, target, delay.delaySamples));

  const pair = { input, target };
  const alignedFrames = frameCount(input);
  return {
    pair,
    report: {
      sampleRate: input.sampleRate,
      frames: alignedFrames,
      seconds: alignedFrames / input.sampleRate,
      inputChannels,
      targetChannels,
      lengthTrimmedFrames: difference,
      ...(resampledTargetFromHz === undefined ? {} : { resampledTargetFromHz }),
      channelHandling,
      delay,
      input: inputLevels,
      target: targetLevels,
      warnings,
    },
  };
}

function checkFinite(audio: Audio, name: string): void {
  audio.channels.forEach((channel, c) => {
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i]!)) {
        throw new PairError(
          "pair/non-finite",
          `${name} has a non-finite sample (${channel[i]}) in channel ${c} at frame ${i} ` +
            `(${seconds(i, audio.sampleRate)}): audio must be finite numbers`,
        );
      }
    }
  });
}

function levels(audio: Audio): LevelReport {
  let clippedSamples = 0;
  for (const channel of audio.channels) {
    let run = 0;
    for (let i = 0; i <= channel.length; i++) {
      if (i < channel.length && Math.abs(channel[i]!) >= CLIP_LEVEL) {
        run++;
      } else {
        if (run >= CLIP_RUN) clippedSamples += run;
        run = 0;
      }
    }
  }
  return { peakDb: toDb(peak(audio)), rmsDb: toDb(rms(audio)), clippedSamples };
}

function trim(audio: Audio, frames: number): Audio {
  return {
    sampleRate: audio.sampleRate,
    channels: audio.channels.map((channel) => channel.subarray(0, frames)),
  };
}

function seconds(frames: number, sampleRate: number): string {
  return `${(frames / sampleRate).toFixed(3)} s`;
}
