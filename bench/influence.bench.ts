/**
 * Influence-pattern search speed (Lu et al. 2021, guided pattern refinement) on the embedded agreement
 * model: seconds per example and examples per minute, at the default res 50 and a coarse res 10, on
 * Marvin & Linzen SVA sentences across an object relative clause (the paper's showcase).
 *
 * Run alone: `npx tsx bench/influence.bench.ts [n]`.
 */
import { loadMarvinLinzen } from '../src/data/marvinLinzen.js';
import { agreementExample, LU2021_TASKS } from '../src/eval/lu2021.js';
import type { Tokenizer } from '../src/io/tokenizer.js';
import { loadModel } from '../src/model/load.js';
import { influencePattern } from '../src/methods/influencePatterns.js';

/** One row per res: n examples, mean/median/max seconds per example, examples per minute, mean tokens. */
export interface InfluenceBenchRow {
  res: number;
  n: number;
  meanS: number;
  medianS: number;
  maxS: number;
  perMinute: number;
  meanTokens: number;
}

/** Runs the benchmark on `n` examples (after one warm-up example). */
export async function benchInfluence(n = 10): Promise<InfluenceBenchRow[]> {
  const { model, tokenizer } = await loadModel('embedded:agreement');
  try {
    const tok = tokenizer as unknown as Tokenizer;
    const task = LU2021_TASKS.find((t) => t.name === 'sva-obj-rel')!;
    const set = await loadMarvinLinzen(undefined, { constructions: [task.construction as string], maxPerConstruction: 4 * n + 4, seed: 0 });
    const examples = set.items
      .map((it) => agreementExample(tok, task, it))
      .filter((e): e is Exclude<typeof e, { skip: string }> => !('skip' in e))
      .slice(0, n + 1);
    const special = { clsId: tokenizer.clsId, sepId: tokenizer.sepId, maskId: tokenizer.maskId, padId: tokenizer.padId };
    const rows: InfluenceBenchRow[] = [];
    for (const res of [50, 10]) {
      const times: number[] = [];
      examples.forEach((e, i) => {
        const t0 = performance.now();
        influencePattern(model, { ids: e.ids, tokens: e.tokens }, e.qoi, { res, special, source: e.source, output: e.output });
        if (i > 0) times.push((performance.now() - t0) / 1000);
      });
      const s = [...times].sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      rows.push({
        res,
        n: times.length,
        meanS: mean,
        medianS: s[Math.floor(s.length / 2)] as number,
        maxS: s[s.length - 1] as number,
        perMinute: 60 / mean,
        meanTokens: examples.slice(1).reduce((a, e) => a + e.ids.length, 0) / times.length,
      });
    }
    return rows;
  } finally {
    model.dispose();
  }
}

const direct = process.argv[1]?.endsWith('influence.bench.ts');
if (direct) {
  const rows = await benchInfluence(Number(process.argv[2] ?? 10));
  console.table(
    rows.map((r) => ({
      res: r.res,
      n: r.n,
      'mean s': r.meanS.toFixed(2),
      'median s': r.medianS.toFixed(2),
      'max s': r.maxS.toFixed(2),
      'examples/min': r.perMinute.toFixed(1),
      tokens: r.meanTokens.toFixed(1),
    })),
  );
}
