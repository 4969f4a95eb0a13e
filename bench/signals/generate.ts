import { melody, noise, standard, sweep } from "../../src/signals/index.ts";
import { type Benchmark, medianMs } from "../harness.ts";

/** Render time of built-in material at 48 kHz (median of 3). */
export const generateBench: Benchmark = {
  name: "generate",
  description: "built-in material render times at 48 kHz (median of 3)",
  async run() {
    const time = (work: () => void) => medianMs(3, work);
    return [
      {
        name: "saw sweep 20 Hz..20 kHz exp, 10 s",
        value: time(() => sweep({ waveform: "sawtooth", seconds: 10 })),
        unit: "ms",
      },
      {
        name: "square sweep exp, 10 s",
        value: time(() => sweep({ waveform: "square", seconds: 10 })),
        unit: "ms",
      },
      { name: "sine sweep exp, 10 s", value: time(() => sweep({ seconds: 10 })), unit: "ms" },
      { name: "pink noise, 10 s", value: time(() => noise({ color: "pink", seconds: 10 })), unit: "ms" },
      { name: "melody, 20 s", value: time(() => melody({ seconds: 20 })), unit: "ms" },
      {
        name: "standard, 60 s stereo independent",
        value: time(() => standard({ channels: 2, stereo: "independent" })),
        unit: "ms",
      },
    ];
  },
};
