import { OptionError } from "../core/errors.ts";

/**
 * Learning-rate schedules, stepped once per epoch with that epoch's validation loss:
 * - constant;
 * - exponential: lr = initial * gamma^epoch (NAM's trainer uses gamma 0.995 per epoch);
 * - plateau: multiply by `factor` when the validation loss has not improved by a relative `threshold`
 *   for `patience` epochs, not below `minLearningRate` (PyTorch ReduceLROnPlateau, mode "min", "rel").
 */
export type ScheduleConfig =
  | { type: "constant" }
  | { type: "exponential"; gamma: number }
  | { type: "plateau"; factor?: number; patience?: number; threshold?: number; minLearningRate?: number };

/** A schedule's mutable state, for checkpoints. */
export interface ScheduleState {
  learningRate: number;
  epoch: number;
  best: number;
  badEpochs: number;
  /** Product of scaleDown factors so far (divergence recoveries). */
  scale: number;
}

export class Schedule {
  readonly config: ScheduleConfig;
  readonly initialLearningRate: number;
  private state: ScheduleState;

  constructor(config: ScheduleConfig, initialLearningRate: number) {
    if (config.type === "exponential" && !(config.gamma > 0 && config.gamma <= 1)) {
      throw new OptionError("options/invalid", `schedule: gamma must be in (0, 1], got ${config.gamma}`);
    }
    if (
      config.type === "plateau" &&
      config.factor !== undefined &&
      !(config.factor > 0 && config.factor < 1)
    ) {
      throw new OptionError("options/invalid", `schedule: factor must be in (0, 1), got ${config.factor}`);
    }
    this.config = config;
    this.initialLearningRate = initialLearningRate;
    this.state = {
      learningRate: initialLearningRate,
      epoch: 0,
      best: Number.POSITIVE_INFINITY,
      badEpochs: 0,
      scale: 1,
    };
  }

  get learningRate(): number {
    return this.state.learningRate;
  }

  /** Call after each epoch; returns the learning rate for the next one. */
  endEpoch(validationLoss: number): number {
    const state = this.state;
    state.epoch++;
    const config = this.config;
    if (config.type === "exponential") {
      state.learningRate = this.initialLearningRate * state.scale * config.gamma ** state.epoch;
    } else if (config.type === "plateau") {
      const threshold = config.threshold ?? 1e-4;
      if (validationLoss < state.best * (1 - threshold)) {
        state.best = validationLoss;
        state.badEpochs = 0;
      } else if (++state.badEpochs > (config.patience ?? 10)) {
        state.learningRate = Math.max(
          config.minLearningRate ?? 0,
          state.learningRate * (config.factor ?? 0.1),
        );
        state.badEpochs = 0;
      }
    }
    return state.learningRate;
  }

  /** Lowers the rate by `factor` now (after a diverged step), keeping the schedule's shape from here. */
  scaleDown(factor: number): number {
    this.state.scale *= factor;
    this.state.learningRate *= factor;
    return this.state.learningRate;
  }

  saveState(): ScheduleState {
    return { ...this.state };
  }

  loadState(state: ScheduleState): void {
    this.state = { ...state };
  }
}
