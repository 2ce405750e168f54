/**
 * The model card (`README.md`) of the pretrained encoder, generated from the training record and the
 * evaluation file, so that every figure in it is measured, never typed in.
 *
 * @module
 */
import type { BertConfig } from '../../io/config.js';
import type { TrainerRecord } from './checkpoint.js';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A table in Markdown. */
export function mdTable(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * The card's Markdown.
 * @param evaluation contents of `evaluation.json` (zero-shot agreement, head statistics), or null.
 */
export function pretrainCard(r: TrainerRecord, config: BertConfig, evaluation: Record<string, unknown> | null): string {
  const s = r.settings as Record<string, number>;
  const last = r.history[r.history.length - 1];
  const hours = (last?.seconds ?? 0) / 3600;
  const ev = r.evals;
  const lastEval = ev[ev.length - 1];
  const evalRows = ev
    .filter((e, i) => i === 0 || i === ev.length - 1 || i % Math.max(1, Math.floor(ev.length / 12)) === 0)
    .map((e) => [e.step, (e.tokens / 1e6).toFixed(2), e.loss.toFixed(3), e.perplexity.toFixed(1), pct(e.accuracy)]);
  const lines = [
    '# flowlens-bert: a small BERT pretrained by flowlens',
    '',
    'A BERT masked language model (`BertForMaskedLM`, post-LayerNorm, GELU, tied decoder) trained from scratch by',
    'flowlens on natural English from packages that install offline (see `docs/corpus.md`), with the',
    "bert-base-uncased WordPiece vocabulary (ids equal to Hugging Face's). It is the base of the embedded",
    "fine-tuned models. Load it with `loadModel('embedded:bert')`, or as a Hugging Face folder",
    "(`BertForMaskedLM.from_pretrained('models/flowlens-bert')`).",
    '',
    '## Architecture',
    '',
    mdTable(
      ['layers', 'hidden', 'heads', 'intermediate', 'positions', 'vocabulary', 'parameters'],
      [
        [
          config.numHiddenLayers,
          config.hiddenSize,
          config.numAttentionHeads,
          config.intermediateSize,
          config.maxPositionEmbeddings,
          config.vocabSize,
          '≈ ' + (paramCount(config) / 1e6).toFixed(1) + ' M',
        ],
      ],
    ),
    '',
    '## Training',
    '',
    `- Objective: masked LM, ${pct(s.maskProb ?? 0.15)} of tokens selected, 80 / 10 / 10 % [MASK] / random / kept (Devlin et al. 2019); no next-sentence prediction; sentences packed into sequences of ≤ ${s.maxLen} tokens (RoBERTa FULL-SENTENCES), ${pct(s.shortSeqProb ?? 0.1)} shorter.`,
    `- Optimiser: AdamW, peak lr ${s.lr}, β₂ ${s.beta2}, weight decay ${s.weightDecay}, clip ${s.clip}, ${s.warmup} warm-up steps then linear decay to 0 at step ${s.steps}; batch ${s.batchSize} sequences; no dropout while pretraining (Cramming, Geiping & Goldstein 2023); lazy embedding rows.`,
    `- Progress: step **${r.step}** of ${s.steps} planned; ${((last?.tokens ?? 0) / 1e6).toFixed(1)} M tokens seen; ${hours.toFixed(2)} h of training on ${r.workers} worker${r.workers === 1 ? '' : 's'} (≈ ${(hours * Math.max(1, r.workers)).toFixed(1)} core-hours).`,
    `- Command: \`npx flowlens data corpus\` then \`npx flowlens train mlm --resume\` continues from the committed checkpoint (\`trainer/\`: AdamW moments in BF16; the parameters are this folder's F16 weights).`,
    '- Curves: `loss.csv` (every step), `evals.csv` (held-out); the trainer draws both as a page, `.cache/pretrain/flowlens-bert/curves.html`.',
    '',
    '## Held-out evaluation (1 % of documents, never trained on)',
    '',
    ...(r.dataHistory && r.dataHistory.length > 1
      ? [
          `The corpus was rebuilt with more sources during training (the run continued on it with \`--new-data\`) at step${r.dataHistory.length > 2 ? 's' : ''} ${r.dataHistory
            .slice(1)
            .map((d) => d.step)
            .join(', ')}; the held-out set changed with it, so evaluations before and after are on different text.`,
          '',
        ]
      : []),
    lastEval
      ? `Latest: perplexity **${lastEval.perplexity.toFixed(1)}**, masked-token accuracy **${pct(lastEval.accuracy)}** over ${lastEval.count} masked tokens.`
      : 'No evaluation yet.',
    '',
    mdTable(['step', 'M tokens', 'loss (nats)', 'perplexity', 'accuracy'], evalRows),
    '',
  ];
  if (evaluation) lines.push(...evaluationSection(evaluation));
  lines.push(
    '## Limitations',
    '',
    '- Small (6 layers × 256) and trained on a few tens of millions of tokens on two CPU cores: far less',
    '  than BERT-base (3.3 B words, 1 M steps × 256 × 512 tokens). Expect much weaker language knowledge.',
    '- The corpus is dominated by dictionaries, reference books and documentation, with older and formal',
    '  English (Webster 1913, the King James Bible): its style differs from modern web text.',
    '- Uncased; English only.',
    '',
  );
  return lines.join('\n');
}

function paramCount(c: BertConfig): number {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  return (
    c.vocabSize * H +
    c.maxPositionEmbeddings * H +
    2 * H +
    2 * H +
    c.numHiddenLayers * (4 * H * H + 4 * H + 2 * H * I + I + H + 4 * H) +
    H * H +
    3 * H +
    c.vocabSize
  );
}

function evaluationSection(e: Record<string, unknown>): string[] {
  const out: string[] = ['## Zero-shot evaluation', ''];
  if (typeof e.step === 'number') out.push(`Of the model at step ${e.step}.`, '');
  const ml = e.marvinLinzen as { command?: string; rows?: { construction: string; accuracy: number; n: number }[]; overall?: number } | undefined;
  if (ml?.rows) {
    out.push(
      'Marvin & Linzen (2018) minimal pairs, scored as Goldberg (2019) scores BERT (the differing word masked, both candidates compared); no agreement training at all. Chance = 50 %.',
      '',
    );
    out.push(
      mdTable(
        ['construction', 'accuracy', 'pairs'],
        ml.rows.map((r) => [r.construction, pct(r.accuracy), r.n]),
      ),
    );
    if (ml.overall !== undefined) out.push('', `Overall: ${pct(ml.overall)}.`);
    if (ml.command) out.push('', `Measured with \`${ml.command}\`.`);
    out.push('');
  }
  const hs = e.headStats as { command?: string; grid?: string; positional?: number; syntactic?: number; total?: number; notes?: string } | undefined;
  if (hs) {
    out.push('### Head statistics (Song et al. 2024 criteria)', '');
    if (hs.total) out.push(`Positional heads: ${hs.positional}; syntactic heads: ${hs.syntactic}; of ${hs.total}.`, '');
    if (hs.grid) out.push('```', hs.grid, '```', '');
    if (hs.notes) out.push(hs.notes, '');
    if (hs.command) out.push(`Measured with \`${hs.command}\`.`, '');
  }
  return out;
}
