/**
 * Reproduction of Lu, Wang, Mardziel & Datta 2021, "Influence Patterns for Explaining Information Flow
 * in BERT" (NeurIPS 2021, arXiv 2011.00740; reference code caleblu/influence-patterns), on the embedded
 * models.
 *
 * Protocol (paper §4–5):
 * - Tasks. Subject–verb agreement (SVA) and reflexive anaphora (RA) from the Marvin & Linzen (2018)
 *   pairs: the differing word is masked, QoI = logit(correct) − logit(wrong) at the `[MASK]`, the
 *   pattern's source is the main subject (the noun whose number decides), conditions SS/SP/PS/PP by the
 *   number of each noun (S/P for one noun). Sentiment analysis (SA): short SST-2 sentences, the
 *   classifier's QoI = the true class's logit, output = `[CLS]`, source = the token with the largest
 *   |influence| (the paper explains sentiment words; we take the most influential one).
 * - Patterns by guided pattern refinement ({@link influencePattern}), baseline `[MASK]`, res 50.
 * - Findings: share of pattern steps through skip connections vs heads, per layer and task (paper:
 *   about 3× more through skips); consistency of patterns within a task (share of the most common
 *   head-level pattern, entropy) against the model's accuracy on it; pattern ablation against
 *   attention-based (highest attention / rollout) and layer-based (highest-attribution node a layer)
 *   patterns (paper: influence patterns account for 74 % and 25 % more than those).
 *
 * @module
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { sampleCorrelation } from 'simple-statistics';
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import { argmax } from '../model/classify.js';
import { classLogit, tokenLogitDiff, type QoI } from '../model/qoi.js';
import { attentionStack } from '../methods/attentionTypes.js';
import { allLayerInfluences, pathInfluence, type InfluenceBaseline } from '../methods/influencePath.js';
import { influencePattern, patternKey, type InfluencePattern } from '../methods/influencePatterns.js';
import { attentionPattern, layerPattern, patternAblation, rolloutPattern, type PositionPattern } from '../methods/influenceBaselines.js';
import type { SpecialIds, Tokenizer } from '../io/tokenizer.js';
import { loadSst2 } from '../data/corpora.js';
import { defaultMarvinLinzenDir, loadMarvinLinzen } from '../data/marvinLinzen.js';

/** One task of the reproduction. */
export interface Lu2021Task {
  name: string;
  kind: 'sva' | 'ra' | 'sa';
  /** Marvin & Linzen construction (SVA/RA). */
  construction?: string;
  description: string;
}

/** The tasks: SVA and RA subtasks of the paper that Marvin & Linzen covers, and SA on SST-2. */
export const LU2021_TASKS: Lu2021Task[] = [
  { name: 'sva-simple', kind: 'sva', construction: 'simple_agrmt', description: 'SVA, simple (the author [laughs])' },
  { name: 'sva-pp', kind: 'sva', construction: 'prep_anim', description: 'SVA across a prepositional phrase' },
  { name: 'sva-subj-rel', kind: 'sva', construction: 'subj_rel', description: 'SVA across a subject relative clause' },
  { name: 'sva-obj-rel', kind: 'sva', construction: 'obj_rel_across_anim', description: 'SVA across an object relative clause' },
  { name: 'ra-simple', kind: 'ra', construction: 'simple_reflexives', description: 'RA, simple (the author hurt [himself])' },
  { name: 'ra-obj-rel', kind: 'ra', construction: 'reflexives_across', description: 'RA across an object relative clause' },
  { name: 'sa', kind: 'sa', description: 'sentiment, SST-2 test sentences (≤ 17 wordpieces with [CLS]/[SEP])' },
];

/**
 * What the paper reports, as quoted in the issue and the abstract: flow goes about 3× more often
 * through skip connections than through heads; patterns account for 74 % more than attention-based
 * patterns and 25 % more than layer-based ones.
 */
export const PAPER_FINDINGS = { skipToHeadRatio: 3, moreThanAttention: 0.74, moreThanLayer: 0.25 } as const;

/**
 * Condition label from a Marvin & Linzen condition string: `S`/`P` for the main subject, then `S`/`P`
 * for the second noun when there is one (`plur_MS_MV_sing_ES_EV` → `PS`, `sing_MS_MV` → `S`).
 */
export function conditionLabel(condition: string): string {
  const main = /(sing|plur)_MS/.exec(condition);
  const other = /_(sing|plur)_E[SO]/.exec(condition);
  const l = (m: RegExpExecArray | null) => (m ? (m[1] === 'sing' ? 'S' : 'P') : '');
  return l(main) + l(other) || condition;
}

/** One example of the reproduction. */
export interface Lu2021Example {
  task: string;
  /** SS/SP/PS/PP (SVA/RA), `pos`/`neg` (SA). */
  condition: string;
  text: string;
  ids: number[];
  tokens: string[];
  /** Source position, or `'auto'`. */
  source: number | 'auto';
  /** QoI position ([MASK], or 0 = [CLS] for SA). */
  output: number;
  qoi: QoI;
  /** SA: the true class. */
  label?: number;
  /** SVA/RA: correct and wrong words. */
  good?: string;
  bad?: string;
}

/** Baseline and ablation figures of one pattern of one example. */
export interface PatternComparison {
  positions: number[];
  heads?: number[];
  /** Exact influence of the pattern's paths (stop-gradient), QoI units. */
  influence: number;
  /** influence / influence of all paths from the source. */
  share: number;
  /** Ablation: QoI share kept by the pattern alone, and lost when it is removed. */
  keepShare: number;
  removeShare: number;
}

/** One line of `patterns.jsonl`. */
export interface Lu2021Record {
  index: number;
  task: string;
  condition: string;
  text: string;
  tokens: string[];
  source: number;
  output: number;
  /** QoI at the input. */
  qoi: number;
  correct: boolean;
  sign: 1 | -1;
  key: string;
  pattern: Omit<InfluencePattern, 'steps'> & { steps: Omit<InfluencePattern['steps'][number], 'candidates'>[] };
  comparison: Record<PositionPattern['method'], PatternComparison>;
  seconds: number;
}

/** Options of {@link runLu2021}. */
export interface Lu2021Options {
  res?: number;
  baseline?: InfluenceBaseline;
  /** Compare with attention/rollout/layer-based patterns (default true). */
  compare?: boolean;
  onProgress?: (p: { done: number; total: number; task: string }) => void;
}

function strip(tok: Tokenizer, e: { ids: number[]; tokens: string[] }): { ids: number[]; tokens: string[] } {
  let { ids, tokens } = e;
  if (ids[0] === tok.clsId) [ids, tokens] = [ids.slice(1), tokens.slice(1)];
  if (ids[ids.length - 1] === tok.sepId) [ids, tokens] = [ids.slice(0, -1), tokens.slice(0, -1)];
  return { ids, tokens };
}

/**
 * An SVA/RA example from a masked item: `[CLS] prefix [MASK] suffix [SEP]`, source = the first wordpiece
 * of the main subject (the word after the leading determiner), QoI logit(good) − logit(bad) at the mask.
 *
 * @returns the example, or a reason why the item cannot be used.
 */
export function agreementExample(
  tok: Tokenizer,
  task: Lu2021Task,
  item: { condition: string; prefixWords: string[]; suffixWords: string[]; good: string; bad: string },
): Lu2021Example | { skip: string } {
  const one = (w: string) => {
    const e = strip(tok, tok.encode(w));
    return e.ids.length === 1 && e.ids[0] !== tok.unkId ? (e.ids[0] as number) : null;
  };
  const good = one(item.good);
  const bad = one(item.bad);
  if (good === null || bad === null) return { skip: `"${good === null ? item.good : item.bad}" is not one wordpiece` };
  if (item.prefixWords.length < 2 || item.prefixWords[0] !== 'the') return { skip: 'no "the <subject>" at the start' };
  const pieces = item.prefixWords.map((w) => strip(tok, tok.encode(w)));
  const suf = item.suffixWords.length ? strip(tok, tok.encode(item.suffixWords.join(' '))) : { ids: [], tokens: [] };
  if (tok.clsId === undefined || tok.sepId === undefined || tok.maskId === undefined) throw new Error('lu2021: the tokenizer needs clsId, sepId and maskId');
  const ids = [tok.clsId, ...pieces.flatMap((p) => p.ids), tok.maskId, ...suf.ids, tok.sepId];
  const tokens = ['[CLS]', ...pieces.flatMap((p) => p.tokens), '[MASK]', ...suf.tokens, '[SEP]'];
  const maskPos = 1 + pieces.reduce((a, p) => a + p.ids.length, 0);
  const source = 1 + (pieces[0] as { ids: number[] }).ids.length;
  return {
    task: task.name,
    condition: conditionLabel(item.condition),
    text: [...item.prefixWords, `[${item.good}]`, ...item.suffixWords].join(' '),
    ids,
    tokens,
    source,
    output: maskPos,
    qoi: tokenLogitDiff(maskPos, good, bad, { good: item.good, bad: item.bad }),
    good: item.good,
    bad: item.bad,
  };
}

/** An SA example: the sentence with `[CLS]`/`[SEP]`, QoI = true-class logit at `[CLS]`, source `'auto'`. */
export function sentimentExample(tok: Tokenizer, text: string, label: number): Lu2021Example {
  const e = tok.encode(text);
  return { task: 'sa', condition: label === 1 ? 'pos' : 'neg', text, ids: e.ids, tokens: e.tokens, source: 'auto', output: 0, qoi: classLogit(label), label };
}

function predictedClass(model: Bert, ids: number[]): number {
  const tr = model.forward({ ids: [ids] }, { record: 'none' });
  const v = Array.from(tr.logits.dataSync());
  tr.dispose();
  return argmax(v);
}

function attentionOf(model: Bert, ids: number[]) {
  const tr = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_pattern'] });
  try {
    return attentionStack(tr.attentionArray(0), tr.layers, tr.heads, tr.seq);
  } finally {
    tr.dispose();
  }
}

/**
 * Runs the reproduction on a set of examples (each with its own model: the agreement MLM for SVA/RA,
 * the classifier for SA).
 *
 * Per example: the influence pattern; unless `compare` is false, the attention, rollout and
 * layer-based patterns from the same source, each pattern's exact path influence and its ablation.
 *
 * @throws Error as {@link influencePattern} (bad positions, baseline lacking its id, …).
 */
export function runLu2021(
  jobs: { model: Bert; special: SpecialIds; examples: Lu2021Example[] }[],
  opts: Lu2021Options = {},
): { records: Lu2021Record[]; seconds: number } {
  const t0 = Date.now();
  const res = opts.res ?? 50;
  const baseline = opts.baseline ?? 'mask';
  const total = jobs.reduce((a, j) => a + j.examples.length, 0);
  const records: Lu2021Record[] = [];
  for (const { model, special, examples } of jobs) {
    for (const ex of examples) {
      const t1 = Date.now();
      const po = { res, baseline, special };
      const pat = influencePattern(model, { ids: ex.ids, tokens: ex.tokens }, ex.qoi, { ...po, source: ex.source, output: ex.output });
      const correct = ex.label !== undefined ? predictedClass(model, ex.ids) === ex.label : pat.totals.qoiInput > 0;
      const comparison = {} as Record<PositionPattern['method'], PatternComparison>;
      const patterns: PositionPattern[] = [{ method: 'influence', source: pat.source, positions: pat.positions }];
      if (opts.compare !== false) {
        const stack = attentionOf(model, ex.ids);
        patterns.push(attentionPattern(stack, pat.source, pat.output), rolloutPattern(stack, pat.source, pat.output));
        patterns.push(layerPattern(allLayerInfluences(model, { ids: ex.ids }, ex.qoi, po), pat.source, pat.output, pat.sign));
      }
      const src = pat.totals.sourceInfluence;
      for (const p of patterns) {
        const influence =
          p.method === 'influence'
            ? pat.totals.embeddingPatternInfluence
            : pathInfluence(model, { ids: ex.ids }, ex.qoi, { source: [p.source], positions: p.positions.map((q) => [q]) }, po).influence;
        const ab = patternAblation(model, { ids: ex.ids }, ex.qoi, p, po);
        comparison[p.method] = {
          positions: p.positions,
          ...(p.heads ? { heads: p.heads } : {}),
          influence,
          share: src !== 0 ? influence / src : 0,
          keepShare: ab.keepShare,
          removeShare: ab.removeShare,
        };
      }
      const { steps, ...rest } = pat;
      records.push({
        index: records.length,
        task: ex.task,
        condition: ex.condition,
        text: ex.text,
        tokens: ex.tokens,
        source: pat.source,
        output: pat.output,
        qoi: pat.totals.qoiInput,
        correct,
        sign: pat.sign,
        key: patternKey(pat),
        pattern: { ...rest, steps: steps.map(({ candidates: _c, ...s }) => s) },
        comparison,
        seconds: (Date.now() - t1) / 1000,
      });
      opts.onProgress?.({ done: records.length, total, task: ex.task });
    }
  }
  void tf;
  return { records, seconds: (Date.now() - t0) / 1000 };
}

/** Shannon entropy (bits) of a distribution given by counts. */
export function entropyBits(counts: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log2(c / n);
  return h;
}

/** Pattern-consistency figures of a group of records (same task/condition). */
export function consistency(keys: readonly string[]): { top: string; topShare: number; distinct: number; entropy: number } {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const [top, c] = sorted[0] ?? ['', 0];
  return { top, topShare: keys.length ? c / keys.length : 0, distinct: counts.size, entropy: entropyBits([...counts.values()]) };
}

/** Smallest baseline mean share for which a ratio "x % more" is reported. */
const MIN_BASE = 0.05;

const median = (v: number[]): number => {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
};

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);

/**
 * Per-task (and per task × condition, `condition` = `all` for the whole task) statistics: n,
 * accuracy, skip share of all steps and per layer (`skip_L1`…), skip:head ratio, pattern consistency
 * (most common head-level pattern and its share, distinct patterns, entropy in bits), mean pattern
 * share of the source's influence.
 */
export function taskStats(records: Lu2021Record[]): ColumnTable {
  const groups = new Map<string, Lu2021Record[]>();
  for (const r of records) {
    for (const k of [`${r.task}\u0000all`, `${r.task}\u0000${r.condition}`]) {
      if (!groups.has(k)) groups.set(k, []);
      (groups.get(k) as Lu2021Record[]).push(r);
    }
  }
  const maxL = Math.max(0, ...records.map((r) => r.pattern.layers));
  const rows = [...groups.entries()].map(([k, rs]) => {
    const [task, condition] = k.split('\u0000') as [string, string];
    const steps = rs.flatMap((r) => r.pattern.steps);
    const skips = steps.filter((s) => s.kind === 'skip').length;
    const c = consistency(rs.map((r) => r.key));
    const row: Record<string, unknown> = {
      task,
      condition,
      n: rs.length,
      accuracy: rs.filter((r) => r.correct).length / rs.length,
      skip_share: steps.length ? skips / steps.length : NaN,
      skip_to_head: steps.length - skips > 0 ? skips / (steps.length - skips) : null,
    };
    for (let l = 0; l < maxL; l++) {
      const at = steps.filter((s) => s.layer === l);
      row[`skip_L${l + 1}`] = at.length ? at.filter((s) => s.kind === 'skip').length / at.length : null;
    }
    Object.assign(row, {
      top_pattern: c.top,
      top_share: c.topShare,
      distinct: c.distinct,
      entropy_bits: c.entropy,
      pattern_share: mean(rs.map((r) => r.pattern.totals.patternShare)),
      mean_qoi: mean(rs.map((r) => r.qoi)),
    });
    return row;
  });
  rows.sort(
    (a, b) =>
      String(a.task).localeCompare(String(b.task)) ||
      (a.condition === 'all' ? -1 : b.condition === 'all' ? 1 : String(a.condition).localeCompare(String(b.condition))),
  );
  return aq.from(rows);
}

/**
 * Pattern-ablation comparison: per task (and `all`) × pattern method, the mean (and median) share of
 * the source's influence the pattern's paths carry (exact), the mean (and median) QoI share kept by the
 * pattern alone, the mean share lost when it is removed (shares are ratios to a per-example total that
 * can be near zero, so medians are the robust figures); `diff_*` = ours − theirs (means);
 * `vs_influence_*` = how much more the influence pattern accounts for, on medians (ours / theirs − 1;
 * null when theirs ≤ 0.05, where a ratio means nothing).
 */
export function ablationTable(records: Lu2021Record[]): ColumnTable {
  const tasks = ['all', ...new Set(records.map((r) => r.task))];
  const methods = ['influence', 'attention', 'rollout', 'layer'] as const;
  const rows: Record<string, unknown>[] = [];
  for (const task of tasks) {
    const rs = records.filter((r) => task === 'all' || r.task === task);
    const m = (method: (typeof methods)[number], f: (c: PatternComparison) => number) =>
      mean(rs.filter((r) => r.comparison[method]).map((r) => f(r.comparison[method])));
    const med = (method: (typeof methods)[number], f: (c: PatternComparison) => number) =>
      median(rs.filter((r) => r.comparison[method]).map((r) => f(r.comparison[method])));
    const ours = {
      share: m('influence', (c) => c.share),
      keep: m('influence', (c) => c.keepShare),
      medShare: med('influence', (c) => c.share),
      medKeep: med('influence', (c) => c.keepShare),
    };
    for (const method of methods) {
      const share = m(method, (c) => c.share);
      const keep = m(method, (c) => c.keepShare);
      const remove = m(method, (c) => c.removeShare);
      const medShare = med(method, (c) => c.share);
      const medKeep = med(method, (c) => c.keepShare);
      if (Number.isNaN(share)) continue;
      rows.push({
        task,
        method,
        n: rs.filter((r) => r.comparison[method]).length,
        influence_share: share,
        keep_share: keep,
        remove_share: remove,
        median_influence_share: medShare,
        median_keep_share: medKeep,
        diff_share: method === 'influence' ? null : ours.share - share,
        diff_keep: method === 'influence' ? null : ours.keep - keep,
        vs_influence_share: method === 'influence' || !(medShare > MIN_BASE) ? null : ours.medShare / medShare - 1,
        vs_influence_keep: method === 'influence' || !(medKeep > MIN_BASE) ? null : ours.medKeep / medKeep - 1,
      });
    }
  }
  return aq.from(rows);
}

/**
 * Correlation across task × condition groups (SVA/RA, ≥ 3 examples each) between pattern consistency
 * (share of the most common pattern; entropy) and the model's accuracy, as the paper relates them.
 *
 * @returns Pearson r for both, and the number of groups (null when fewer than 3 groups).
 */
export function consistencyVsAccuracy(stats: ColumnTable): { rTopShare: number | null; rEntropy: number | null; groups: number } {
  const rows = (stats.objects() as { task: string; condition: string; n: number; accuracy: number; top_share: number; entropy_bits: number }[]).filter(
    (r) => r.condition !== 'all' && r.task !== 'sa' && r.n >= 3,
  );
  if (rows.length < 3) return { rTopShare: null, rEntropy: null, groups: rows.length };
  const acc = rows.map((r) => r.accuracy);
  const safe = (x: number[]) => {
    const v = sampleCorrelation(x, acc);
    return Number.isFinite(v) ? v : null;
  };
  return { rTopShare: safe(rows.map((r) => r.top_share)), rEntropy: safe(rows.map((r) => r.entropy_bits)), groups: rows.length };
}

/**
 * The examples of the chosen tasks.
 * @param limit examples per task (SVA/RA round robin over the conditions; SA the first short test sentences).
 * @throws Error naming an unknown task or a task without usable examples.
 */
export async function lu2021Examples(
  tasks: string[],
  limit: number,
  agreement: { tokenizer: Tokenizer } | null,
  sentiment: { tokenizer: Tokenizer } | null,
  opts: { seed?: number; dataDir?: string; maxTokens?: number } = {},
): Promise<{ agreement: Lu2021Example[]; sentiment: Lu2021Example[]; skipped: number }> {
  const out = { agreement: [] as Lu2021Example[], sentiment: [] as Lu2021Example[], skipped: 0 };
  for (const name of tasks) {
    const task = LU2021_TASKS.find((t) => t.name === name);
    if (!task) throw new Error(`lu2021: unknown task "${name}" (known: ${LU2021_TASKS.map((t) => t.name).join(', ')})`);
    if (task.kind === 'sa') {
      if (!sentiment) continue;
      const max = opts.maxTokens ?? 17;
      for (const ex of loadSst2('test')) {
        if (out.sentiment.length >= limit) break;
        const e = sentimentExample(sentiment.tokenizer, ex.text, ex.label);
        if (e.ids.length <= max && e.ids.length >= 4) out.sentiment.push(e);
      }
      continue;
    }
    if (!agreement) continue;
    const set = await loadMarvinLinzen(opts.dataDir ?? defaultMarvinLinzenDir(), {
      constructions: [task.construction as string],
      maxPerConstruction: limit * 3,
      seed: opts.seed ?? 0,
    });
    // The loader keeps file order (grouped by condition): take usable items round robin over conditions.
    const byCond = new Map<string, Lu2021Example[]>();
    for (const item of set.items) {
      const e = agreementExample(agreement.tokenizer, task, item);
      if ('skip' in e) out.skipped++;
      else {
        if (!byCond.has(e.condition)) byCond.set(e.condition, []);
        (byCond.get(e.condition) as Lu2021Example[]).push(e);
      }
    }
    const lists = [...byCond.values()];
    let n = 0;
    for (let k = 0; n < limit && lists.some((l) => k < l.length); k++) {
      for (const l of lists) {
        if (k < l.length && n < limit) {
          out.agreement.push(l[k] as Lu2021Example);
          n++;
        }
      }
    }
    if (n === 0) throw new Error(`lu2021: no usable items for task ${name}`);
  }
  return out;
}
