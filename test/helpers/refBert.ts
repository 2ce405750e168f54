/**
 * An independent reference BERT in plain float64 JavaScript loops (no tfjs), written from the
 * Hugging Face modeling_bert.py semantics, for checking the tfjs implementation and for finite
 * differences. Weights in PyTorch layout (Linear weight [out, in]).
 */
export interface RefConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  numLabels?: number;
}
export type W = Map<string, { shape: number[]; data: Float32Array }>;
type Mat = number[][];

const get = (w: W, n: string) => {
  const t = w.get(n);
  if (!t) throw new Error('ref: missing ' + n);
  return t;
};
function lin(x: Mat, w: W, name: string): Mat {
  const W_ = get(w, name + '.weight');
  const b = get(w, name + '.bias').data;
  const [out, inp] = W_.shape;
  return x.map((row) => {
    const r: number[] = [];
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inp; i++) s += W_.data[o * inp + i] * row[i];
      r.push(s);
    }
    return r;
  });
}
function ln(x: Mat, w: W, name: string, eps: number): Mat {
  const g = get(w, name + '.weight').data;
  const b = get(w, name + '.bias').data;
  return x.map((row) => {
    const m = row.reduce((a, c) => a + c, 0) / row.length;
    const v = row.reduce((a, c) => a + (c - m) ** 2, 0) / row.length;
    return row.map((c, i) => ((c - m) / Math.sqrt(v + eps)) * g[i] + b[i]);
  });
}
function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse; use a series/continued fraction with float64 accuracy.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t,
      term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}
export const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

export interface RefOut {
  hidden: Mat[];
  probs: number[][][][];
  logits: number[] | Mat;
}

/** Forward one sequence. headMask [layers][heads]; embeds replaces the word embeddings. */
export function refForward(
  c: RefConfig,
  w: W,
  ids: number[],
  opts: { types?: number[]; mask?: number[]; headMask?: number[][]; embeds?: Mat; head: 'mlm' | 'classifier' },
): RefOut {
  const D = c.hiddenSize,
    H = c.numAttentionHeads,
    dh = D / H,
    S = ids.length;
  const we = get(w, 'embeddings.word_embeddings.weight').data,
    pe = get(w, 'embeddings.position_embeddings.weight').data,
    te = get(w, 'embeddings.token_type_embeddings.weight').data;
  let x: Mat = ids.map((id, s) => {
    const t = opts.types?.[s] ?? 0;
    return [...Array(D).keys()].map((d) => (opts.embeds ? opts.embeds[s][d] : we[id * D + d]) + pe[s * D + d] + te[t * D + d]);
  });
  x = ln(x, w, 'embeddings.LayerNorm', c.layerNormEps);
  const hidden = [x];
  const probsAll: number[][][][] = [];
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = lin(x, w, p + 'attention.self.query'),
      k = lin(x, w, p + 'attention.self.key'),
      v = lin(x, w, p + 'attention.self.value');
    const ctx: Mat = [...Array(S)].map(() => Array(D).fill(0));
    const probsL: number[][][] = [];
    for (let h = 0; h < H; h++) {
      const P: number[][] = [];
      for (let i = 0; i < S; i++) {
        const sc = [...Array(S).keys()].map((j) => {
          let s = 0;
          for (let d = 0; d < dh; d++) s += q[i][h * dh + d] * k[j][h * dh + d];
          return s / Math.sqrt(dh) + (opts.mask && !opts.mask[j] ? -1e9 : 0);
        });
        const m = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        const row = e.map((t) => (t / z) * (opts.headMask ? opts.headMask[l][h] : 1));
        P.push(row);
        for (let j = 0; j < S; j++) for (let d = 0; d < dh; d++) ctx[i][h * dh + d] += row[j] * v[j][h * dh + d];
      }
      probsL.push(P);
    }
    probsAll.push(probsL);
    const ao = lin(ctx, w, p + 'attention.output.dense');
    const mid = ln(
      ao.map((r, i) => r.map((t, d) => t + x[i][d])),
      w,
      p + 'attention.output.LayerNorm',
      c.layerNormEps,
    );
    const inter = lin(mid, w, p + 'intermediate.dense').map((r) => r.map(gelu));
    const o = lin(inter, w, p + 'output.dense');
    x = ln(
      o.map((r, i) => r.map((t, d) => t + mid[i][d])),
      w,
      p + 'output.LayerNorm',
      c.layerNormEps,
    );
    hidden.push(x);
  }
  if (opts.head === 'mlm') {
    const t = ln(
      lin(x, w, 'cls.predictions.transform.dense').map((r) => r.map(gelu)),
      w,
      'cls.predictions.transform.LayerNorm',
      c.layerNormEps,
    );
    const bias = get(w, 'cls.predictions.bias').data;
    const logits = t.map((r) =>
      [...Array(c.vocabSize).keys()].map((vv) => {
        let s = bias[vv];
        for (let d = 0; d < D; d++) s += r[d] * we[vv * D + d];
        return s;
      }),
    );
    return { hidden, probs: probsAll, logits };
  }
  const pooled = lin([x[0]], w, 'pooler.dense')[0].map(Math.tanh);
  const logits = lin([pooled], w, 'classifier')[0];
  return { hidden, probs: probsAll, logits };
}
