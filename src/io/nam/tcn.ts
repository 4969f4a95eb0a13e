/**
 * A mono deepsp `tcn` as the one-layer-array classic WaveNet that NAM plays (the same network, written the
 * way NAM/wavenet reads it). Piece by piece (deepsp tcn -> NAM A1 WaveNet, one layer array):
 *   input 1x1 conv (1 -> width, bias)       -> rechannel (1 -> channels, no bias): the bias is folded, below
 *   per dilation: conv (bias), gate/act     -> conv (bias) + mixer(x) with mixer weights 0, same activation
 *                 residual 1x1 (bias)       -> the layer's output 1x1 (bias)
 *   skip sum of the activations             -> the array's head sum
 *   head 1x1 (width -> 1, bias)             -> head rechannel (head_bias true), head_scale 1
 * The gated tcn is tanh(a) * sigmoid(b) over the two halves of its conv output, as NAM's gated "Tanh" layer.
 *
 * Folding the input bias: the tcn's input conv adds a constant b [width] to every layer's input (the residual
 * sums carry it along), so conv_j(y + b) = conv_j(y) + sum_k W_j[:, :, k] b enters layer j's conv bias. The
 * result computes the same function; outputs differ only by float rounding. A 'causal' tcn's weights are the
 * same network: NAM plays it with its history of silence, as deepsp's 'valid' models run.
 */

import type { Model } from "../../nn/models/model.ts";
import type { TcnModelConfig } from "../../nn/models/registry.ts";
import { WavenetModel } from "../../nn/models/wavenet.ts";

/** The WaveNet (headScale 1) that computes what a mono tcn computes; the tcn is not changed. */
export function wavenetFromTcn(tcn: Model, config: TcnModelConfig): WavenetModel {
  const { width, kernelSize, dilations, gated, activation } = config;
  const wavenet = new WavenetModel({
    architecture: "wavenet",
    layers: [
      {
        inputSize: 1,
        conditionSize: 1,
        channels: width,
        headSize: 1,
        kernelSize,
        dilations: [...dilations],
        activation: gated ? "tanh" : activation,
        gated,
        headBias: true,
      },
    ],
    headScale: 1,
  });
  const from = (name: string) => tcn.parameters.value(name);
  const to = (name: string) => wavenet.parameters.value(name);
  to("layers.0.rechannel.weight").set(from("input.weight"));
  const inputBias = from("input.bias");
  const outChannels = gated ? 2 * width : width;
  dilations.forEach((_, j) => {
    const layer = `layers.0.layers.${j}`;
    // weight [outChannels, width, kernelSize] row-major.
    const weight = from(`layers.${j}.conv.weight`);
    const bias = from(`layers.${j}.conv.bias`);
    const folded = to(`${layer}.conv.bias`);
    for (let o = 0; o < outChannels; o++) {
      let sum = bias[o]!;
      for (let i = 0; i < width; i++) {
        for (let k = 0; k < kernelSize; k++) sum += weight[(o * width + i) * kernelSize + k]! * inputBias[i]!;
      }
      folded[o] = sum;
    }
    to(`${layer}.conv.weight`).set(weight);
    to(`${layer}.mixer.weight`).fill(0);
    to(`${layer}.output.weight`).set(from(`layers.${j}.residual.weight`));
    to(`${layer}.output.bias`).set(from(`layers.${j}.residual.bias`));
  });
  to("layers.0.head.weight").set(from("head.weight"));
  to("layers.0.head.bias").set(from("head.bias"));
  return wavenet;
}
