import { DeepspError, OptionError } from "../core/errors.ts";
import { parseOptions } from "../core/options.ts";
import { type SplitPair, windowsForRole } from "../data/windows.ts";
import type { Floats } from "../nn/kernels/types.ts";
import { allocatedFloats, reuse } from "../nn/layers/sequence.ts";
import type { Model } from "../nn/models/model.ts";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  checkResumable,
  type DataFingerprint,
  type EpochRecord,
  fingerprintData,
  type TrainSettings,
  type TrainSettingsInput,
  trainSettingsSchema,
} from "./checkpoint.ts";
import { DEFAULT_CHUNK_LENGTH, type EvaluateSource, Evaluation } from "./evaluate.ts";
import { createLoss, type Loss, type LossConfig } from "./losses/index.ts";
import { Adam } from "./optimizer.ts";
import { Schedule } from "./schedule.ts";

/**
 * The trainer: epochs over seeded, shuffled windows of the training regions; one Adam step per batch;
 * validation on the held-out regions after every epoch (ESR and the loss over the whole held-out audio);
 * best-model tracking by validation ESR; early stopping; a learning-rate schedule stepped once per epoch
 * with the validation loss; NaN/inf rollback; checkpoints after every epoch; events for progress displays.
 * Platform-neutral (no node:*): it runs in a Web Worker as well as in Node. It yields to the event loop
 * every ~50 ms so a Worker can receive "stop" and a progress bar can redraw.
 *
 * Convolutional models train on windows of windowLength target frames with receptiveField - 1 frames of
 * input history. Recurrent models (NAM's LSTM recipe, Wright et al. 2019) train on windows of
 * burnIn + windowLength frames: the state starts from zeros, the burn-in is run without gradient, then the
 * rest in chunks of `truncate` frames whose state carries over while the gradient stops at each chunk
 * boundary (truncated backpropagation through time); the loss covers the whole window with the burn-in
 * masked (the loss config's top-level maskFirst is set to burnIn), gradients from all chunks add up, and
 * the batch takes one optimizer step.
 */

/** Events, in this order: start, validation (epoch 0), then per epoch: epoch-start, batch..., [divergence,
 * epoch-start, batch...], validation, epoch-end, checkpoint; finally early-stop (if so) and end. */
export type TrainEvent =
  | {
      type: "start";
      epochs: number;
      /** The first epoch this call trains (1, or the one after a resumed checkpoint's). */
      firstEpoch: number;
      batchesPerEpoch: number;
      trainWindows: number;
      validationFrames: number;
      parameters: number;
      resumed: boolean;
      batchSize: number;
      /** Windows per model pass: the batch size, or fewer when micro-batches bound memory. */
      windowsPerPass: number;
    }
  | { type: "epoch-start"; epoch: number; learningRate: number; attempt: number }
  | {
      type: "batch";
      epoch: number;
      /** 1-based. */
      batch: number;
      batches: number;
      loss: number;
      /** Mean loss over the epoch's batches so far. */
      meanLoss: number;
      /** Target samples (all channels) trained per second of wall time in this epoch. */
      samplesPerSecond: number;
      /** Seconds since the epoch started. */
      seconds: number;
    }
  | {
      type: "validation";
      /** 0 for the untrained model. */
      epoch: number;
      esr: number;
      loss: number;
      /** A new best (never for epoch 0). */
      best: boolean;
      bestEpoch: number | null;
      bestEsr: number | null;
    }
  | {
      type: "epoch-end";
      epoch: number;
      trainLoss: number;
      /** The rate this epoch trained with. */
      learningRate: number;
      /** The rate the schedule chose for the next epoch. */
      nextLearningRate: number;
      seconds: number;
      epochsWithoutImprovement: number;
    }
  | { type: "checkpoint"; epoch: number; kinds: ("best" | "last")[] }
  | {
      type: "divergence";
      epoch: number;
      /** The batch whose loss or parameters went non-finite (0: the validation did). */
      batch: number;
      reason: string;
      /** The lowered rate the epoch is redone with. */
      learningRate: number;
      /** Divergences in this epoch and in the run so far. */
      inEpoch: number;
      total: number;
    }
  | { type: "early-stop"; epoch: number; bestEpoch: number; bestEsr: number; patience: number }
  | {
      type: "end";
      reason: TrainResult["reason"];
      bestEpoch: number | null;
      bestEsr: number | null;
      epochsRun: number;
      seconds: number;
    };

export interface TrainOptions extends TrainSettingsInput {
  /** The model to train, already built (architecture, preset and init seed are the caller's choice). */
  model: Model;
  /** Pairs with their splits: training windows come from the train regions, validation from the validation ones. */
  parts: readonly SplitPair[];
  onEvent?: (event: TrainEvent) => void;
  /**
   * Called after every epoch, awaited: first with kind "best" when the epoch improved on the best validation
   * ESR, then with kind "last". Write them atomically (src/node/checkpoints.ts does).
   */
  saveCheckpoint?: (checkpoint: Checkpoint) => Promise<void>;
  /**
   * Called after every epoch, awaited, with the model holding that epoch's parameters (e.g. to render the test
   * audio every K epochs, as the study listened to epochs 0..200). Must not change the model.
   */
  afterEpoch?: (info: { epoch: number; model: Model; validationEsr: number }) => Promise<void>;
  /** Continue from this checkpoint's next epoch; the result is bit-identical to an uninterrupted run. */
  resumeFrom?: Checkpoint;
  /** Stop after the current batch (or validation chunk); the result's reason is "stopped". */
  signal?: AbortSignal;
  /** Output frames per model call in validation. Default 32768. */
  validationChunkLength?: number;
  /**
   * Feed-forward models: windows per model pass (see ModelPasses), or the most whose activations fit
   * `budgetBytes` (measured by running one window first). Default: the whole batch in one pass. Changes
   * only the memory held and the order gradients are summed in.
   */
  microBatch?: number | { budgetBytes: number };
  /**
   * Builds the batch gradient computation instead of the single-threaded GradientComputer, e.g. the
   * data-parallel one over worker threads (src/node/parallel). Must give the same gradients.
   */
  gradients?: (setup: GradientSourceSetup) => Promise<GradientSource>;
}

export interface TrainResult {
  /** Best validation ESR and its epoch (null when no epoch completed). */
  bestEsr: number | null;
  bestEpoch: number | null;
  /** Epochs completed in total (including those before a resume). */
  epochsRun: number;
  history: EpochRecord[];
  initialValidation: { esr: number; loss: number } | null;
  reason: "completed" | "early-stop" | "stopped";
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** The settings with defaults filled in (what a resume must repeat). */
  settings: TrainSettings;
}

/** Divergence limits: the third in one epoch, or the sixth in a run, stops training. */
export const MAX_DIVERGENCES_PER_EPOCH = 3;
export const MAX_DIVERGENCES_PER_RUN = 6;
const YIELD_EVERY_MS = 50;

/** Trains `options.model` in place; it ends holding the best parameters (by validation ESR). */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const {
    model,
    parts,
    onEvent,
    saveCheckpoint,
    afterEpoch,
    resumeFrom,
    signal,
    validationChunkLength = DEFAULT_CHUNK_LENGTH,
    gradients,
    microBatch: _microBatch,
    ...rest
  } = options;
  const settings = parseOptions(trainSettingsSchema, rest, "train options");
  const clock = globalThis.performance ?? Date;
  const started = clock.now();
  const emit = (event: TrainEvent): void => onEvent?.(event);

  // --- data, loss, optimizer --------------------------------------------------------------------------
  const recurrent = model.recurrent;
  if (!recurrent && (settings.burnIn > 0 || settings.truncate !== null)) {
    throw new OptionError(
      "options/invalid",
      `train options: burnIn and truncate apply to recurrent models; ${model.architecture} is convolutional ` +
        `(its windows get receptiveField - 1 = ${model.receptiveField - 1} frames of history instead)`,
    );
  }
  const rowLength = recurrent ? settings.burnIn + settings.windowLength : settings.windowLength;
  const windows = windowsForRole(parts, "train", {
    length: rowLength,
    prefix: model.receptiveField - 1,
    overlap: settings.overlap,
    ...(settings.hop === null ? {} : { hop: settings.hop }),
    stereo: settings.stereo,
  });
  if (windows.channels !== model.channels) {
    throw new OptionError(
      "options/invalid",
      `train options: the model has ${model.channels} channel(s), the training windows ${windows.channels}: ` +
        `use stereo: "split" for a mono model on stereo audio, or a ${windows.channels}-channel model`,
    );
  }
  const validationSources: EvaluateSource[] = parts
    .map((part) => ({ pair: part.pair, regions: part.split.regions.validation }))
    .filter((source) => source.regions.length > 0);
  const validationFrames = validationSources.reduce(
    (sum, source) =>
      sum +
      source.regions.reduce(
        (s, region) =>
          s + Math.max(0, region.end - region.start - (model.receptiveField - 1) - settings.burnIn),
        0,
      ),
    0,
  );
  if (validationFrames === 0) {
    throw new OptionError(
      "options/invalid",
      validationSources.length === 0
        ? "no audio is assigned to validation: the trainer validates after every epoch (check the split)"
        : `the validation regions are too short: each needs more than receptiveField - 1 + burnIn = ` +
            `${model.receptiveField - 1 + settings.burnIn} frames`,
    );
  }
  const trainLossConfig: LossConfig = recurrent
    ? { ...settings.loss, maskFirst: settings.burnIn }
    : settings.loss;
  const validationLossConfig: LossConfig = recurrent ? { ...settings.loss, maskFirst: 0 } : settings.loss;
  const loss = createLoss(trainLossConfig);
  // Fail now, not after an epoch, when the loss cannot work on these windows (e.g. an FFT longer than a row).
  {
    const probe = new Float32Array(windows.channels * rowLength);
    loss.forward(probe, probe, { batch: 1, channels: windows.channels, length: rowLength });
  }
  const schedule = new Schedule(settings.schedule, settings.learningRate);
  const optimizer = new Adam(model.parameters, { learningRate: settings.learningRate, ...settings.adam });
  const bptt = recurrent
    ? { burnIn: settings.burnIn, truncate: settings.truncate ?? settings.windowLength }
    : null;
  const microBatch = recurrent ? null : passSize(model, windows.channels, rowLength, options.microBatch);
  // Validation's activations (the main thread's model, forward only) stay allocated next to training's: when
  // memory bounds the training passes, validation chunks hold no more frames than one pass.
  const validationRows = Math.max(
    ...validationSources.map((s) => s.pair.input.channels.length / model.channels),
  );
  const passFrames = (microBatch ?? Number.POSITIVE_INFINITY) * (model.receptiveField - 1 + rowLength);
  const validationChunk =
    microBatch !== null && microBatch < settings.batchSize
      ? Math.max(
          4096,
          Math.min(
            validationChunkLength,
            Math.floor(passFrames / validationRows) - (model.receptiveField - 1),
          ),
        )
      : validationChunkLength;
  const computer: GradientSource = gradients
    ? await gradients({
        model,
        loss,
        lossConfig: trainLossConfig,
        bptt,
        microBatch,
        maxBatch: settings.batchSize,
        channels: windows.channels,
        inLength: model.receptiveField - 1 + rowLength,
        length: rowLength,
      })
    : new GradientComputer(model, loss, bptt, microBatch);
  try {
    return await trainLoop();
  } finally {
    await computer.close?.();
  }

  async function trainLoop(): Promise<TrainResult> {
    const data = fingerprintData(parts);
    const params = model.parameters.values;

    // --- state (restored from a checkpoint when resuming) -------------------------------------------------
    let epochsCompleted = 0;
    let best: Checkpoint["best"] = null;
    let epochsWithoutImprovement = 0;
    let divergences = 0;
    let initialValidation: Checkpoint["initialValidation"] = null;
    const history: EpochRecord[] = [];
    let previousSeconds = 0;
    if (resumeFrom) {
      checkResumable(resumeFrom, {
        settings,
        modelConfig: model.toConfig(),
        floatType: model.parameters.floatType,
        parameterCount: model.parameters.count,
        data,
      });
      params.set(resumeFrom.model.parameters);
      optimizer.loadState(resumeFrom.optimizer);
      schedule.loadState(resumeFrom.schedule);
      optimizer.learningRate = schedule.learningRate;
      epochsCompleted = resumeFrom.epochsCompleted;
      best = resumeFrom.best && { ...resumeFrom.best, parameters: resumeFrom.best.parameters.slice() };
      epochsWithoutImprovement = resumeFrom.epochsWithoutImprovement;
      divergences = resumeFrom.divergences;
      initialValidation = resumeFrom.initialValidation;
      history.push(...resumeFrom.history.map((record) => ({ ...record })));
      previousSeconds = resumeFrom.seconds;
    }

    const batchesPerEpoch = Math.ceil(windows.count / settings.batchSize);
    emit({
      type: "start",
      epochs: settings.epochs,
      firstEpoch: epochsCompleted + 1,
      batchesPerEpoch,
      trainWindows: windows.count,
      validationFrames,
      parameters: model.parameters.count,
      resumed: resumeFrom !== undefined,
      batchSize: settings.batchSize,
      windowsPerPass: Math.min(settings.batchSize, microBatch ?? settings.batchSize),
    });

    let lastYield = clock.now();
    const pause = async (): Promise<void> => {
      if (clock.now() - lastYield < YIELD_EVERY_MS) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      lastYield = clock.now();
    };
    const stopped = (): boolean => signal?.aborted === true;

    /** Validation over all held-out regions, yielding between chunks; null when stopped. */
    const validate = async (): Promise<{ esr: number; loss: number } | null> => {
      const evaluation = new Evaluation(model, validationSources, {
        chunkLength: validationChunk,
        burnIn: settings.burnIn,
        loss: validationLossConfig,
      });
      for (;;) {
        let more: boolean;
        try {
          more = evaluation.step();
        } catch (error) {
          // A loss that cannot work on the held-out regions (e.g. one shorter than an FFT): say where.
          if (error instanceof DeepspError && error.code.startsWith("loss/")) {
            throw new OptionError(error.code, `validation loss over the held-out regions: ${error.message}`, {
              cause: error,
            });
          }
          throw error;
        }
        if (!more) break;
        if (stopped()) {
          model.resetState();
          model.setCarryState(false);
          return null;
        }
        await pause();
      }
      const result = evaluation.result();
      return { esr: result.esr, loss: result.loss ?? Number.NaN };
    };

    const finish = (reason: TrainResult["reason"]): TrainResult => {
      if (best) params.set(best.parameters);
      model.resetState();
      model.setCarryState(false);
      const seconds = (clock.now() - started) / 1000;
      emit({
        type: "end",
        reason,
        bestEpoch: best?.epoch ?? null,
        bestEsr: best?.esr ?? null,
        epochsRun: epochsCompleted,
        seconds,
      });
      return {
        bestEsr: best?.esr ?? null,
        bestEpoch: best?.epoch ?? null,
        epochsRun: epochsCompleted,
        history,
        initialValidation,
        reason,
        seconds,
        settings,
      };
    };

    const earlyStopped = (): boolean =>
      settings.patience !== null && best !== null && epochsWithoutImprovement >= settings.patience;
    if (earlyStopped()) return finish("early-stop");

    if (!initialValidation && epochsCompleted === 0) {
      const initial = await validate();
      if (!initial) return finish("stopped");
      initialValidation = initial;
      emit({ type: "validation", epoch: 0, ...initial, best: false, bestEpoch: null, bestEsr: null });
    }

    for (let epoch = epochsCompleted + 1; epoch <= settings.epochs; epoch++) {
      const epochStarted = clock.now();
      const savedParameters = params.slice();
      const savedOptimizer = optimizer.saveState();
      let inEpoch = 0;
      let trainLoss = 0;
      let validation: { esr: number; loss: number } | null = null;
      let learningRate = optimizer.learningRate;
      for (let attempt = 1; ; attempt++) {
        learningRate = optimizer.learningRate;
        emit({ type: "epoch-start", epoch, learningRate, attempt });
        const attemptStarted = clock.now();
        let lossSum = 0;
        let windowsSeen = 0;
        let samples = 0;
        let index = 0;
        let failure: { batch: number; reason: string } | null = null;
        for (const next of windows.batches({
          batchSize: settings.batchSize,
          epoch: epoch - 1,
          seed: settings.seed,
        })) {
          index++;
          const value = computer.compute(next.input, next.target, next.size, windows.channels, rowLength);
          if (!Number.isFinite(value)) {
            failure = { batch: index, reason: `the loss was ${value}` };
            break;
          }
          const norm = gradientNorm(model);
          if (!Number.isFinite(norm)) {
            failure = { batch: index, reason: "the gradient was not finite" };
            break;
          }
          if (settings.clipNorm !== null && norm > settings.clipNorm)
            scaleGradients(model, settings.clipNorm / (norm + 1e-6));
          optimizer.step();
          if (!allFinite(params)) {
            failure = { batch: index, reason: "a parameter became non-finite" };
            break;
          }
          lossSum += value * next.size;
          windowsSeen += next.size;
          samples += next.size * windows.channels * settings.windowLength;
          const seconds = (clock.now() - attemptStarted) / 1000;
          emit({
            type: "batch",
            epoch,
            batch: index,
            batches: batchesPerEpoch,
            loss: value,
            meanLoss: lossSum / windowsSeen,
            samplesPerSecond: seconds > 0 ? samples / seconds : 0,
            seconds,
          });
          if (stopped()) return finish("stopped");
          await pause();
        }
        if (!failure) {
          trainLoss = lossSum / windowsSeen;
          validation = await validate();
          if (!validation) return finish("stopped");
          if (!(Number.isFinite(validation.esr) && Number.isFinite(validation.loss))) {
            failure = {
              batch: 0,
              reason: `the validation ESR was ${validation.esr} and loss ${validation.loss}`,
            };
          }
        }
        if (!failure) break;
        // Divergence: back to the parameters and moments of the epoch's start, at half the learning rate.
        inEpoch++;
        divergences++;
        params.set(savedParameters);
        optimizer.loadState(savedOptimizer);
        model.resetState();
        model.setCarryState(false);
        if (inEpoch >= MAX_DIVERGENCES_PER_EPOCH || divergences >= MAX_DIVERGENCES_PER_RUN) {
          if (best) params.set(best.parameters);
          const where = failure.batch > 0 ? `batch ${failure.batch} of ${batchesPerEpoch}` : "validation";
          throw new DeepspError(
            "train/diverged",
            `training diverged: in epoch ${epoch} (${where}) ${failure.reason}; that is ${inEpoch} divergence(s) in this ` +
              `epoch and ${divergences} in the run, each rolled back with the learning rate halved (down to ` +
              `${formatRate(optimizer.learningRate)}). ` +
              (best
                ? `The model holds the best parameters (epoch ${best.epoch}, validation ESR ${best.esr.toPrecision(4)}). `
                : "") +
              `Start again with a lower learning rate (e.g. ${formatRate(settings.learningRate / 4)} instead of ` +
              `${formatRate(settings.learningRate)})` +
              (settings.clipNorm === null ? " or with gradient clipping (clipNorm 1)" : ""),
          );
        }
        const lowered = schedule.scaleDown(0.5);
        optimizer.learningRate = lowered;
        emit({
          type: "divergence",
          epoch,
          batch: failure.batch,
          reason: failure.reason,
          learningRate: lowered,
          inEpoch,
          total: divergences,
        });
      }
      if (!validation) throw new Error("unreachable: an epoch ended without validation");

      // Best model, early stopping, schedule.
      const improved = best === null || validation.esr < best.esr;
      if (improved) {
        best = { epoch, esr: validation.esr, loss: validation.loss, parameters: params.slice() };
        epochsWithoutImprovement = 0;
      } else {
        epochsWithoutImprovement++;
      }
      emit({
        type: "validation",
        epoch,
        esr: validation.esr,
        loss: validation.loss,
        best: improved,
        bestEpoch: best!.epoch,
        bestEsr: best!.esr,
      });
      const nextLearningRate = schedule.endEpoch(validation.loss);
      optimizer.learningRate = nextLearningRate;
      const seconds = (clock.now() - epochStarted) / 1000;
      history.push({
        epoch,
        trainLoss,
        validationEsr: validation.esr,
        validationLoss: validation.loss,
        learningRate,
        seconds,
        divergences: inEpoch,
      });
      epochsCompleted = epoch;
      emit({
        type: "epoch-end",
        epoch,
        trainLoss,
        learningRate,
        nextLearningRate,
        seconds,
        epochsWithoutImprovement,
      });

      if (saveCheckpoint) {
        const state: Omit<Checkpoint, "kind"> = {
          format: CHECKPOINT_FORMAT,
          version: CHECKPOINT_VERSION,
          savedAt: new Date().toISOString(),
          epochsCompleted,
          settings,
          data,
          model: {
            config: model.toConfig(),
            floatType: model.parameters.floatType,
            parameters: params.slice(),
          },
          optimizer: optimizer.saveState(),
          schedule: schedule.saveState(),
          best: best && { ...best, parameters: best.parameters.slice() },
          epochsWithoutImprovement,
          divergences,
          initialValidation,
          history: history.map((record) => ({ ...record })),
          seconds: previousSeconds + (clock.now() - started) / 1000,
        };
        const kinds: ("best" | "last")[] = improved ? ["best", "last"] : ["last"];
        // Best first: if the process dies between the two writes, "last" still points to the epoch before,
        // and resuming from it redoes this epoch and writes the same "best" again.
        for (const kind of kinds) await saveCheckpoint({ ...state, kind });
        emit({ type: "checkpoint", epoch, kinds });
      }

      if (afterEpoch) await afterEpoch({ epoch, model, validationEsr: validation.esr });

      if (earlyStopped()) {
        emit({
          type: "early-stop",
          epoch,
          bestEpoch: best!.epoch,
          bestEsr: best!.esr,
          patience: settings.patience!,
        });
        return finish("early-stop");
      }
      if (stopped()) return finish("stopped");
    }
    return finish("completed");
  }
}

function formatRate(rate: number): string {
  return Number(rate.toPrecision(3)).toString();
}

function gradientNorm(model: Model): number {
  const { grads } = model.parameters;
  let sum = 0;
  for (const entry of model.parameters.entries) {
    if (entry.frozen) continue;
    for (let i = entry.offset; i < entry.offset + entry.size; i++) sum += grads[i]! * grads[i]!;
  }
  return Math.sqrt(sum);
}

/** The same scaling as clipGradientNorm, given the norm already measured. */
function scaleGradients(model: Model, scale: number): void {
  const { grads } = model.parameters;
  for (const entry of model.parameters.entries) {
    if (entry.frozen) continue;
    for (let i = entry.offset; i < entry.offset + entry.size; i++) grads[i] = grads[i]! * scale;
  }
}

function allFinite(values: Floats): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/** What a training process needs besides activations and audio: the runtime, threads, validation buffers (~290 MiB measured). */
const BASE_BYTES = 320 * 2 ** 20;

/**
 * Activation bytes per thread (for `microBatch: { budgetBytes }`) that keep a training process near
 * `totalBytes` in all: what is left after the audio (input and target, as held) and BASE_BYTES, split over
 * the threads (each holds its own slice's activations). At least one window always runs, so a tight budget
 * gives passes of one window, never a failure.
 */
export function activationBudget(totalBytes: number, parts: readonly SplitPair[], threads: number): number {
  let audioBytes = 0;
  for (const { pair } of parts) {
    for (const channel of [...pair.input.channels, ...pair.target.channels]) audioBytes += channel.byteLength;
  }
  return Math.max(0, totalBytes - BASE_BYTES - audioBytes) / threads;
}

/**
 * The `microBatch` option resolved: a number as given; a budget as the most windows whose activations fit
 * it, measured by counting the floats the layers allocate for one window's forward and backward (they
 * allocate only when a buffer's size changes: see `reuse`); null (one pass per batch) when not asked for, or
 * when nothing was allocated (the model already had buffers of that size).
 */
function passSize(
  model: Model,
  channels: number,
  length: number,
  option: TrainOptions["microBatch"],
): number | null {
  if (option === undefined) return null;
  if (typeof option === "number") {
    if (!(Number.isInteger(option) && option >= 1))
      throw new OptionError("options/invalid", `microBatch must be a whole number >= 1, got ${option}`);
    return option;
  }
  const inLength = model.receptiveField - 1 + length;
  const before = allocatedFloats();
  const output = model.forward({
    data: new Float32Array(channels * inLength),
    batch: 1,
    channels,
    length: inLength,
  });
  model.backward({ ...output, data: new Float32Array(output.data.length) });
  model.parameters.zeroGrads();
  const bytes = (allocatedFloats() - before) * model.parameters.values.BYTES_PER_ELEMENT;
  return bytes > 0 ? Math.max(1, Math.floor(option.budgetBytes / bytes)) : null;
}

/** Computes one batch's loss and leaves d loss / d parameters in the model's gradients (see GradientComputer). */
export interface GradientSource {
  compute(input: Floats, target: Floats, size: number, channels: number, length: number): number;
  /** Frees threads or other resources; the trainer calls it when it returns. */
  close?(): Promise<void>;
}

/** What a gradient source is built for (the trainer fills it in for its run). */
export interface GradientSourceSetup {
  model: Model;
  loss: Loss;
  lossConfig: LossConfig;
  bptt: BpttOptions | null;
  /** Windows per model pass (feed-forward models; null: the whole batch), see ModelPasses. */
  microBatch: number | null;
  /** Largest batch compute will be called with, audio channels, and the input and loss row lengths. */
  maxBatch: number;
  channels: number;
  inLength: number;
  length: number;
}

/** Truncated backpropagation through time for recurrent models. */
export interface BpttOptions {
  /** Frames at the start of each window run without gradient (and masked in the loss). */
  burnIn: number;
  /** Gradient chunk length after the burn-in. */
  truncate: number;
}

/**
 * Computes one batch's loss and leaves d loss / d parameters in model.parameters.grads (zeroed first).
 * Exported for tests; the trainer is the way to train.
 *
 * Recurrent models (`bptt` given): windows [batch, channels, burnIn + windowLength], prefix 0. Pass 1 runs
 * the whole window in chunks with the state carried (the burn-in in chunks of `truncate` too, to bound
 * memory), collecting the output; the loss covers the whole window (its maskFirst hides the burn-in); the
 * last chunk's activations are still live, so its backward runs at once. Pass 2 (only with more than one
 * gradient chunk) starts from zeros again, replays the burn-in and the earlier chunks forward, and runs
 * each chunk's backward right after its forward (a layer keeps the activations of its last call only).
 * The state carries across chunks but no gradient does: the same gradient as PyTorch with `.detach()` at
 * every chunk boundary (NAM's LSTM training).
 */
export class GradientComputer implements GradientSource {
  readonly passes: ModelPasses;
  private readonly batchLoss: BatchLoss;

  constructor(model: Model, loss: Loss, bptt: BpttOptions | null, microBatch: number | null = null) {
    this.passes = new ModelPasses(model, bptt, microBatch);
    this.batchLoss = new BatchLoss(loss, model);
  }

  /**
   * input [size, channels, prefix + length], target [size, channels, length] (length: the row the loss
   * sees; burnIn + windowLength for recurrent models). Returns the loss; gradients are left only when it
   * is finite.
   */
  compute(input: Floats, target: Floats, size: number, channels: number, length: number): number {
    const output = this.passes.forward(input, size, channels, length);
    const value = this.batchLoss.compute(output, target, { batch: size, channels, length });
    if (Number.isFinite(value)) this.passes.backward(this.batchLoss.gradient, size, channels, length);
    return value;
  }
}

/**
 * The loss over a whole batch's output and, when it is finite, d loss / d output (`gradient`, a buffer kept
 * across calls). Shared by GradientComputer and the data-parallel gradients, which gather the output first.
 */
export class BatchLoss {
  private buffer: Floats | undefined;

  constructor(
    private readonly loss: Loss,
    private readonly model: Model,
  ) {}

  /** The last finite compute's d loss / d output. */
  get gradient(): Floats {
    return this.buffer!;
  }

  compute(
    output: Floats,
    target: Floats,
    shape: { batch: number; channels: number; length: number },
  ): number {
    if (output.length !== target.length) {
      throw new DeepspError(
        "train/shape",
        `${this.model.architecture} outputs ${output.length} samples per batch but the target has ${target.length}`,
      );
    }
    const value = this.loss.forward(output, target, shape);
    if (!Number.isFinite(value)) return value;
    this.buffer = reuse(this.buffer, output.length, output);
    this.buffer.fill(0);
    this.loss.backward(this.buffer);
    return value;
  }
}

/**
 * The model's two passes over one batch, split so that data-parallel training (src/node/parallel) can run
 * them on a slice of the batch per thread, with the loss taken over the whole batch in between.
 *
 * Feed-forward models with `microBatch` < the batch run in passes of that many windows, so only one pass's
 * activations are held (a layer keeps those of its last call): forward runs every pass and keeps only the
 * outputs; backward runs the last pass's backward at once (its activations are live) and, for each earlier
 * pass, its forward again and then its backward. The gradient is the same; the cost is one more forward of
 * all but the last pass. (Recurrent models bound memory with `truncate` instead.)
 */
export class ModelPasses {
  readonly model: Model;
  private readonly bptt: BpttOptions | null;
  private readonly microBatch: number | null;
  private readonly chunks = new Map<number, { input: Floats; grad: Floats }>();
  private output: Floats | undefined;
  private converted: Floats | undefined;
  /** Between forward and backward: the feed-forward input and pass size, or the recurrent chunk plan. */
  private feedForward: { data: Floats; size: number; per: number; inLength: number } | undefined;
  private pending: { data: Floats; bounds: [number, number][]; firstGradientChunk: number } | undefined;

  constructor(model: Model, bptt: BpttOptions | null, microBatch: number | null = null) {
    this.model = model;
    this.bptt = bptt;
    this.microBatch = bptt ? null : microBatch;
  }

  /**
   * Zeroes the gradients and runs the model over input [size, channels, prefix + length]; returns its output
   * [size, channels, length] (a buffer reused by the next call).
   */
  forward(input: Floats, size: number, channels: number, length: number): Floats {
    const model = this.model;
    model.parameters.zeroGrads();
    const data = this.asModelType(input);
    if (!this.bptt) {
      const inLength = data.length / (size * channels);
      const per = Math.min(size, this.microBatch ?? size);
      this.feedForward = { data, size, per, inLength };
      if (per === size) return model.forward({ data, batch: size, channels, length: inLength }).data;
      this.output = reuse(this.output, size * channels * length, data);
      for (let from = 0; from < size; from += per) {
        const out = this.passForward(from, Math.min(size, from + per), channels);
        this.output.set(out, from * channels * length);
      }
      return this.output;
    }
    const { burnIn, truncate } = this.bptt;
    const rows = size * channels;
    const bounds = this.chunkBounds(length);
    const like = model.parameters.values;
    if (this.output?.length !== rows * length || this.output.constructor !== like.constructor) {
      this.output =
        like instanceof Float64Array ? new Float64Array(rows * length) : new Float32Array(rows * length);
    }
    const full = this.output;
    this.pending = { data, bounds, firstGradientChunk: Math.ceil(burnIn / truncate) };

    // Pass 1: forward over the whole window, the state carried from chunk to chunk.
    model.resetState();
    model.setCarryState(true);
    for (const [from, to] of bounds) {
      const out = this.forwardChunk(data, from, to, size, channels, length);
      const n = to - from;
      for (let r = 0; r < rows; r++) {
        const row = r * length + from;
        for (let i = 0; i < n; i++) full[row + i] = out[r * n + i]!;
      }
    }
    return full;
  }

  /** d loss / d output [size, channels, length] of the last forward -> model.parameters.grads. */
  backward(gradient: Floats, size: number, channels: number, length: number): void {
    const model = this.model;
    if (!this.bptt) {
      const { size, per } = this.feedForward!;
      const rowFloats = channels * length;
      const passes = Math.ceil(size / per);
      for (let p = passes - 1; p >= 0; p--) {
        const from = p * per;
        const to = Math.min(size, from + per);
        // The last pass's activations are live; an earlier pass runs its forward again first.
        if (p < passes - 1) this.passForward(from, to, channels);
        const data = gradient.subarray(from * rowFloats, to * rowFloats);
        model.backward({ data, batch: to - from, channels, length });
      }
      return;
    }
    const { data, bounds, firstGradientChunk } = this.pending!;
    // The last chunk's activations are live: its backward first.
    const last = bounds[bounds.length - 1]!;
    this.backwardChunk(gradient, last[0], last[1], size, channels, length);
    if (bounds.length - firstGradientChunk > 1) {
      // Pass 2: replay from zeros, each earlier gradient chunk's backward right after its forward.
      model.resetState();
      for (let c = 0; c < bounds.length - 1; c++) {
        const [from, to] = bounds[c]!;
        this.forwardChunk(data, from, to, size, channels, length);
        if (c >= firstGradientChunk) this.backwardChunk(gradient, from, to, size, channels, length);
      }
    }
  }

  /** The model's forward over windows [from, to) of the feed-forward input. */
  private passForward(from: number, to: number, channels: number): Floats {
    const { data, inLength } = this.feedForward!;
    const rowFloats = channels * inLength;
    const input = data.subarray(from * rowFloats, to * rowFloats);
    return this.model.forward({ data: input, batch: to - from, channels, length: inLength }).data;
  }

  /** [from, to) frames of each chunk: the burn-in in chunks of `truncate`, then the gradient chunks. */
  private chunkBounds(length: number): [number, number][] {
    const { burnIn, truncate } = this.bptt!;
    const bounds: [number, number][] = [];
    for (let start = 0; start < burnIn; start += truncate)
      bounds.push([start, Math.min(burnIn, start + truncate)]);
    for (let start = burnIn; start < length; start += truncate)
      bounds.push([start, Math.min(length, start + truncate)]);
    return bounds;
  }

  private asModelType(input: Floats): Floats {
    const like = this.model.parameters.values;
    if (input.constructor === like.constructor) return input;
    if (this.converted?.length !== input.length) {
      this.converted =
        like instanceof Float64Array ? new Float64Array(input.length) : new Float32Array(input.length);
    }
    this.converted.set(input);
    return this.converted;
  }

  /** Flat buffers of rows x n values, kept per size (a window has at most three chunk lengths). */
  private chunk(n: number, rows: number): { input: Floats; grad: Floats } {
    let buffers = this.chunks.get(rows * n);
    const like = this.model.parameters.values;
    if (!buffers) {
      const make = (): Floats =>
        like instanceof Float64Array ? new Float64Array(rows * n) : new Float32Array(rows * n);
      buffers = { input: make(), grad: make() };
      this.chunks.set(rows * n, buffers);
    }
    return buffers;
  }

  private forwardChunk(
    data: Floats,
    from: number,
    to: number,
    size: number,
    channels: number,
    length: number,
  ): Floats {
    const rows = size * channels;
    const n = to - from;
    const { input } = this.chunk(n, rows);
    for (let r = 0; r < rows; r++) input.set(data.subarray(r * length + from, r * length + to), r * n);
    const output = this.model.forward({ data: input, batch: size, channels, length: n });
    if (output.data.length !== rows * n) {
      throw new DeepspError(
        "train/shape",
        `${this.model.architecture} is recurrent but returned ${output.data.length} values for ${rows} x ${n} input frames`,
      );
    }
    return output.data;
  }

  private backwardChunk(
    gradient: Floats,
    from: number,
    to: number,
    size: number,
    channels: number,
    length: number,
  ): void {
    const rows = size * channels;
    const n = to - from;
    const { grad } = this.chunk(n, rows);
    for (let r = 0; r < rows; r++) grad.set(gradient.subarray(r * length + from, r * length + to), r * n);
    this.model.backward({ data: grad, batch: size, channels, length: n });
  }
}

export type { Checkpoint, DataFingerprint, EpochRecord, TrainSettings };
