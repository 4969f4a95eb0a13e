import type { AnyEffect } from "../effect.ts";
import { bitcrusherEffect } from "./bitcrusher.ts";
import { compressorEffect } from "./compressor.ts";
import { delayEffects } from "./delay.ts";
import { filterEffects } from "./filters.ts";
import { tremoloEffect } from "./modulation.ts";
import { phoneEffect } from "./phone.ts";
import { reverbEffect, roomEffect } from "./reverb.ts";
import { waveshaperEffects } from "./waveshapers.ts";

/**
 * deepsp's own effects, roughly from easy to hard to capture: linear filters, static waveshapers,
 * bit reduction, dynamics, modulation, time-based effects and a phone line.
 */
export const builtinEffects: readonly AnyEffect[] = [
  ...filterEffects,
  ...waveshaperEffects,
  bitcrusherEffect,
  compressorEffect,
  tremoloEffect,
  ...delayEffects,
  reverbEffect,
  roomEffect,
  phoneEffect,
];
