import { ConfigFields, checkGroups, configError, invalid } from "../fields.ts";
import { type NamFile, parseNamFile } from "../file.ts";
import { checkActivationChannels, type NamActivation, parseActivation, SIGMOID } from "./activations.ts";

/*
 * A WaveNet config as NAM core reads it (NAM/wavenet/model.cpp `parse_config_json`, params.h), with the checks of
 * its constructors (wavenet/detail.h Layer, model.cpp WaveNet, wavenet/slimmable.cpp).
 */

/** How a layer turns the conv's output z into its activation a (wavenet/params.h GatingMode). */
export type GatingMode =
  /** a = f(z), z has `bottleneck` channels. */
  | "none"
  /** a = f(z[:B]) * g(z[B:]), z has 2B channels (g: sigmoid unless the file names another). */
  | "gated"
  /** a = g(z[B:]) f(z[:B]) + (1 - g(z[B:])) z[:B]. */
  | "blended";

/** Where a layer can apply FiLM (x * scale + shift, with [scale; shift] a 1x1 conv of the condition), in weight order. */
export const FILM_PLACES = [
  "conv_pre_film",
  "conv_post_film",
  "input_mixin_pre_film",
  "input_mixin_post_film",
  "activation_pre_film",
  "activation_post_film",
  "layer1x1_post_film",
  "head1x1_post_film",
] as const;
export type FilmPlace = (typeof FILM_PLACES)[number];

export interface FilmSpec {
  /** Whether the conv also outputs a shift (2 * dim channels) or only a scale (dim). */
  shift: boolean;
  groups: number;
}

export interface LayerSpec {
  kernelSize: number;
  dilation: number;
  activation: NamActivation;
  gating: GatingMode;
  /** The gate's or blend's activation; null without gating. */
  secondary: NamActivation | null;
}

export interface LayerArraySpec {
  /** Channels of the array's input (the model input, or the previous array's layer outputs). */
  inputSize: number;
  conditionSize: number;
  /** Residual channels C, and the channels B inside a layer (the conv outputs 2B when gated). */
  channels: number;
  bottleneck: number;
  /** The head rechannel conv: head outputs -> headSize. */
  headSize: number;
  headKernelSize: number;
  headDilation: number;
  headBias: boolean;
  /** Groups of the dilated conv and of the input mixin (the condition's 1x1 conv). */
  groupsInput: number;
  groupsInputMixin: number;
  /** The 1x1 conv B -> C on the residual path; null: the residual passes the input on unchanged (B = C). */
  layer1x1: { groups: number } | null;
  /** The 1x1 conv B -> outChannels into the head; null: a itself goes to the head. */
  head1x1: { outChannels: number; groups: number } | null;
  films: Partial<Record<FilmPlace, FilmSpec>>;
  layers: LayerSpec[];
  /** Whether the file lets a host slim the array's channels (wavenet/slimmable.cpp); it plays at full size. */
  slimmable: boolean;
}

/** The optional head after the layer arrays: per kernel size, activation then a conv (dilation 1, bias). */
export interface PostHeadSpec {
  inChannels: number;
  channels: number;
  outChannels: number;
  kernelSizes: number[];
  activation: NamActivation;
}

export interface WavenetSpec {
  inChannels: number;
  arrays: LayerArraySpec[];
  postHead: PostHeadSpec | null;
  /** A nested model run on the input whose output conditions every layer (the input itself without one). */
  condition: NamFile | null;
}

/** Channels each layer sends to the head (and the head rechannel's input): head1x1's outputs, else B. */
export function headInputs(array: LayerArraySpec): number {
  return array.head1x1 ? array.head1x1.outChannels : array.bottleneck;
}

/** Channels of a layer's conv output z. */
export function convOutputs(array: LayerArraySpec, layer: LayerSpec): number {
  return layer.gating === "none" ? array.bottleneck : 2 * array.bottleneck;
}

/** The input channels and output dimension of a FiLM at `place` of a layer. */
export function filmDim(array: LayerArraySpec, layer: LayerSpec, place: FilmPlace): number {
  switch (place) {
    case "conv_pre_film":
    case "layer1x1_post_film":
      return array.channels;
    case "input_mixin_pre_film":
      return array.conditionSize;
    case "conv_post_film":
    case "input_mixin_post_film":
    case "activation_pre_film":
      return convOutputs(array, layer);
    case "activation_post_film":
      return array.bottleneck;
    case "head1x1_post_film":
      return headInputs(array);
  }
}

export function parseWavenetConfig(file: NamFile): WavenetSpec {
  const fields = ConfigFields.of(file.config, `${file.source}: config`);
  const condition = fields.has("condition_dsp")
    ? parseNamFile(fields.raw("condition_dsp"), `${file.source}.config.condition_dsp`)
    : null;
  fields.skip("condition_dsp");
  const layers = fields.array("layers");
  if (layers.length === 0) throw configError(fields.at("layers"), "at least one layer array", layers);
  const arrays = layers.map((value, i) => parseLayerArray(value, `${fields.at("layers")}[${i}]`));
  const inChannels = fields.int("in_channels", 1);
  // Checked, then overridden: the last weight is the head scale (model.cpp WaveNet::set_weights_).
  fields.float("head_scale");
  const postHead = fields.has("head") ? parsePostHead(fields.object("head"), arrays.at(-1)!.headSize) : null;
  fields.skip("head");
  fields.finish();
  checkWiring(fields, inChannels, arrays, condition !== null);
  if (postHead && arrays.some((array) => array.slimmable)) {
    throw invalid(
      fields.at("head"),
      "a slimmable WaveNet cannot have a post-stack head (NAM core rejects it)",
    );
  }
  return { inChannels, arrays, postHead, condition };
}

function parseLayerArray(value: unknown, path: string): LayerArraySpec {
  const f = ConfigFields.of(value, path);
  const channels = f.int("channels");
  const bottleneck = f.int("bottleneck", channels);
  const inputSize = f.int("input_size");
  const conditionSize = f.int("condition_size");
  const groupsInput = f.int("groups_input", 1);
  const groupsInputMixin = f.int("groups_input_mixin", 1);
  const dilations = f.ints("dilations");
  const count = dilations.length;
  const perLayer = <T>(key: string, parse: (item: unknown, itemPath: string) => T): T[] => {
    const raw = f.raw(key);
    if (!Array.isArray(raw)) return new Array<T>(count).fill(parse(raw, f.at(key)));
    if (raw.length !== count)
      throw invalid(f.at(key), `has ${raw.length} entries for ${count} layers (dilations)`);
    return raw.map((item, j) => parse(item, `${f.at(key)}[${j}]`));
  };

  let layer1x1: LayerArraySpec["layer1x1"] = { groups: 1 };
  if (f.present("layer1x1")) {
    const l = f.object("layer1x1");
    const active = l.bool("active");
    const groups = l.int("groups");
    l.finish();
    layer1x1 = active ? { groups } : null;
  }
  let head1x1: LayerArraySpec["head1x1"] = null;
  if (f.present("head1x1")) {
    const h = f.object("head1x1");
    const active = h.bool("active");
    const outChannels = h.int("out_channels");
    const groups = h.int("groups");
    h.finish();
    head1x1 = active ? { outChannels, groups } : null;
  }

  // The head rechannel: a "head" object (kernel size, dilation), or the legacy head_size / head_bias (kernel 1).
  let head: { size: number; kernelSize: number; dilation: number; bias: boolean };
  if (f.has("head")) {
    const h = f.object("head");
    head = {
      size: h.int("out_channels"),
      dilation: h.int("head_dilation", 1),
      kernelSize: h.int("kernel_size"),
      bias: h.bool("bias"),
    };
    h.finish();
    f.skip("head_size", "head_bias"); // the nested head wins (model.cpp)
  } else if (f.present("head_size")) {
    head = { size: f.int("head_size"), kernelSize: 1, dilation: 1, bias: f.bool("head_bias") };
  } else {
    throw invalid(
      path,
      `needs a "head" object (out_channels, kernel_size, bias) or "head_size" and "head_bias"`,
    );
  }
  f.skip("head");

  let kernelSizes: number[];
  if (f.present("kernel_size") && f.present("kernel_sizes")) {
    throw invalid(path, `has both "kernel_size" and "kernel_sizes": give one`);
  } else if (f.present("kernel_sizes")) {
    kernelSizes = f.ints("kernel_sizes");
    if (kernelSizes.length !== count) {
      throw invalid(
        f.at("kernel_sizes"),
        `has ${kernelSizes.length} entries for ${count} layers (dilations)`,
      );
    }
  } else {
    kernelSizes = new Array<number>(count).fill(f.int("kernel_size"));
  }

  const activations = perLayer("activation", parseActivation);
  const { gating, secondary } = parseGating(f, count, perLayer);

  const films: Partial<Record<FilmPlace, FilmSpec>> = {};
  for (const place of FILM_PLACES) {
    const raw = f.raw(place);
    if (raw === undefined || raw === false) continue;
    const film = ConfigFields.of(raw, f.at(place));
    const active = film.bool("active", true);
    const spec = { shift: film.bool("shift", true), groups: film.int("groups", 1) };
    film.finish();
    if (active) films[place] = spec;
  }

  const array: LayerArraySpec = {
    inputSize,
    conditionSize,
    channels,
    bottleneck,
    headSize: head.size,
    headKernelSize: head.kernelSize,
    headDilation: head.dilation,
    headBias: head.bias,
    groupsInput,
    groupsInputMixin,
    layer1x1,
    head1x1,
    films,
    layers: dilations.map((dilation, j) => ({
      kernelSize: kernelSizes[j]!,
      dilation,
      activation: activations[j]!,
      gating: gating[j]!,
      secondary: secondary[j]!,
    })),
    slimmable: parseSlimmable(f, channels),
  };
  f.finish();
  checkLayerArray(f, array);
  return array;
}

/**
 * gating_mode ("none" | "gated" | "blended", or one per layer) with secondary_activation (one, or one per layer;
 * sigmoid when absent), else the legacy boolean "gated" (gate = sigmoid), else no gating.
 */
function parseGating(
  f: ConfigFields,
  count: number,
  perLayer: <T>(key: string, parse: (item: unknown, path: string) => T) => T[],
): { gating: GatingMode[]; secondary: (NamActivation | null)[] } {
  if (f.present("gating_mode")) {
    f.skip("gated"); // gating_mode wins (model.cpp)
    const gating = perLayer("gating_mode", (value, path) => {
      if (value === "none" || value === "gated" || value === "blended") return value;
      throw configError(path, `"none", "gated" or "blended"`, value);
    });
    const raw = f.raw("secondary_activation");
    if (Array.isArray(f.raw("gating_mode")) && Array.isArray(raw) && raw.length !== count) {
      throw invalid(
        f.at("secondary_activation"),
        `has ${raw.length} entries for ${count} layers (dilations)`,
      );
    }
    // Layers without gating never read their secondary activation.
    const secondary = gating.map((mode, j) => {
      if (mode === "none") return null;
      if (raw === undefined) return SIGMOID;
      const single = !Array.isArray(raw) || !Array.isArray(f.raw("gating_mode"));
      return parseActivation(
        single ? raw : raw[j],
        f.at(single ? "secondary_activation" : `secondary_activation[${j}]`),
      );
    });
    return { gating, secondary };
  }
  // Without gating_mode, NAM core never reads secondary_activation.
  f.skip("secondary_activation");
  const gated = f.present("gated") ? f.bool("gated") : false;
  return {
    gating: new Array<GatingMode>(count).fill(gated ? "gated" : "none"),
    secondary: new Array<NamActivation | null>(count).fill(gated ? SIGMOID : null),
  };
}

/**
 * "slimmable": {"method": "slice_channels_uniform", "kwargs": {"allowed_channels": [...]}} lets a host run the
 * array with fewer channels (wavenet/slimmable.cpp); the default, and what this player plays, is full size.
 * Returns whether the array declared it.
 */
function parseSlimmable(f: ConfigFields, channels: number): boolean {
  const raw = f.raw("slimmable");
  if (raw === undefined || raw === null) return false;
  const s = ConfigFields.of(raw, f.at("slimmable"));
  const method = s.string("method");
  if (method !== "slice_channels_uniform") {
    throw invalid(s.at("method"), `unsupported slimmable method ${JSON.stringify(method)}`);
  }
  if (s.has("kwargs")) {
    const kwargs = s.object("kwargs");
    if (kwargs.has("allowed_channels")) {
      const allowed = kwargs.ints("allowed_channels");
      if (allowed.some((c, i) => i > 0 && c <= allowed[i - 1]!) || allowed.at(-1) !== channels) {
        throw invalid(
          kwargs.at("allowed_channels"),
          `must rise and end at the array's channels (${channels}), got ${JSON.stringify(allowed)}`,
        );
      }
    }
    kwargs.finish();
  }
  s.skip("kwargs");
  s.finish();
  return true;
}

function parsePostHead(h: ConfigFields, lastHeadSize: number): PostHeadSpec {
  // The trainer leaves in_channels out (it is the last array's head size); legacy files may give it.
  if (h.has("in_channels") && h.int("in_channels") !== lastHeadSize) {
    throw invalid(h.at("in_channels"), `must equal the last layer array's head size ${lastHeadSize}`);
  }
  h.skip("in_channels");
  const spec: PostHeadSpec = {
    inChannels: lastHeadSize,
    channels: h.int("channels"),
    outChannels: h.int("out_channels"),
    kernelSizes: h.ints("kernel_sizes"),
    activation: parseActivation(h.raw("activation"), h.at("activation")),
  };
  h.finish();
  // The activation runs on each conv's input: the head's input, then `channels` between convs.
  checkActivationChannels(spec.activation, spec.inChannels, false, h.at("activation"));
  if (spec.kernelSizes.length > 1)
    checkActivationChannels(spec.activation, spec.channels, false, h.at("activation"));
  return spec;
}

/** The checks of wavenet/detail.h Layer's constructor, and group and PReLU fits. */
function checkLayerArray(f: ConfigFields, array: LayerArraySpec): void {
  const { channels, bottleneck, conditionSize, films } = array;
  if (array.layer1x1 === null && bottleneck !== channels) {
    throw invalid(
      f.at("bottleneck"),
      `is ${bottleneck}: without layer1x1 it must equal channels (${channels})`,
    );
  }
  if (array.layer1x1 === null && films.layer1x1_post_film) {
    throw invalid(f.at("layer1x1_post_film"), "cannot be active without layer1x1");
  }
  if (array.head1x1 === null && films.head1x1_post_film) {
    throw invalid(f.at("head1x1_post_film"), "cannot be active without head1x1");
  }
  if (array.layer1x1) checkGroups(f.at("layer1x1.groups"), array.layer1x1.groups, bottleneck, channels);
  if (array.head1x1)
    checkGroups(f.at("head1x1.groups"), array.head1x1.groups, bottleneck, array.head1x1.outChannels);
  array.layers.forEach((layer, j) => {
    const z = convOutputs(array, layer);
    checkGroups(f.at("groups_input"), array.groupsInput, channels, z);
    checkGroups(f.at("groups_input_mixin"), array.groupsInputMixin, conditionSize, z);
    const gate = layer.gating !== "none";
    checkActivationChannels(layer.activation, bottleneck, gate, `${f.at("activation")} (layer ${j})`);
    if (layer.secondary) {
      checkActivationChannels(
        layer.secondary,
        bottleneck,
        true,
        `${f.at("secondary_activation")} (layer ${j})`,
      );
    }
    for (const place of FILM_PLACES) {
      const film = films[place];
      const dim = filmDim(array, layer, place);
      if (film) checkGroups(f.at(`${place}.groups`), film.groups, conditionSize, (film.shift ? 2 : 1) * dim);
    }
  });
}

/** How the arrays connect (model.cpp WaveNet's constructor, and what its buffer copies assume). */
function checkWiring(
  fields: ConfigFields,
  inChannels: number,
  arrays: LayerArraySpec[],
  conditioned: boolean,
): void {
  arrays.forEach((array, i) => {
    const path = `${fields.at("layers")}[${i}]`;
    const expectedInput = i === 0 ? inChannels : arrays[i - 1]!.channels;
    if (array.inputSize !== expectedInput) {
      const from = i === 0 ? "in_channels" : "the previous array's channels";
      throw invalid(`${path}.input_size`, `is ${array.inputSize}, but ${from} is ${expectedInput}`);
    }
    if (!conditioned && array.conditionSize !== inChannels) {
      throw invalid(
        `${path}.condition_size`,
        `is ${array.conditionSize}: without a condition_dsp the condition is the input (${inChannels} channel(s))`,
      );
    }
    if (i === 0) return;
    const previous = arrays[i - 1]!;
    if (array.channels !== previous.headSize) {
      throw invalid(
        `${path}.channels`,
        `is ${array.channels}: it must equal the previous array's head size ${previous.headSize}`,
      );
    }
    if (headInputs(array) !== previous.headSize) {
      throw invalid(
        path,
        `its layers send ${headInputs(array)} channels to the head, which continues the previous array's head output (${previous.headSize} channels)`,
      );
    }
  });
}
