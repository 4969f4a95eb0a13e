/**
 * An ESR in words, in the bands NAM's trainer prints after training (neural-amp-modeler nam/train/core.py:
 * < 0.01 "Great!", < 0.035 "Not bad!", < 0.1 "might sound ok", < 0.3 "probably won't sound great", else
 * "something went wrong"), so a guitarist reads deepsp's numbers on the scale they know.
 */
export type EsrBand = "great" | "good" | "fair" | "poor" | "failed";

export interface EsrVerdict {
  band: EsrBand;
  /** One short sentence. */
  words: string;
}

const BANDS: readonly { below: number; band: EsrBand; words: string }[] = [
  { below: 0.01, band: "great", words: "Great: hard to tell apart from the target." },
  { below: 0.035, band: "good", words: "Good: close; differences show on careful listening." },
  { below: 0.1, band: "fair", words: "Fair: it might sound all right; train longer or pick a larger model." },
  { below: 0.3, band: "poor", words: "Poor: it probably won't sound like the target yet." },
];

export function esrVerdict(esr: number): EsrVerdict {
  for (const { below, band, words } of BANDS) if (esr < below) return { band, words };
  return { band: "failed", words: "Something went wrong: check the pair (alignment, levels) and the model." };
}
