import { OfflineAudioContext } from "node-web-audio-api";
import type { CreateContext } from "../effects/webaudio/graph.ts";

/**
 * The Node context factory for Web Audio graphs: node-web-audio-api's OfflineAudioContext (a Rust
 * implementation of the Web Audio spec, shipped as a prebuilt native addon inside the npm package).
 * Pass it to `webAudioEffects(createNodeContext)` or `renderGraph(graph, audio, createNodeContext)`.
 */
export const createNodeContext: CreateContext = (channels, length, sampleRate) =>
  new OfflineAudioContext(channels, length, sampleRate);
