import { DeepspError } from "../core/errors.ts";

/**
 * Audio as deepsp passes it between modules: one Float32Array per channel (all the same length, in
 * samples), nominal range [-1, 1), and the sample rate in Hz.
 */
export interface Audio {
  readonly sampleRate: number;
  readonly channels: readonly Float32Array[];
}

/** Builds an Audio after checking that the rate is a positive finite number and channels have equal lengths. */
export function makeAudio(sampleRate: number, channels: readonly Float32Array[]): Audio {
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) {
    throw new DeepspError("audio/invalid", `sample rate must be a positive number of Hz, got ${sampleRate}`);
  }
  if (channels.length === 0) throw new DeepspError("audio/invalid", "audio needs at least one channel");
  const length = channels[0]!.length;
  channels.forEach((channel, index) => {
    if (channel.length !== length) {
      throw new DeepspError(
        "audio/invalid",
        `channel ${index} has ${channel.length} samples, channel 0 has ${length}: channels must have equal lengths`,
      );
    }
  });
  return { sampleRate, channels };
}

/** Number of sample frames (samples per channel). */
export function frameCount(audio: Audio): number {
  return audio.channels[0]?.length ?? 0;
}

/** Duration in seconds. */
export function durationSeconds(audio: Audio): number {
  return frameCount(audio) / audio.sampleRate;
}

/** Average of all channels (a new Float32Array); the channel itself (not a copy) when there is only one. */
export function mixToMono(audio: Audio): Float32Array {
  if (audio.channels.length === 1) return audio.channels[0]!;
  const length = frameCount(audio);
  const mono = new Float32Array(length);
  for (const channel of audio.channels) {
    for (let i = 0; i < length; i++) mono[i]! += channel[i]!;
  }
  const scale = 1 / audio.channels.length;
  for (let i = 0; i < length; i++) mono[i]! *= scale;
  return mono;
}

/** Frames [start, end) of every channel, as views (no copy). */
export function sliceFrames(audio: Audio, start: number, end: number): Audio {
  return {
    sampleRate: audio.sampleRate,
    channels: audio.channels.map((channel) => channel.subarray(start, end)),
  };
}

/** Peak absolute sample value over all channels. */
export function peak(audio: Audio): number {
  let max = 0;
  for (const channel of audio.channels) {
    for (let i = 0; i < channel.length; i++) {
      const value = Math.abs(channel[i]!);
      if (value > max) max = value;
    }
  }
  return max;
}

/** Root-mean-square level over all channels (linear, not dB). */
export function rms(audio: Audio): number {
  let sum = 0;
  let count = 0;
  for (const channel of audio.channels) {
    for (let i = 0; i < channel.length; i++) sum += channel[i]! * channel[i]!;
    count += channel.length;
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}

/** Linear amplitude -> dBFS (-Infinity for 0). */
export function toDb(linear: number): number {
  return 20 * Math.log10(linear);
}
