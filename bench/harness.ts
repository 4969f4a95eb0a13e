/** One measured number. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  /** Minutes long: runs only when named (`npm run bench -- <name>`), not in the default set. */
  slow?: boolean;
  /**
   * `only`: the `--only a,b` list of `npm run bench`, for the benchmarks that measure named cases (a case
   * runs when its name contains one of them); empty: every case.
   */
  run(options: { only: string[] }): Promise<Figure[]>;
}

/** Median wall time of `runs` calls of `work`, in milliseconds, after one warm-up call. */
export function medianMs(runs: number, work: () => void): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
