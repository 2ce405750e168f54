/**
 * A hand-built BERT classifier (fixed weights, no training) whose output depends on one token only:
 * p(class 1) is high when token `X_ID` is in the input and low when it is not.
 *
 * Construction (hidden 4, one layer, one head): word embeddings X = [1, −1, 0, 0], every other token
 * [0, 0, 1, −1]; position/type embeddings 0; query/key weights 0 (uniform attention); value and output
 * projections keep dims 0–1, so [CLS] receives (#X / n)·[√2, −√2, 0, 0]; the MLP is 0; the pooler is
 * the identity; logit₁ − logit₀ = 40·tanh(h₀) − 3. Removing other tokens only raises p(class 1) a little
 * (n shrinks); removing X drops it to sigmoid(−3) ≈ 0.047.
 */
import { Bert } from '../../src/model/bert.js';
import { BertParams, bertParamShapes } from '../../src/model/params.js';
import { makeBertConfig } from '../../src/io/config.js';

export const ONE_TOKEN_CFG = makeBertConfig({
  vocabSize: 12,
  hiddenSize: 4,
  numHiddenLayers: 1,
  numAttentionHeads: 1,
  intermediateSize: 4,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 32,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 2,
});
/** Special ids of the toy vocabulary. */
export const TOY_IDS = { padId: 0, unkId: 1, clsId: 2, sepId: 3, maskId: 4 };
/** The one token the output depends on. */
export const X_ID = 7;

export function oneTokenModel(): Bert {
  const c = ONE_TOKEN_CFG;
  const D = c.hiddenSize;
  const w = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of bertParamShapes(c, 'classifier')) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.includes('LayerNorm.weight')) data.fill(1);
    w.set(name, { shape, data });
  }
  const set = (name: string, f: (d: Float32Array) => void) => f(w.get(name)!.data);
  set('embeddings.word_embeddings.weight', (d) => {
    for (let t = 0; t < c.vocabSize; t++) {
      const row = t === X_ID ? [1, -1, 0, 0] : [0, 0, 1, -1];
      d.set(row, t * D);
    }
  });
  const diag = (vals: number[]) => (d: Float32Array) => vals.forEach((v, i) => (d[i * D + i] = v)); // [out, in], square
  set('encoder.layer.0.attention.self.value.weight', diag([1, 1, 0, 0]));
  set('encoder.layer.0.attention.output.dense.weight', diag([1, 1, 0, 0]));
  set('pooler.dense.weight', diag([1, 1, 1, 1]));
  set('classifier.weight', (d) => {
    d[0 * D + 0] = -20;
    d[1 * D + 0] = 20;
  }); // [labels, hidden]
  set('classifier.bias', (d) => {
    d[0] = 1.5;
    d[1] = -1.5;
  });
  return new Bert(c, 'classifier', BertParams.fromPlain(w, c, 'classifier'));
}
