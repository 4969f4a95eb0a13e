import type { RunLimits } from "../../experiment/grid.ts";
import { runJob } from "./job.ts";
import { ExperimentData } from "./load.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

/**
 * A study runner worker: a child process (`node --import tsx worker.ts`, with an IPC channel) that runs one
 * job (a training and its test cells) at a time and streams the cell records back. It ignores Ctrl-C (the
 * runner decides when to stop and tells it) and exits when the runner goes away, stopping its training at
 * the next batch.
 */
if (!process.send) {
  console.error("deepsp experiment worker: start me with an IPC channel (child_process.fork)");
  process.exit(2);
}

const send = (message: FromWorker): void => {
  if (process.connected) process.send!(message);
};
const stop = new AbortController();
let data: ExperimentData | null = null;
let limits: RunLimits | null = null;
let busy: Promise<void> = Promise.resolve();

process.on("SIGINT", () => {
  // The runner handles Ctrl-C for the whole run.
});
process.on("disconnect", () => {
  stop.abort();
  process.exit(0);
});
process.on("message", (message: ToWorker) => {
  if (message.type === "init") {
    limits = message.limits;
    data = new ExperimentData(message.loaded, message.limits);
    send({ type: "ready" });
  } else if (message.type === "job") {
    busy = busy.then(async () => {
      await runJob(message.request, data!, limits!, (record) => send({ type: "cell", record }), {
        signal: stop.signal,
        onProgress: (progress) => send({ type: "progress", progress }),
      });
      send({ type: "job-done", trainingId: message.request.training.id });
    });
  } else if (message.type === "exit") {
    stop.abort();
    void busy.finally(() => process.exit(0));
  }
});
