import { decodeWav, encodeWav, type WavEncoding } from "../../src/audio/wav.ts";
import { Rng } from "../../src/core/rng.ts";
import { type Benchmark, type Figure, medianMs } from "../harness.ts";

/** Decode and encode time for 60 s of stereo 48 kHz audio in each encoding we write. */
export const wavBench: Benchmark = {
  name: "wav",
  description: "WAV decode/encode of 60 s stereo 48 kHz (median of 7)",
  async run() {
    const frames = 60 * 48000;
    const rng = new Rng(1);
    const channel = () => Float32Array.from({ length: frames }, () => rng.uniform(-0.9, 0.9));
    const audio = { sampleRate: 48000, channels: [channel(), channel()] };
    const figures: Figure[] = [];
    for (const encoding of ["pcm24", "pcm16", "float32"] as WavEncoding[]) {
      const bytes = encodeWav(audio, { encoding });
      figures.push({ name: `decode ${encoding}`, value: medianMs(7, () => decodeWav(bytes)), unit: "ms" });
      figures.push({
        name: `encode ${encoding}`,
        value: medianMs(7, () => encodeWav(audio, { encoding })),
        unit: "ms",
      });
    }
    return figures;
  },
};
