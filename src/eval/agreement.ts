/**
 * Targeted syntactic evaluation of a masked LM (Marvin & Linzen 2018, scored as Goldberg 2019):
 * the grammatical form must get a higher logit than the ungrammatical one at the `[MASK]`.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { WordPieceTokenizer } from '../io/tokenizer.js';
import { evaluateAgreement, loadMarvinLinzen, type AgreementReport, type CandidateScorer, type MLItem } from '../data/marvinLinzen.js';

/**
 * A scorer for {@link evaluateAgreement}: MLM logits of the two candidates at the mask.
 *
 * @throws Error when the model has no MLM head, or a candidate is not one token of the vocabulary.
 */
export function mlmScorer(model: Bert, tokenizer: WordPieceTokenizer): CandidateScorer {
  if (model.head !== 'mlm') throw new Error(`agreement scoring needs a masked LM, got head "${model.head}"`);
  return async (words, maskIndex, [good, bad]) => {
    const enc = tokenizer.encode(words.join(' '));
    const pos = enc.tokens.indexOf('[MASK]');
    if (pos < 0) throw new Error(`no [MASK] in "${words.join(' ')}" (mask index ${maskIndex})`);
    const ids = [good, bad].map((w) => {
      const t = tokenizer.tokenize(w);
      if (t.length !== 1) throw new Error(`candidate "${w}" is ${t.length} tokens (${t.join(' ')}), not one token of the vocabulary`);
      return tokenizer.idOf(t[0] as string);
    });
    const tr = model.forward({ ids: [enc.ids] }, { record: 'none', logitsAt: [pos] });
    const v = tf.tidy(() => tf.gather(tr.logits.reshape([-1]), tf.tensor1d(ids, 'int32')).dataSync());
    tr.dispose();
    return [v[0] as number, v[1] as number];
  };
}

/** Whether `word` is a single token for `tokenizer`. */
export function singleToken(tokenizer: WordPieceTokenizer): (w: string) => boolean {
  return (w) => tokenizer.tokenize(w).length === 1 && tokenizer.tokenize(w)[0] !== '[UNK]';
}

/**
 * Accuracy on every Marvin & Linzen construction in `../shared/data/marvin-linzen`.
 *
 * @param opts.maxPerConstruction items per construction (balanced over conditions); default all.
 * @returns the report, with the items scored.
 */
export async function marvinLinzenAccuracy(
  model: Bert,
  tokenizer: WordPieceTokenizer,
  opts: { maxPerConstruction?: number; seed?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<AgreementReport & { items: MLItem[]; skipped: number }> {
  const set = await loadMarvinLinzen(undefined, { maxPerConstruction: opts.maxPerConstruction, seed: opts.seed ?? 0, isSingleToken: singleToken(tokenizer) });
  const report = await evaluateAgreement(set.items, mlmScorer(model, tokenizer), { onProgress: opts.onProgress });
  return { ...report, items: set.items, skipped: set.skipped.total };
}
