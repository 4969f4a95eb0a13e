import { ConfigFields, configError, invalid } from "../fields.ts";
import { NamError, type NamFile, parseNamFile } from "../file.ts";
import type { BuildModel, NamModel, StatefulDsp } from "./dsp.ts";

/**
 * SlimmableContainer (NAM/container.cpp): whole .nam submodels, each playing up to a "slimmable size" max_value
 * (rising; the last >= 1). Every submodel is loaded and checked, as NAM core does; the one that plays is
 * `submodel` (an index), by default the last, the full-size model NAM core plays unless a host slims it.
 */
export function loadContainer(file: NamFile, submodel: number | undefined, build: BuildModel): NamModel {
  const fields = ConfigFields.of(file.config, `${file.source}: config`);
  const entries = fields.array("submodels");
  fields.finish();
  if (entries.length === 0) throw configError(fields.at("submodels"), "at least one submodel", entries);
  if (file.weights.length !== 0) {
    throw new NamError(
      "nam/weight-count",
      `${file.source}: a SlimmableContainer has no weights of its own (its submodels carry them), the file has ${file.weights.length}`,
    );
  }
  const submodels: { model: NamModel; path: string }[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  entries.forEach((entry, i) => {
    const e = ConfigFields.of(entry, `${fields.at("submodels")}[${i}]`);
    const maxValue = e.raw("max_value");
    if (!(typeof maxValue === "number" && Number.isFinite(maxValue))) {
      throw configError(e.at("max_value"), "a number", maxValue);
    }
    const model = parseNamFile(e.raw("model"), `${file.source}.config.submodels[${i}].model`);
    e.finish();
    if (maxValue <= previous)
      throw invalid(e.at("max_value"), "submodels must be sorted by rising max_value");
    if (i === entries.length - 1 && maxValue < 1)
      throw invalid(e.at("max_value"), "the last submodel's must be >= 1");
    if (model.sampleRate !== null && file.sampleRate !== null && model.sampleRate !== file.sampleRate) {
      throw invalid(e.at("model"), `has sample rate ${model.sampleRate}, the container ${file.sampleRate}`);
    }
    previous = maxValue;
    submodels.push({ model: build(model), path: e.path });
  });
  const index = submodel ?? submodels.length - 1;
  if (!(Number.isInteger(index) && index >= 0 && index < submodels.length)) {
    throw new NamError(
      "nam/option",
      `${file.source}: submodel must be a whole number in [0, ${submodels.length - 1}] (the container has ${submodels.length}), got ${submodel}`,
    );
  }
  const chosen = submodels[index]!;
  const probe = chosen.model.create();
  if (probe.inChannels !== 1 || probe.outChannels !== 1) {
    // container.cpp passes its one input and output channel through.
    throw invalid(
      chosen.path,
      `plays ${probe.inChannels} -> ${probe.outChannels} channels; a container plays mono`,
    );
  }
  return {
    architecture: chosen.model.architecture,
    create: (exact) => new ContainerDsp(chosen.model.create(exact), file.sampleRate ?? probe.sampleRate),
  };
}

/** The chosen submodel, with the container's sample rate. */
class ContainerDsp implements StatefulDsp {
  constructor(
    private readonly inner: StatefulDsp,
    readonly sampleRate: number | null,
  ) {}

  get inChannels(): number {
    return this.inner.inChannels;
  }

  get outChannels(): number {
    return this.inner.outChannels;
  }

  get prewarmSamples(): number {
    return this.inner.prewarmSamples;
  }

  get receptiveField(): number | undefined {
    return this.inner.receptiveField;
  }

  prepare(maxBlock: number): void {
    this.inner.prepare(maxBlock);
  }

  process(input: Float32Array, output: Float32Array, frames: number): void {
    this.inner.process(input, output, frames);
  }

  reset(prewarm: boolean): void {
    this.inner.reset(prewarm);
  }

  clearState(): void {
    this.inner.clearState();
  }

  saveState(): void {
    this.inner.saveState();
  }

  restoreState(): void {
    this.inner.restoreState();
  }
}
