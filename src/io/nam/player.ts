import { OptionError } from "../../core/errors.ts";
import { copySamples } from "../../runtime/kernels.ts";
import type { Core, ModelPlan } from "../../runtime/plans.ts";
import {
  createPlanProcessor,
  type StreamProcessor,
  type StreamProcessorOptions,
} from "../../runtime/processor.ts";
import { loadContainer } from "./dsp/container.ts";
import { loadConvNet } from "./dsp/convnet.ts";
import type { NamDsp, NamModel, StatefulDsp } from "./dsp/dsp.ts";
import { loadLinear } from "./dsp/linear.ts";
import { loadLstm } from "./dsp/lstm.ts";
import { loadWavenet } from "./dsp/wavenet.ts";
import { NamError, type NamFile } from "./file.ts";

export type { NamDsp } from "./dsp/dsp.ts";

/*
 * Plays any .nam file as NAM core (NeuralAmpModelerCore) does, sample for sample within float rounding: the
 * architectures of NAM/get_dsp.cpp's registry, read strictly (a field the player does not know is an error).
 */

export interface NamPlayerOptions {
  /** A SlimmableContainer's submodel to play (an index); default the last (full size), as NAM core. */
  submodel?: number;
  /**
   * Compute tanh, sigmoid and SiLU exactly, as the JS kernels always do: float64 rounded once to float32 in the
   * WaveNet's fused wasm layers, the JS cell (float64 sums) for an LSTM. This reproduces the player's NAM core
   * errors from before the fused kernels. Default false: float32 approximations with max abs error ~1e-7 (a few
   * ulps; ~6x cheaper than the exact wasm ones), measured 2.3x faster on WaveNet A1 and 5x on the example LSTM,
   * with max errors against NAM core's renders within ~20% of the exact ones (some lower), far inside the
   * reference's tolerance (../shared/data/nam-reference/README.md).
   */
  exactActivations?: boolean;
}

/**
 * Builds the DSP of a parsed .nam file (parseNamFile): checks the config and the weight count (NamError naming
 * the file and field) and returns one stream, ready for prepare(maxBlock). The model must be mono (1 in, 1 out).
 */
export function loadNamDsp(file: NamFile, options: NamPlayerOptions = {}): NamDsp {
  return loadMonoModel(file, options).create(exactOption(options));
}

function exactOption(options: NamPlayerOptions): boolean {
  const exact = options.exactActivations ?? false;
  if (typeof exact !== "boolean") {
    throw new OptionError(
      "options/invalid",
      `exactActivations: expected true or false, got ${JSON.stringify(exact)}`,
    );
  }
  return exact;
}

export interface NamStreamProcessorOptions extends StreamProcessorOptions, NamPlayerOptions {
  /**
   * Run zeros through the model on prepare() and reset(), as NAM core's Reset does by default, so the output
   * starts from the model's settled response to silence. Default true. (`warmUpSamples` is something else: it
   * runs noise to get the JavaScript compiled, then returns to this state.)
   */
  prewarm?: boolean;
}

/**
 * A StreamProcessor (src/runtime/processor.ts) playing a .nam file: one independent stream of the mono model per
 * audio channel (`audioChannels`, default 1), latency 0. prepare(sampleRate, maxBlock) does not resample: the
 * model plays at whatever rate it is given (its own is NamDsp.sampleRate).
 */
export function createNamStreamProcessor(
  file: NamFile,
  options: NamStreamProcessorOptions = {},
): StreamProcessor {
  const prewarm = options.prewarm ?? true;
  if (typeof prewarm !== "boolean") {
    throw new OptionError(
      "options/invalid",
      `prewarm: expected true or false, got ${JSON.stringify(prewarm)}`,
    );
  }
  const model = loadMonoModel(file, options);
  const exact = exactOption(options);
  const plan: ModelPlan = {
    architecture: `.nam ${model.architecture}`,
    channels: 1,
    receptiveField: model.create().receptiveField ?? 1,
    createCore: () => new NamCore(model.create(exact), prewarm),
  };
  return createPlanProcessor(plan, options);
}

function loadMonoModel(file: NamFile, options: NamPlayerOptions): NamModel {
  if (options.submodel !== undefined && file.architecture !== "SlimmableContainer") {
    throw new NamError(
      "nam/option",
      `${file.source}: submodel: a ${file.architecture} model has no submodels`,
    );
  }
  const model =
    file.architecture === "SlimmableContainer" ? loadContainer(file, options.submodel, build) : build(file);
  const probe = model.create();
  if (probe.inChannels !== 1 || probe.outChannels !== 1) {
    throw new NamError(
      "nam/unsupported",
      `${file.source}: the model has ${probe.inChannels} input and ${probe.outChannels} output channels; the player plays mono models (1 and 1)`,
    );
  }
  return model;
}

/** The architecture registry (NAM/get_dsp.cpp): one loader per "architecture". */
function build(file: NamFile): NamModel {
  switch (file.architecture) {
    case "Linear":
      return loadLinear(file);
    case "LSTM":
      return loadLstm(file);
    case "ConvNet":
      return loadConvNet(file);
    case "WaveNet":
      return loadWavenet(file, build);
    case "SlimmableContainer":
      return loadContainer(file, undefined, build);
  }
}

/** One audio channel's stream, in the runtime's Core shape. */
class NamCore implements Core {
  readonly channels = 1;
  private x = new Float32Array(0);
  private y = new Float32Array(0);

  constructor(
    private readonly dsp: StatefulDsp,
    private readonly prewarm: boolean,
  ) {}

  prepare(maxBlock: number): void {
    this.dsp.prepare(maxBlock);
    this.x = new Float32Array(maxBlock);
    this.y = new Float32Array(maxBlock);
    this.dsp.reset(this.prewarm);
  }

  restore(): void {
    this.dsp.reset(this.prewarm);
  }

  ingest(input: readonly Float32Array[], first: number, offset: number, frames: number): void {
    copySamples(this.x, 0, input[first]!, offset, frames);
  }

  render(output: Float32Array[], first: number, offset: number, frames: number): void {
    this.dsp.process(this.x, this.y, frames);
    copySamples(output[first]!, offset, this.y, 0, frames);
  }
}
