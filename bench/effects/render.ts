import { resolveChain } from "../../src/effects/chain.ts";
import { nodeEffects } from "../../src/node/effect-registry.ts";
import { noise } from "../../src/signals/index.ts";
import type { Benchmark, Figure } from "../harness.ts";

const SECONDS = 5;

/**
 * Render speed of every effect with its default parameters on 5 s of 48 kHz mono pink noise, in multiples of
 * real time (audio seconds per wall-clock second; median of 3, after one warm-up), grouped by engine.
 * External engines that are not installed are reported as skipped.
 */
export const effectsBench: Benchmark = {
  name: "effects",
  description: `render speed of every effect (default parameters, ${SECONDS} s 48 kHz mono), x real time`,
  async run() {
    const audio = noise({ seconds: SECONDS, sampleRate: 48000, color: "pink", amplitude: 0.5 });
    const figures: Figure[] = [];
    for (const effect of nodeEffects()) {
      if (effect.name === "lv2.plugin") continue; // needs a plugin URI; the named pedals cover lv2apply
      const reason = await effect.unavailableReason?.();
      if (reason) {
        figures.push({
          name: `${effect.engine} ${effect.name}`,
          value: Number.NaN,
          unit: "x",
          note: `skipped: ${reason}`,
        });
        continue;
      }
      const [step] = resolveChain([{ effect: effect.name, parameters: {} }], [effect]);
      await effect.render(audio, step!.parameters);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        await effect.render(audio, step!.parameters);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      figures.push({
        name: `${effect.engine} ${effect.name}`,
        value: SECONDS / (times[1]! / 1000),
        unit: "x real time",
      });
    }
    return figures;
  },
};
