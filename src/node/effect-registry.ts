import { builtinEffects } from "../effects/builtin/index.ts";
import type { AnyEffect } from "../effects/effect.ts";
import { webAudioEffects } from "../effects/webaudio/effects.ts";
import { externalEffects } from "./effects/index.ts";
import { createNodeContext } from "./webaudio.ts";

/**
 * Every effect deepsp can render in Node: the built-in TypeScript effects, the Web Audio graphs (through
 * node-web-audio-api) and the external engines (SoX, LV2 plugins, ffmpeg). Browsers use the built-in and
 * Web Audio ones with the page's own OfflineAudioContext.
 */
export function nodeEffects(): AnyEffect[] {
  return [...builtinEffects, ...webAudioEffects(createNodeContext), ...externalEffects];
}
