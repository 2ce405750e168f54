/**
 * `summary.md` of the Abnar & Zuidema (2020) reproduction (`./abnar2020.ts`): our Tables 1–2 beside the
 * paper's, the claim in words (do rollout and flow beat raw attention, by how much, against blank-out
 * and against input gradients), and diagnostics computed from the run that bear on why the claim holds
 * or not (ties in the scores, sentence length, the output position's own weight).
 *
 * @module
 */
import { spearman } from './correlation.js';
import { ATTENTION_METHODS, type Abnar2020Result, type AttentionMethod, type ExampleRecord, type Reference, type RunInfo, type TableRow } from './abnar2020.js';

const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const pm = (m: number | null | undefined, s: number | null | undefined): string => (m === null || m === undefined ? '–' : `${fmt(m)} ± ${fmt(s)}`);
const signed = (v: number): string => (v >= 0 ? `+${v.toFixed(2)}` : v.toFixed(2));
const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Fraction of positions whose score equals another position's (to 1e-6 of the example's largest score). */
export function tieFraction(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  const scale = Math.max(...scores.map(Math.abs)) || 1;
  const counts = new Map<number, number>();
  for (const v of scores) {
    const k = Math.round(v / (scale * 1e-6));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let tied = 0;
  for (const c of counts.values()) if (c > 1) tied += c;
  return tied / scores.length;
}

/** Mean Spearman ρ of one method at one layer against a reference over some examples, on some positions. */
function meanRho(records: readonly ExampleRecord[], m: AttentionMethod, l: number, ref: Reference, keep: (r: ExampleRecord) => number[]): number {
  const v = records
    .filter((r) => r[m][l - 1]?.length)
    .map((r) => {
      const k = keep(r);
      const x =
        k.length >= 2
          ? spearman(
              k.map((i) => (r[m][l - 1] as number[])[i] as number),
              k.map((i) => r[ref][i] as number),
            )
          : NaN;
      return Number.isNaN(x) ? 0 : x;
    });
  return mean(v);
}

/**
 * Paired difference of per-example ρ: method minus raw attention at one layer against one reference,
 * mean and standard error over the examples (undefined ρ counted as 0, as in the table).
 */
export function pairedDifference(
  records: readonly ExampleRecord[],
  m: AttentionMethod,
  l: number,
  ref: Reference,
): { mean: number; se: number; n: number } | null {
  const d: number[] = [];
  for (const r of records) {
    const a = r.spearman[`${m}.L${l}.${ref}`];
    const b = r.spearman[`raw.L${l}.${ref}`];
    if (a === undefined || b === undefined) continue;
    d.push((a ?? 0) - (b ?? 0));
  }
  if (d.length < 2) return null;
  const mu = mean(d);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mu) ** 2, 0) / (d.length - 1));
  return { mean: mu, se: sd / Math.sqrt(d.length), n: d.length };
}

/** "beats" / "ties with" / "loses to" by a paired difference at ±2 standard errors. */
function verdict(p: { mean: number; se: number } | null): 'beats' | 'ties with' | 'loses to' | '–' {
  if (!p) return '–';
  return p.mean - 2 * p.se > 0 ? 'beats' : p.mean + 2 * p.se < 0 ? 'loses to' : 'ties with';
}

const allPositions = (r: ExampleRecord): number[] => r.tokens.map((_, i) => i);
const wordPositions = (r: ExampleRecord): number[] => r.tokens.map((_, i) => i).filter((i) => i !== 0 && i !== r.tokens.length - 1 && i !== r.maskPosition);

/**
 * `summary.md`: the table in words, beside the paper's Tables 1–2, with diagnostics.
 * @returns Markdown text.
 */
export function abnar2020Summary(res: Abnar2020Result, info: RunInfo): string {
  const rows = res.table.objects() as TableRow[];
  const L = res.layers;
  const cls = res.setup === 'classifier';
  const get = (m: string, l: number | null, r: string) => rows.find((x) => x.method === m && x.layer === l && x.reference === r);
  const o = res.options;
  const n = res.perExample.length;
  const lines: string[] = [];
  lines.push('# Reproduction: Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"', '');
  const what = cls
    ? `${n} held-out natural sentences (Brown corpus documents never trained on) cut before a present-tense verb`
    : `${n} Marvin & Linzen agreement items${info.constructions ? ` (${info.constructions.join(', ')})` : ''}`;
  lines.push(
    `Setup: **${cls ? "the paper's: a verb-number classifier read at [CLS]" : 'a masked LM read at the [MASK]'}**. Model: \`${info.model}\`${info.modelDescription ? ` (${info.modelDescription})` : ''}. Examples: ${what}` +
      `${res.skipped.length ? `; ${res.skipped.length} skipped (${res.skipped[0]?.reason}${res.skipped.length > 1 ? ', …' : ''})` : ''}.` +
      `${info.seed !== undefined ? ` Seed ${info.seed}.` : ''} Time ${res.seconds.toFixed(1)} s.`,
    '',
  );
  if (info.command) lines.push(`Command: \`${info.command}\``, '');
  for (const w of info.warnings ?? []) lines.push(`> **Warning:** ${w}`, '');
  lines.push(
    cls
      ? `**Verb-number accuracy** (the correct class has the larger logit): ${(100 * res.accuracy.overall).toFixed(1)} % of ${res.accuracy.n} (the paper's classifier: 96 % on Linzen et al.'s test set).`
      : `**Agreement accuracy** (p(correct verb) > p(wrong verb) at the [MASK]): ${(100 * res.accuracy.overall).toFixed(1)} % of ${res.accuracy.n} (the paper's classifier: 96 % on Linzen et al.'s test set).`,
    '',
  );
  lines.push(`| ${cls ? 'group' : 'construction'} | accuracy | n |`, '|---|---|---|');
  for (const [c, a] of Object.entries(res.accuracy.byConstruction).sort()) lines.push(`| ${c} | ${(100 * a.accuracy).toFixed(1)} % | ${a.n} |`);
  lines.push('');
  lines.push('## Protocol', '');
  if (cls) {
    lines.push(
      '- Input `[CLS] <words before the verb> [SEP]`; output read at **[CLS]**: the attention row of [CLS] (raw attention), its rollout row and the max flow into [CLS] after each layer (the paper §4).',
    );
    lines.push(
      `- QoI: the ${o.qoi === 'prob' ? 'probability' : 'logit'} of the correct number class${o.qoi === 'prob' ? ' (the paper: "the predicted probability of the correct class")' : ''}.`,
    );
  } else {
    lines.push(
      `- Output position whose attention is read: **${o.outputPosition === 'mask' ? '[MASK]' : '[CLS]'}** row. The paper reads the [CLS] row (their model classifies from [CLS]); a masked LM predicts at the [MASK], as in the reference code's BERT script (\`--output-position cls\` reads [CLS]).`,
    );
    lines.push(`- QoI: ${o.qoi === 'prob' ? 'p(correct verb) − p(wrong verb)' : 'logit(correct) − logit(wrong)'} at the [MASK].`);
  }
  const repl = o.replacement === 'mask' ? '[MASK]' : o.replacement === 'unk' ? '[UNK]' : JSON.stringify(o.replacement);
  lines.push(
    `- Blank-out: each position replaced by ${repl} one at a time${cls && o.replacement === 'unk' ? ' (the paper: "with UNK"; the classifier met [UNK] in training through token dropout)' : ''}, score |ΔQoI|. Input gradient: ${o.gradientReduce === 'abs-sum' ? '|Σ_d ∂QoI/∂e_d|' : o.gradientReduce} at \`${o.gradientNode}\` (the reference code reduces by |Σ_d|); gradient × input likewise.`,
  );
  lines.push(
    `- Attention: heads averaged; rollout and flow on 0.5·A + 0.5·I (paper Eq. 1). Spearman ρ over ${o.positions === 'all' ? `all positions ([CLS], [SEP]${cls ? '' : ', [MASK]'} included, as the reference code)` : `the word positions (no [CLS], [SEP]${cls ? '' : ', [MASK]'})`}; constant scores (ρ undefined) count as 0; mean ± population std over the ${n} examples.`,
  );
  lines.push('');
  lines.push('## Spearman ρ, ours beside the paper', '');
  lines.push(
    `Paper = Table 1 (vs blank-out) and Table 2 (vs input gradients), their 6-layer model, 2000 test sentences${L === 6 ? '' : `; our L1 is set beside their L1 and our L${L} beside their L6`}. Ours: n = ${n} examples per cell${rows.some((r) => r.nan > 0) ? ' (cells with undefined ρ: see `nan` in table.csv)' : ''}.`,
    '',
  );
  lines.push('| method | layer | vs blank-out | paper T1 | vs input gradient | paper T2 | vs grad × input |', '|---|---|---|---|---|---|---|');
  for (const m of ATTENTION_METHODS) {
    for (let l = 1; l <= L; l++) {
      const b = get(m, l, 'blankout');
      const g = get(m, l, 'input_gradient');
      const x = get(m, l, 'grad_x_input');
      if (!b && !g) continue;
      lines.push(
        `| ${m} | L${l} | ${pm(b?.mean, b?.std)} | ${pm(b?.paper_mean, b?.paper_std)}${b?.paper_layer && b.paper_layer !== `L${l}` ? ` (${b.paper_layer})` : ''} | ${pm(g?.mean, g?.std)} | ${pm(g?.paper_mean, g?.paper_std)} | ${pm(x?.mean, x?.std)} |`,
      );
    }
  }
  const gb = get('input_gradient', null, 'blankout');
  const xb = get('grad_x_input', null, 'blankout');
  lines.push('');
  lines.push(
    `The two references agree with each other to ρ = ${pm(gb?.mean, gb?.std)} (input gradient vs blank-out) and ${pm(xb?.mean, xb?.std)} (gradient × input vs blank-out): an attention method cannot be expected to correlate much better than that. Standard error of a mean ≈ std/√${n} ≈ ${fmt((rows.find((r) => r.layer !== null)?.std ?? 0) / Math.sqrt(n), 3)}.`,
    '',
  );
  lines.push('## In words', '');
  for (const ref of ['blankout', 'input_gradient'] as const) {
    const name = ref === 'blankout' ? 'blank-out' : 'input gradients';
    const layers = Array.from({ length: L }, (_, k) => k + 1);
    const paperDiff = (m: AttentionMethod, l: number): number | null => {
      const a = get(m, l, ref);
      const r = get('raw', l, ref);
      return a?.paper_mean != null && r?.paper_mean != null ? a.paper_mean - r.paper_mean : null;
    };
    const s: string[] = [];
    const rawL = get('raw', L, ref);
    const raw1 = get('raw', 1, ref);
    for (const m of ['rollout', 'flow'] as const) {
      const ps = layers.map((l) => pairedDifference(res.perExample, m, l, ref));
      const ds = ps.filter((p): p is { mean: number; se: number; n: number } => p !== null).map((p) => p.mean);
      const pds = layers.map((l) => paperDiff(m, l)).filter((d): d is number => d !== null);
      if (ds.length === 0) continue;
      const beat = ps.filter((p) => verdict(p) === 'beats').length;
      const lose = ps.filter((p) => verdict(p) === 'loses to').length;
      s.push(
        `**${m === 'rollout' ? 'Rollout' : 'Flow'} vs raw attention, against ${name}:** ${m} beats raw attention at ${beat} of ${ds.length} layers, loses at ${lose} (paired difference beyond ±2 standard errors); ${m} − raw = ` +
          ps.map((p, k) => `L${k + 1} ${p === null ? '–' : `${signed(p.mean)} ± ${p.se.toFixed(2)}`}`).join(', ') +
          ` (mean over layers ${signed(mean(ds))}${pds.length ? `; paper: mean ${signed(mean(pds))}${paperDiff(m, L) !== null ? `, L6 ${signed(paperDiff(m, L) as number)}` : ''}` : ''}).`,
      );
    }
    if (raw1 && rawL) {
      s.push(
        `Raw attention goes from ${fmt(raw1.mean)} at L1 to ${fmt(rawL.mean)} at L${L}` +
          (rawL.mean < raw1.mean - 0.05 ? ', falling with depth as in the paper' : ', not falling with depth as it does in the paper') +
          ` (their raw: ${fmt(raw1.paper_mean)} → ${fmt(rawL.paper_mean)}).`,
      );
    }
    const rolL = get('rollout', L, ref);
    const flL = get('flow', L, ref);
    if (rolL && flL && rawL) {
      const vr = verdict(pairedDifference(res.perExample, 'rollout', L, ref));
      const vf = verdict(pairedDifference(res.perExample, 'flow', L, ref));
      const both = vr === 'beats' && vf === 'beats';
      s.push(
        `At the last layer (L${L}), rollout (${fmt(rolL.mean)}) ${vr} and flow (${fmt(flL.mean)}) ${vf} raw attention (${fmt(rawL.mean)}) — the paper's main claim ${both ? 'holds here' : vr === 'beats' || vf === 'beats' ? 'holds here for one of the two' : 'does not hold here'}` +
          ` (paper: rollout ${fmt(rolL.paper_mean)}, flow ${fmt(flL.paper_mean)}, raw ${fmt(rawL.paper_mean)}); flow ${flL.mean >= rolL.mean ? '≥' : '<'} rollout (paper: flow ${ref === 'blankout' ? '≈' : '>'} rollout at L6).`,
      );
    }
    lines.push(s.join(' '), '');
  }
  // Robustness and diagnostics, computed from the per-example scores.
  const layersShown = [...new Set([1, L])];
  lines.push('## Robustness: word positions only', '');
  lines.push(
    `The default correlates over all positions, as the reference code. [CLS] and [SEP] are no words${cls ? ', and [CLS] is the output position itself: rollout and flow give it a large share through the residual path' : '; the [MASK] has blank-out 0 by construction (masking the mask changes nothing) while rollout and flow give it much weight (the residual path)'}. Mean ρ without [CLS], [SEP]${cls ? '' : ' and [MASK]'}:`,
    '',
  );
  lines.push('| method | ' + layersShown.map((l) => `L${l} vs blank-out | L${l} vs input gradient`).join(' | ') + ' |');
  lines.push('|---|' + layersShown.map(() => '---|---|').join(''));
  for (const m of ATTENTION_METHODS) {
    lines.push(
      `| ${m} | ` +
        layersShown
          .map(
            (l) => `${fmt(meanRho(res.perExample, m, l, 'blankout', wordPositions))} | ${fmt(meanRho(res.perExample, m, l, 'input_gradient', wordPositions))}`,
          )
          .join(' | ') +
        ' |',
    );
  }
  lines.push('');
  lines.push('## Diagnostics (from this run)', '');
  const tie = (get: (r: ExampleRecord) => number[] | undefined) =>
    mean(
      res.perExample
        .map(get)
        .filter((v): v is number[] => !!v && v.length > 0)
        .map(tieFraction),
    );
  const flowTies = Array.from({ length: L }, (_, l) => tie((r) => r.flow[l]));
  lines.push(
    `- **Ties** (fraction of positions whose score equals another position's, mean over examples, last layer): raw ${fmt(tie((r) => r.raw[L - 1]))}, rollout ${fmt(tie((r) => r.rollout[L - 1]))}, flow ${fmt(tie((r) => r.flow[L - 1]))}; blank-out ${fmt(tie((r) => r.blankout))}, input gradient ${fmt(tie((r) => r.input_gradient))}. Spearman gives tied values their mean rank. Flow ties by layer: ${flowTies.map((t, l) => `L${l + 1} ${fmt(t)}`).join(', ')}${flowTies.some((t) => t > 0.1) ? " — max flow saturates: once a narrow cut (a layer where few positions carry the capacity into the output) bounds the flow of many tokens at once, their flows are equal and stay so in the layers above, and Spearman ρ of tied scores cannot follow the reference's ranking" : ''}.`,
  );
  const lens = res.perExample.map((r) => r.tokens.length).sort((a, b) => a - b);
  const med = lens[Math.floor(lens.length / 2)] ?? 0;
  const short = res.perExample.filter((r) => r.tokens.length <= med);
  const long = res.perExample.filter((r) => r.tokens.length > med);
  if (short.length && long.length) {
    lines.push(
      `- **Sentence length** (median ${med} tokens with [CLS]/[SEP]): mean ρ at L${L}, short (≤ ${med}, n = ${short.length}) / long (n = ${long.length}): ` +
        ATTENTION_METHODS.map(
          (m) =>
            `${m} vs blank-out ${fmt(meanRho(short, m, L, 'blankout', allPositions))} / ${fmt(meanRho(long, m, L, 'blankout', allPositions))}, vs input gradient ${fmt(meanRho(short, m, L, 'input_gradient', allPositions))} / ${fmt(meanRho(long, m, L, 'input_gradient', allPositions))}`,
        ).join('; ') +
        '.',
    );
  }
  const top = (v: readonly number[]): number => v.reduce((b, x, i) => (x > (v[b] as number) ? i : b), 0);
  const outTop = (get: (r: ExampleRecord) => number[] | undefined) => {
    const rs = res.perExample.filter((r) => (get(r)?.length ?? 0) > 0);
    return rs.length ? rs.filter((r) => top(get(r) as number[]) === r.outputPosition).length / rs.length : NaN;
  };
  lines.push(
    `- **The output position's own score** (${cls ? '[CLS]' : o.outputPosition === 'mask' ? '[MASK]' : '[CLS]'}): share of examples where it ranks first — raw L${L} ${fmt(outTop((r) => r.raw[L - 1]))}, rollout L${L} ${fmt(outTop((r) => r.rollout[L - 1]))}, flow L${L} ${fmt(outTop((r) => r.flow[L - 1]))}; blank-out ${fmt(outTop((r) => r.blankout))}, input gradient ${fmt(outTop((r) => r.input_gradient))}.`,
  );
  lines.push('');
  lines.push(...whyLines(res, get, flowTies, short, long, L));
  lines.push('## Differences from the paper', '');
  if (cls) {
    lines.push(
      `- Model: ${info.modelDescription ?? 'ours'} — a BERT encoder (post-LayerNorm, learned positions) where the paper's uses GPT-2-style blocks; trained on ${'Brown + templated'} sentences (far fewer than Linzen et al.'s ~1.4 M Wikipedia sentences), see the model card.`,
    );
    lines.push(
      "- Data: held-out Brown sentences, verbs and attractors from POS tags (`src/data/numberAgreement.ts`), not Linzen et al.'s dependency-parsed Wikipedia test set.",
    );
  } else {
    lines.push(
      '- Model: the paper trains a 6-layer, 8-head encoder as a verb-number classifier on Linzen et al. (2016) sentences cut at the verb (the default setup here, `--setup classifier`); this run uses a BERT masked LM that sees the whole sentence with the verb masked.',
    );
    lines.push(
      '- Data: templated Marvin & Linzen (2018) pairs instead of 2000 natural-corpus test sentences; fewer examples, so the means have standard errors of about std/√n.',
    );
  }
  lines.push(
    '- The reference script accumulates the per-layer correlation lists without resetting them between layers (its printed L>1 numbers are running means over layers); we compute each layer separately.',
  );
  lines.push('');
  lines.push(
    "Files: `table.csv` (one row per method × layer × reference, with n and the paper's cell), `per_example.jsonl` (all scores and correlations per example), `figure.html` (attention maps of one example and the bar chart; opens offline).",
  );
  return lines.join('\n') + '\n';
}

/**
 * "Why" paragraph: where rollout or flow do not beat raw attention (or fall short of the paper), the
 * evidence of this run that bears on it: flow saturation (ties, constant flow over the upper layers),
 * sentence length, the [CLS]/[SEP] positions, the references' own agreement and the model's accuracy.
 */
function whyLines(
  res: Abnar2020Result,
  get: (m: string, l: number | null, r: string) => TableRow | undefined,
  flowTies: number[],
  short: ExampleRecord[],
  long: ExampleRecord[],
  L: number,
): string[] {
  const out: string[] = ['## Why the numbers differ from the paper (evidence from this run)', ''];
  const items: string[] = [];
  const satFrom = flowTies.findIndex((t) => t > 0.1);
  for (const ref of ['blankout', 'input_gradient'] as const) {
    const name = ref === 'blankout' ? 'blank-out' : 'input gradients';
    const vf = verdict(pairedDifference(res.perExample, 'flow', L, ref));
    const vr = verdict(pairedDifference(res.perExample, 'rollout', L, ref));
    const fl = get('flow', L, ref);
    const ro = get('rollout', L, ref);
    if (satFrom >= 0 && fl && ro && fl.mean < ro.mean) {
      const flows = Array.from({ length: L - satFrom }, (_, k) => get('flow', satFrom + k + 1, ref)?.mean ?? NaN);
      items.push(
        `Flow < rollout against ${name} at L${L} (${fmt(fl.mean)} vs ${fmt(ro.mean)}): flow saturates from L${satFrom + 1} on — ${fmt(flowTies[satFrom])} of the positions tie there` +
          ` and its ρ stays at ${flows.map((v) => fmt(v)).join(', ')} over L${satFrom + 1}–L${L}, while rollout keeps changing (the paper's flow over the same layers: ${Array.from({ length: L - satFrom }, (_, k) => fmt(get('flow', satFrom + k + 1, ref)?.paper_mean)).join(', ')}, also flat, but higher).`,
      );
    }
    if (vr !== 'beats' || vf !== 'beats') {
      const r1 = get('raw', 1, ref);
      const rL = get('raw', L, ref);
      if (r1 && rL)
        items.push(
          `Against ${name}, raw attention at L${L} is ${fmt(rL.mean)} (L1 ${fmt(r1.mean)}): ${rL.mean >= r1.mean - 0.05 ? 'it does not lose its correlation with depth here, which leaves rollout/flow little to gain' : 'it falls with depth as in the paper'}.`,
        );
    }
    const sh = (m: AttentionMethod) => meanRho(short, m, L, ref, allPositions);
    const lo = (m: AttentionMethod) => meanRho(long, m, L, ref, allPositions);
    if (short.length && long.length && (sh('flow') - lo('flow') > 0.1 || sh('rollout') - lo('rollout') > 0.1)) {
      items.push(
        `Sentence length, against ${name}: rollout and flow track the reference better on short sentences (L${L} rollout ${fmt(sh('rollout'))} short / ${fmt(lo('rollout'))} long, flow ${fmt(sh('flow'))} / ${fmt(lo('flow'))}); half of our held-out sentences, cut before the verb, have ${short.length ? Math.max(...short.map((r) => r.tokens.length)) : '–'} tokens or fewer.`,
      );
    }
    const wr = (m: AttentionMethod) => meanRho(res.perExample, m, L, ref, wordPositions);
    items.push(
      `Special positions, against ${name}: without [CLS] and [SEP], L${L} rollout − raw = ${signed(wr('rollout') - wr('raw'))} and flow − raw = ${signed(wr('flow') - wr('raw'))} (all positions: ${signed((ro?.mean ?? NaN) - (get('raw', L, ref)?.mean ?? NaN))} and ${signed((fl?.mean ?? NaN) - (get('raw', L, ref)?.mean ?? NaN))}).`,
    );
  }
  const gb = get('input_gradient', null, 'blankout');
  items.push(
    `The references: input gradients and blank-out agree to ρ = ${fmt(gb?.mean)} with each other, so no attention method can correlate highly with both. The model's accuracy here is ${(100 * res.accuracy.overall).toFixed(1)} % (the paper's: 96 %); a weaker model's blank-out and gradients are noisier.`,
  );
  for (const it of items) out.push(`- ${it}`);
  out.push('');
  return out;
}
