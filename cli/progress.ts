import { SingleBar } from "cli-progress";
import type { TrainEvent } from "../src/train/trainer.ts";

/**
 * Training progress for the terminal: on a TTY a live bar per epoch (batches, ETA, loss, real-time factor)
 * and one summary line per epoch; elsewhere (logs, CI) only the summary lines.
 */
export class TrainingProgress {
  private readonly bar: SingleBar | null;
  private readonly sampleRate: number;
  private epochs = 0;
  private barActive = false;
  /** The validation part of the next epoch summary line (validation comes before epoch-end). */
  private validation = "";

  constructor(options: { sampleRate: number; quiet: boolean }) {
    this.sampleRate = options.sampleRate;
    this.bar =
      process.stderr.isTTY && !options.quiet
        ? new SingleBar(
            {
              format:
                "epoch {epoch}/{epochs} [{bar}] {percentage}% | ETA {eta_formatted} | loss {loss} | {realtime}x real time",
              barsize: 24,
              hideCursor: true,
              clearOnComplete: true,
              stream: process.stderr,
            },
            undefined,
          )
        : null;
  }

  handle(event: TrainEvent): void {
    switch (event.type) {
      case "start":
        this.epochs = event.epochs;
        console.log(
          `training ${event.parameters} parameters on ${event.trainWindows} windows (${event.batchesPerEpoch} batches per epoch), ` +
            `validating on ${(event.validationFrames / this.sampleRate).toFixed(1)} s` +
            (event.resumed ? `; resuming at epoch ${event.firstEpoch}` : ""),
        );
        if (event.windowsPerPass < event.batchSize) {
          console.log(
            `  ${event.windowsPerPass} window(s) per model pass, to stay within --memory (more compute; --micro-batch sets it)`,
          );
        }
        break;
      case "epoch-start":
        if (this.bar) {
          this.bar.start(1, 0, { epoch: event.epoch, epochs: this.epochs, loss: "-", realtime: "-" });
          this.barActive = true;
        }
        break;
      case "batch":
        if (this.bar) {
          this.bar.setTotal(event.batches);
          this.bar.update(event.batch, {
            loss: event.meanLoss.toExponential(3),
            realtime: (event.samplesPerSecond / this.sampleRate).toFixed(1),
          });
        }
        break;
      case "validation": {
        this.stopBar();
        if (event.epoch === 0) {
          console.log(`untrained: validation ESR ${event.esr.toExponential(3)}`);
          break;
        }
        const best = event.best
          ? " (best)"
          : event.bestEsr === null
            ? ""
            : ` (best ${event.bestEsr.toExponential(3)} at epoch ${event.bestEpoch})`;
        this.validation = `validation ESR ${event.esr.toExponential(3)}${best}, `;
        break;
      }
      case "epoch-end":
        this.stopBar();
        console.log(
          `epoch ${event.epoch}/${this.epochs}: train loss ${event.trainLoss.toExponential(3)}, ${this.validation}` +
            `lr ${event.learningRate.toExponential(2)}, ${event.seconds.toFixed(1)} s`,
        );
        this.validation = "";
        break;
      case "divergence":
        this.stopBar();
        console.log(
          `epoch ${event.epoch}: ${event.reason}; rolled back, redoing the epoch at lr ${event.learningRate.toExponential(2)}`,
        );
        break;
      case "early-stop":
        console.log(
          `no improvement for ${event.patience} epochs: stopping (best ESR ${event.bestEsr.toExponential(3)} at epoch ${event.bestEpoch})`,
        );
        break;
      case "checkpoint":
      case "end":
        break;
    }
  }

  private stopBar(): void {
    if (this.bar && this.barActive) {
      this.bar.stop();
      this.barActive = false;
    }
  }
}
