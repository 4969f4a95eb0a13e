import { join } from "node:path";
import { z } from "zod";
import { type Audio, frameCount, makeAudio } from "../../audio/audio.ts";
import { DeepspError, OptionError } from "../../core/errors.ts";
import { defineEffect, type RenderResult } from "../../effects/effect.ts";
import { runTool, type ToolRequirement, withTempDir } from "../tools.ts";
import {
  copyAudio,
  fitLength,
  formatNumber,
  missingProgramsReason,
  readAudioFile,
  writeAudioFile,
} from "./common.ts";

/**
 * A telephone line through ffmpeg (Debian `ffmpeg`, 5.1): band-limit, 8 kHz, a speech codec round trip, back
 * to the input's rate. Each channel goes through on its own (telephone codecs are mono):
 *
 *   1. ffmpeg -i input.wav -af <band-pass>,aresample=8000 -c:a <encoder> coded.<container>
 *      band-pass: 4th-order Butterworth high-pass at lowCutHz and low-pass at highCutHz (two biquads each,
 *      Q 0.5412 and 1.3066), at the input rate; then ffmpeg's default resampler (swr) to 8 kHz.
 *   2. ffmpeg -i coded.<container> -af aresample=<input rate> -c:a pcm_f32le output.wav
 *
 * Codecs: G.711 mu-law / A-law (64 kbit/s, 8-bit companded samples), GSM 06.10 full rate (libgsm, 13 kbit/s),
 * G.726 ADPCM (16/24/32/40 kbit/s), Opus (libopus, voip mode, constant bitrate, 20 ms frames, narrowband since it
 * is fed 8 kHz) and "none" (band-limit and 8 kHz only). Both commands run with -fflags +bitexact -flags:a
 * +bitexact and one thread; every codec measured bit-identical from run to run (the tests render twice).
 *
 * Delay: swr compensates its own filter delay, and G.711, G.726 and GSM add none (measured by cross-correlation
 * against codec "none": 0 samples). ffmpeg's Opus decoder applies the Ogg pre-skip but its output (at 48 kHz)
 * still lags by 6 samples (1 sample at 8 kHz, measured at 44.1, 48 and 96 kHz and 6-24 kbit/s); those 6 samples are
 * trimmed at 48 kHz before resampling, so every codec reports latencySamples 0. The band-pass filters are
 * minimum-phase, so their group delay (largest near the band edges) is part of the telephone's sound, not
 * latency.
 */

const FFMPEG: ToolRequirement = { program: "ffmpeg", debianPackage: "ffmpeg" };

/** Telephone rate: G.711/G.726/GSM are defined at 8 kHz, and Opus is fed 8 kHz (narrowband). */
const PHONE_RATE = 8000;
/**
 * What ffmpeg's Opus decoder outputs (always 48 kHz; resampling to it first is a no-op that pins the trim's
 * unit) and the lag it leaves after the pre-skip, in samples at that rate (see the file comment).
 */
const OPUS_DECODER_RATE = 48000;
const OPUS_RESIDUAL_DELAY_48K = 6;

const BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact"] as const;
const QUIET = [
  "-nostdin",
  "-hide_banner",
  "-loglevel",
  "error",
  "-y",
  "-threads",
  "1",
  "-filter_threads",
  "1",
];

export const telephoneCodecs = ["mulaw", "alaw", "gsm", "g726", "opus", "none"] as const;
export type TelephoneCodec = (typeof telephoneCodecs)[number];

const G726_RATES = [16, 24, 32, 40];
const OPUS_MIN_KBPS = 6;
const OPUS_MAX_KBPS = 40;

/** Fixed or default bit rate of each codec, kbit/s (none: 8 kHz float, reported as 0). */
const DEFAULT_KBPS: Record<TelephoneCodec, number> = {
  mulaw: 64,
  alaw: 64,
  gsm: 13,
  g726: 32,
  opus: 12,
  none: 0,
};

const telephoneSchema = z.strictObject({
  codec: z
    .enum(telephoneCodecs)
    .default("mulaw")
    .describe(
      "mulaw / alaw (G.711, 64 kbit/s), gsm (GSM 06.10, 13 kbit/s), g726 (ADPCM), opus (narrowband), none (band-limit + 8 kHz only)",
    ),
  bitrateKbps: z
    .number()
    .min(0)
    .max(64)
    .default(0)
    .describe(
      "kbit/s; 0 = the codec's usual rate (G.726 32, Opus 12). G.726: 16, 24, 32 or 40; Opus: 6..40; G.711 (64) and GSM (13) are fixed",
    ),
  lowCutHz: z
    .number()
    .min(20)
    .max(1000)
    .default(300)
    .describe("high-pass corner of the line, Hz (4th-order Butterworth, -3 dB)"),
  highCutHz: z
    .number()
    .min(1000)
    .max(3900)
    .default(3400)
    .describe("low-pass corner of the line, Hz (4th-order Butterworth, -3 dB; 8 kHz sampling cuts at 4 kHz)"),
});

export type TelephoneParameters = z.output<typeof telephoneSchema>;

/** The codec's bit rate after defaults, or an OptionError for a rate the codec does not have. */
export function telephoneBitrate(codec: TelephoneCodec, bitrateKbps: number): number {
  const rate = bitrateKbps === 0 ? DEFAULT_KBPS[codec] : bitrateKbps;
  const fail = (expected: string): never => {
    throw new OptionError(
      "options/invalid",
      `ffmpeg.telephone parameters: bitrateKbps: ${codec} ${expected}, got ${bitrateKbps}`,
    );
  };
  switch (codec) {
    case "mulaw":
    case "alaw":
      if (rate !== 64) fail("is fixed at 64 kbit/s (use 0 or 64)");
      break;
    case "gsm":
      if (rate !== 13) fail("is fixed at 13 kbit/s (use 0 or 13)");
      break;
    case "g726":
      if (!G726_RATES.includes(rate)) fail("takes 16, 24, 32 or 40 kbit/s (0 = 32)");
      break;
    case "opus":
      if (rate < OPUS_MIN_KBPS || rate > OPUS_MAX_KBPS)
        fail(`takes ${OPUS_MIN_KBPS}..${OPUS_MAX_KBPS} kbit/s (0 = 12)`);
      break;
    case "none":
      if (rate !== 0) fail("has no bit rate (use 0)");
      break;
  }
  return rate;
}

/** Encoder arguments and the container file name for each codec. */
function encoderArgs(
  codec: TelephoneCodec,
  kbps: number,
): { args: string[]; file: string; demuxer?: string } {
  switch (codec) {
    case "mulaw":
      return { args: ["-c:a", "pcm_mulaw", "-f", "wav"], file: "coded.wav" };
    case "alaw":
      return { args: ["-c:a", "pcm_alaw", "-f", "wav"], file: "coded.wav" };
    case "gsm":
      return { args: ["-c:a", "libgsm", "-f", "gsm"], file: "coded.gsm", demuxer: "gsm" };
    case "g726":
      return { args: ["-c:a", "g726", "-b:a", `${kbps}k`, "-f", "wav"], file: "coded.wav" };
    case "opus":
      return {
        args: [
          "-c:a",
          "libopus",
          "-b:a",
          `${formatNumber(kbps)}k`,
          "-vbr",
          "off",
          "-application",
          "voip",
          "-frame_duration",
          "20",
          "-f",
          "ogg",
        ],
        file: "coded.ogg",
      };
    case "none":
      return { args: ["-c:a", "pcm_f32le", "-f", "wav"], file: "coded.wav" };
  }
}

/** ffmpeg's biquad high-/low-pass pair that makes a 4th-order Butterworth (-3 dB at the corner). */
function butterworth4(type: "highpass" | "lowpass", hz: number): string {
  return [0.5412, 1.3066].map((q) => `${type}=f=${formatNumber(hz)}:width_type=q:width=${q}`).join(",");
}

/** One mono channel through the line; returns it at the input rate (length as ffmpeg gave it). */
async function telephoneChannel(
  channel: Float32Array,
  sampleRate: number,
  o: TelephoneParameters,
  kbps: number,
): Promise<Float32Array> {
  return withTempDir(async (dir) => {
    const input = join(dir, "input.wav");
    const output = join(dir, "output.wav");
    const encoder = encoderArgs(o.codec, kbps);
    const coded = join(dir, encoder.file);
    await writeAudioFile(input, makeAudio(sampleRate, [channel]));
    const bandPass = `${butterworth4("highpass", o.lowCutHz)},${butterworth4("lowpass", o.highCutHz)}`;
    await runTool({
      program: FFMPEG.program,
      debianPackage: FFMPEG.debianPackage,
      args: [
        ...QUIET,
        ...BITEXACT,
        "-i",
        input,
        "-af",
        `${bandPass},aresample=${PHONE_RATE}`,
        "-ac",
        "1",
        ...encoder.args,
        ...BITEXACT,
        coded,
      ],
    });
    const decodeFilter =
      o.codec === "opus"
        ? `aresample=${OPUS_DECODER_RATE},atrim=start_sample=${OPUS_RESIDUAL_DELAY_48K},asetpts=PTS-STARTPTS,aresample=${sampleRate}`
        : `aresample=${sampleRate}`;
    await runTool({
      program: FFMPEG.program,
      debianPackage: FFMPEG.debianPackage,
      args: [
        ...QUIET,
        ...BITEXACT,
        ...(encoder.demuxer ? ["-f", encoder.demuxer] : []),
        "-i",
        coded,
        "-af",
        decodeFilter,
        "-ac",
        "1",
        "-c:a",
        "pcm_f32le",
        "-f",
        "wav",
        ...BITEXACT,
        output,
      ],
    });
    const decoded = await readAudioFile(output, "ffmpeg output");
    if (decoded.sampleRate !== sampleRate) {
      throw new DeepspError(
        "effects/tool-output",
        `ffmpeg wrote ${decoded.sampleRate} Hz audio for a ${sampleRate} Hz input (${o.codec})`,
      );
    }
    return decoded.channels[0]!;
  });
}

/** Renders the telephone line (exported for tests and for callers that want the parameters typed). */
export async function renderTelephone(audio: Audio, o: TelephoneParameters): Promise<RenderResult> {
  const kbps = telephoneBitrate(o.codec, o.bitrateKbps);
  if (o.lowCutHz >= o.highCutHz) {
    throw new OptionError(
      "options/invalid",
      `ffmpeg.telephone parameters: lowCutHz (${o.lowCutHz}) must be below highCutHz (${o.highCutHz})`,
    );
  }
  if (o.highCutHz >= audio.sampleRate / 2) {
    throw new OptionError(
      "options/invalid",
      `ffmpeg.telephone parameters: highCutHz: must be below Nyquist (${audio.sampleRate / 2} Hz at ${audio.sampleRate} Hz), got ${o.highCutHz}`,
    );
  }
  const frames = frameCount(audio);
  if (frames === 0) return { audio: copyAudio(audio), latencySamples: 0 };
  const channels: Float32Array[] = [];
  for (const channel of audio.channels) {
    channels.push(fitLength(await telephoneChannel(channel, audio.sampleRate, o, kbps), frames));
  }
  return { audio: makeAudio(audio.sampleRate, channels), latencySamples: 0 };
}

export const ffmpegTelephone = defineEffect({
  name: "ffmpeg.telephone",
  engine: "ffmpeg",
  description:
    "telephone line: 300-3400 Hz band-pass, 8 kHz, G.711 mu-law/A-law, GSM, G.726 or Opus round trip (ffmpeg, bit-exact)",
  schema: telephoneSchema,
  render: renderTelephone,
  unavailableReason: () => missingProgramsReason([FFMPEG]),
});
