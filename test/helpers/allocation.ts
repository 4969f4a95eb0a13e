import { PerformanceObserver, performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

/*
 * Does a piece of real-time code allocate? V8 counts every JavaScript allocation in its new space (young
 * generation) until a scavenge empties it, so: collect garbage, read the new space's used bytes, run the work,
 * read again, and check that no GC ran in between (a GC would hide allocations). heapUsed is measured too but
 * is only for reports: it also counts code the JIT compiles, which is not garbage and varies from run to run.
 */
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Growth allowed for work that does not allocate (JIT bookkeeping); one boxed number per call is 16 bytes. */
export const ALLOCATION_BOUND = 64 * 1024;

export interface AllocationMeasurement {
  newSpaceGrowth: number;
  /** process.memoryUsage().heapUsed growth (for reports, not for checks). */
  heapGrowth: number;
  gcs: number;
}

function newSpaceUsed(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return space ? space.space_used_size : Number.NaN;
}

/** Runs `work` once to warm it up, then once measured. */
export async function measureAllocation(work: () => void): Promise<AllocationMeasurement> {
  work();
  const gcTimes: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcTimes.push(entry.startTime);
  });
  observer.observe({ entryTypes: ["gc"] });
  gc();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  const heapBefore = process.memoryUsage().heapUsed;
  const before = newSpaceUsed();
  work();
  const after = newSpaceUsed();
  const heapAfter = process.memoryUsage().heapUsed;
  const end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5)); // let the observer deliver its entries
  observer.disconnect();
  return {
    newSpaceGrowth: after - before,
    heapGrowth: heapAfter - heapBefore,
    gcs: gcTimes.filter((time) => time >= start && time <= end).length,
  };
}

export function allocationFree(m: AllocationMeasurement): boolean {
  return m.gcs === 0 && m.newSpaceGrowth < ALLOCATION_BOUND;
}
