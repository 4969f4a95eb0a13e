import type { AnyEffect } from "../../effects/effect.ts";
import { ffmpegTelephone } from "./ffmpeg.ts";
import { lv2Effects } from "./lv2.ts";
import { soxEffects } from "./sox.ts";

/**
 * The external effect engines: effects rendered by programs outside the library (sox, lv2apply with LV2
 * plugins, ffmpeg), so captures can be of effects nobody here wrote. They follow the same contract as the
 * built-in effects (src/effects/effect.ts) and add `unavailableReason()`, which names the Debian package to
 * install when a program or plugin is missing:
 *   sox.*             sox
 *   lv2.*             lilv-utils (lv2apply, lv2ls, lv2info) + guitarix-lv2 for the pedals; lv2.plugin runs any
 *                     installed plugin (swh-lv2, calf-plugins, ...)
 *   ffmpeg.telephone  ffmpeg
 */

export { averageChannels, fitLength, matchInput } from "./common.ts";
export {
  ffmpegTelephone,
  renderTelephone,
  type TelephoneCodec,
  type TelephoneParameters,
  telephoneBitrate,
  telephoneCodecs,
} from "./ffmpeg.ts";
export {
  BIG_MUFF_URI,
  DS1_URI,
  FUZZ_FACE_URI,
  type Lv2Control,
  type Lv2Controls,
  type Lv2PluginInfo,
  type Lv2Port,
  listLv2Plugins,
  lv2BigMuff,
  lv2Ds1,
  lv2Effects,
  lv2FuzzFace,
  lv2Plugin,
  lv2PluginInfo,
  lv2PluginUris,
  lv2Ts9,
  lv2UnavailableReason,
  parseControls,
  parseLv2Info,
  renderLv2,
  TS9_URI,
} from "./lv2.ts";
export {
  renderSox,
  soxBass,
  soxChorus,
  soxCompand,
  soxEcho,
  soxEffects,
  soxEqualizer,
  soxFlanger,
  soxOverdrive,
  soxPhaser,
  soxReverb,
  soxTreble,
  soxTremolo,
} from "./sox.ts";

/** Every external effect: sox, then LV2, then ffmpeg. */
export const externalEffects: readonly AnyEffect[] = [...soxEffects, ...lv2Effects, ffmpegTelephone];

/** The external effect called `name`, or undefined. */
export function findExternalEffect(name: string): AnyEffect | undefined {
  return externalEffects.find((effect) => effect.name === name);
}
