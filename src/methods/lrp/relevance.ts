/**
 * The relevance pass of LRP through a BERT sequence classifier (Chefer, Gur & Wolf 2021, §3.1;
 * reference code hila-chefer/Transformer-Explainability `BERT_explainability/modules/BERT/BERT.py`
 * and Mask-LRP's `Transformer_Explanation/modules/BERT/BERT.py`), over the activations recorded in
 * ONE instrumented forward pass ({@link explainTrace}). The rules are those of `./rules.ts`.
 *
 * Order (output to input), with the relevance started as the one-hot vector of the explained class:
 * classifier (linear) → pooler tanh (identity) → pooler dense (linear) → `[CLS]` row of the last
 * hidden state; then per layer, from the top:
 *
 *     R(resid_post) → LayerNorm (id) → Add(mlp_out, resid_mid) → output.dense (linear) → GELU (id)
 *       → intermediate.dense (linear); R(resid_mid) = both branches (Clone)
 *     R(resid_mid) → LayerNorm (id) → Add(attn_out, resid_pre) → attention.output.dense (linear)
 *       → per-head context z → [head mask: relevance entering masked heads is dropped]
 *       → matmul P·V (½ each) → R(P) = the attention map's relevance ("attention cam")
 *       → softmax (id) → matmul Q·Kᵀ (½ each) → query/key/value (linear); R(resid_pre) = the four branches
 *
 * and below layer 0 the embedding LayerNorm (id) and Add(position + token type, word embedding).
 *
 * Mask-LRP (Song et al. 2024, §3.2): a head mask `[layers][heads]` (1 keep, 0 drop) multiplies the
 * relevance of each head's context before it is propagated further down; the forward pass is untouched.
 * The attention map's own relevance at a masked layer is, by default, the one computed from the
 * unmasked relevance (`maskedHeadMaps: 'reference'`, as Mask-LRP's `save_attn_cam(cam1_preserve)`);
 * `'zero'` takes it after the mask (masked heads then have an all-zero map).
 *
 * @module
 */
import { tf } from '../../backend/index.js';
import type { Bert } from '../../model/bert.js';
import { ALPHA1_BETA0, linearWeights, lrpAdd, lrpLinear, lrpMatmul, lrpMatmulFirst, type LinearRule } from './rules.js';
import type { ExplainTrace } from './explainTrace.js';

/** Options of {@link relevancePass}. */
export interface RelevanceOptions {
  /** Mask-LRP head mask `[layers][heads]`: 1 keeps a head's relevance, 0 drops it (any scale allowed). Default: all ones. */
  headMask?: number[][];
  /** Which relevance the saved attention maps of masked heads carry (see the module comment). Default `'reference'`. */
  maskedHeadMaps?: 'reference' | 'zero';
  /** Rule of every linear layer. Default LRP-α1β0 (Chefer 2021). */
  linearRule?: LinearRule;
  /** Also compute {@link RelevanceResult.headToInput} (3 extra linear rules per head and layer; default false). */
  perHeadInput?: boolean;
  /** Initial relevance of the logits `[labels]`. Default the one-hot vector of the explained class (the reference code). */
  initial?: number[];
}

/** The result of one relevance pass (plain arrays). */
export interface RelevanceResult {
  layers: number;
  heads: number;
  seq: number;
  /** `[layers, heads, seq, seq]` relevance of each attention probability (`R(P)`), row = query. */
  attention: Float32Array;
  /** `[seq, hidden]` relevance at the encoder input (`embed.hook_out` = `blocks.0.hook_resid_pre`). */
  input: Float32Array;
  /** `[seq]` relevance of each token at the encoder input (sum over hidden) = "full LRP". */
  tokens: number[];
  /**
   * `[seq]` relevance of each token's word embedding, and of its position + token-type embedding, after
   * the embedding LayerNorm (identity) and the embeddings' Add (Mask-LRP's `BertEmbeddings.relprop`,
   * `add2.relprop([type + position, word])`); their sums add up to Σ {@link RelevanceResult.tokens}.
   */
  wordEmbedding: number[];
  positionTypeEmbedding: number[];
  /** `[layers][heads]` relevance entering each head's context (before the mask). */
  headIn: number[][];
  /** `[layers][heads]` relevance each head passed down (after the mask; 0 for a masked head). */
  headPassed: number[][];
  /** `[layers][heads]` relevance each head sends to the layer input through its query, key and value (0 for a masked head); empty rows unless `perHeadInput`. */
  headToInput: number[][];
  /**
   * `[layers]` Σ R at the checkpoints of each layer's pass (for conservation checks): `post` (layer
   * output), `mid` (after the MLP block and the Clone), `attnOut` and `skip` (the two parts of the
   * attention residual Add), `ctx` (heads' context, before the mask), `pv` (Σ R(P) + Σ R(V) after the
   * mask), `qkv` (what reaches the input through query, key and value), `pre` (layer input).
   */
  checkpoints: { post: number; mid: number; attnOut: number; skip: number; ctx: number; pv: number; qkv: number; pre: number }[];
  /** Σ R at the logits, and at each layer's output and input: `resid[l]` = Σ R(blocks.l.hook_resid_pre), `resid[layers]` = Σ R(last hidden). */
  total: number;
  resid: number[];
}

/**
 * LRP relevance pass through a BERT classifier over a recorded forward pass.
 *
 * @param model the model whose forward produced `et` (weights are read from it).
 * @param et {@link explainTrace} of one example.
 * @returns attention-map relevances `[layers, heads, seq, seq]`, input relevances and per-layer sums.
 * @throws Error when the head mask is not `[layers][heads]` or `initial` has the wrong length.
 */
export function relevancePass(model: Bert, et: ExplainTrace, opts: RelevanceOptions = {}): RelevanceResult {
  const L = model.layers;
  const H = model.heads;
  const D = model.config.hiddenSize;
  const dh = D / H;
  const tr = et.trace;
  const S = tr.seq;
  const labels = model.config.numLabels;
  const mask = opts.headMask;
  if (mask && (mask.length !== L || mask.some((r) => r.length !== H))) {
    throw new Error(`headMask must be [${L}][${H}] (layers × heads), got [${mask.length}][${mask[0]?.length ?? 0}]`);
  }
  const initial = opts.initial ?? Array.from({ length: labels }, (_, k) => (k === et.target ? 1 : 0));
  if (initial.length !== labels) throw new Error(`initial relevance must have ${labels} entries (one per class), got ${initial.length}`);
  const rule = opts.linearRule ?? ALPHA1_BETA0;
  const zeroMaps = opts.maskedHeadMaps === 'zero';
  const P = model.params;
  const node2 = (name: string, rows: number, cols: number) => tr.node(name).reshape([rows, cols]) as tf.Tensor2D;

  const attention = new Float32Array(L * H * S * S);
  const headIn: number[][] = [];
  const headPassed: number[][] = [];
  const headToInput: number[][] = [];
  const checkpoints: RelevanceResult['checkpoints'] = [];
  const resid: number[] = new Array(L + 1).fill(0);
  let input = new Float32Array(0);

  const rTop = tf.tidy(() => {
    const r0 = tf.tensor2d([initial], [1, labels]);
    const pooled = node2('pooler.hook_out', 1, D);
    const rPooled = lrpLinear(pooled, r0, linearWeights(P, 'classifier'), rule);
    const last = node2(`blocks.${L - 1}.hook_resid_post`, S, D);
    const cls = last.slice([0, 0], [1, D]);
    const rCls = lrpLinear(cls, rPooled, linearWeights(P, 'pooler.dense'), rule);
    return tf.concat([rCls, tf.zeros([S - 1, D])], 0) as tf.Tensor2D;
  });
  resid[L] = sumOf(rTop);
  let r: tf.Tensor2D = rTop;
  for (let l = L - 1; l >= 0; l--) {
    const p = `encoder.layer.${l}.`;
    const n = `blocks.${l}.`;
    const keepRow = mask ? mask[l] : null;
    const out = tf.tidy(() => {
      // MLP block.
      const mlpOut = node2(n + 'hook_mlp_out', S, D);
      const mid = node2(n + 'hook_resid_mid', S, D);
      const [rMlp, rMidSkip] = lrpAdd(mlpOut, mid, r);
      const post = node2(n + 'mlp.hook_post', S, model.config.intermediateSize);
      const rPost = lrpLinear(post, rMlp as tf.Tensor2D, linearWeights(P, p + 'output.dense'), rule);
      const rMidMlp = lrpLinear(mid, rPost, linearWeights(P, p + 'intermediate.dense'), rule);
      const rMid = tf.add(rMidSkip, rMidMlp) as tf.Tensor2D;
      // Attention block.
      const attnOut = node2(n + 'hook_attn_out', S, D);
      const h = node2(n + 'hook_resid_pre', S, D);
      const [rAo, rHSkip] = lrpAdd(attnOut, h, rMid);
      const z = tr.node(n + 'attn.hook_z').reshape([H, S, dh]);
      const ctx = z.transpose([1, 0, 2]).reshape([S, D]) as tf.Tensor2D;
      const rCtx = lrpLinear(ctx, rAo as tf.Tensor2D, linearWeights(P, p + 'attention.output.dense'), rule);
      const rZ = rCtx.reshape([S, H, dh]).transpose([1, 0, 2]) as tf.Tensor3D; // [h, s, dh]
      const maskT = keepRow ? tf.tensor1d(keepRow).reshape([H, 1, 1]) : null;
      const rZm = maskT ? (tf.mul(rZ, maskT) as tf.Tensor3D) : rZ;
      const probs = tr.node(n + 'attn.hook_pattern').reshape([H, S, S]) as tf.Tensor3D;
      const v = tr.node(n + 'attn.hook_v').reshape([H, S, dh]) as tf.Tensor3D;
      const [rP, rV] = lrpMatmul(probs, v, rZm);
      const cam = maskT && !zeroMaps ? lrpMatmulFirst(probs, v, rZ) : rP;
      // Softmax: identity. (The additive attention mask is 0 for an unpadded input: the Add rule is the identity.)
      const q = tr.node(n + 'attn.hook_q').reshape([H, S, dh]) as tf.Tensor3D;
      const k = tr.node(n + 'attn.hook_k').reshape([H, S, dh]) as tf.Tensor3D;
      const [rQ, rKT] = lrpMatmul(q, k.transpose([0, 2, 1]) as tf.Tensor3D, rP);
      const merge = (t: tf.Tensor) => t.transpose([1, 0, 2]).reshape([S, D]) as tf.Tensor2D;
      const rQm = merge(rQ);
      const rKm = merge(rKT.transpose([0, 2, 1]));
      const rVm = merge(rV);
      const rQkv = tf.addN([
        lrpLinear(h, rQm, linearWeights(P, p + 'attention.self.query'), rule),
        lrpLinear(h, rKm, linearWeights(P, p + 'attention.self.key'), rule),
        lrpLinear(h, rVm, linearWeights(P, p + 'attention.self.value'), rule),
      ]);
      const rH = tf.add(rHSkip, rQkv) as tf.Tensor2D;
      // Per head: what its query, key and value send to the layer input (relevance is zero outside a head's own columns).
      const perHead = !opts.perHeadInput
        ? tf.zeros([0])
        : tf.stack(
            Array.from({ length: H }, (_, hh) => {
              const sel = (t: tf.Tensor3D) => t.slice([hh, 0, 0], [1, -1, -1]);
              const z3 = (t: tf.Tensor) => tf.zerosLike(t);
              const only = (t: tf.Tensor3D) =>
                merge(tf.concat([z3(t.slice([0, 0, 0], [hh, -1, -1])), sel(t), z3(t.slice([hh + 1, 0, 0], [H - hh - 1, -1, -1]))], 0));
              return tf
                .addN([
                  lrpLinear(h, only(rQ), linearWeights(P, p + 'attention.self.query'), rule),
                  lrpLinear(h, only(rKT.transpose([0, 2, 1]) as tf.Tensor3D), linearWeights(P, p + 'attention.self.key'), rule),
                  lrpLinear(h, only(rV), linearWeights(P, p + 'attention.self.value'), rule),
                ])
                .sum();
            }),
          );
      const sums = tf.stack([r.sum(), rMid.sum(), rAo.sum(), rHSkip.sum(), rZ.sum(), tf.add(rP.sum(), rV.sum()), rQkv.sum(), rH.sum()]);
      return { rH, cam, inSums: tf.sum(rZ, [1, 2]), passedSums: tf.sum(rZm, [1, 2]), perHead, sums };
    });
    attention.set(out.cam.dataSync(), l * H * S * S);
    headIn[l] = Array.from(out.inSums.dataSync());
    headPassed[l] = Array.from(out.passedSums.dataSync());
    headToInput[l] = Array.from(out.perHead.dataSync());
    const c = out.sums.dataSync();
    checkpoints[l] = { post: c[0], mid: c[1], attnOut: c[2], skip: c[3], ctx: c[4], pv: c[5], qkv: c[6], pre: c[7] };
    for (const t of [out.cam, out.inSums, out.passedSums, out.perHead, out.sums]) t.dispose();
    r.dispose();
    r = out.rH;
    resid[l] = sumOf(r);
  }
  input = Float32Array.from(r.dataSync());
  // Embeddings: LayerNorm (identity), then Add(position + token type, word).
  const [rWordT, rPosTypeT] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
    const word = node2('embed.hook_word', S, D);
    const pos = P.get('embeddings.position_embeddings.weight').slice([0, 0], [S, D]);
    const type = tf.gather(P.get('embeddings.token_type_embeddings.weight'), tf.tensor1d(et.tokenTypeIds, 'int32'));
    const [rTP, rW] = lrpAdd(tf.add(pos, type), word, r);
    return [tf.sum(rW, 1), tf.sum(rTP, 1)];
  });
  const wordEmbedding = Array.from(rWordT.dataSync() as Float32Array, Number);
  const positionTypeEmbedding = Array.from(rPosTypeT.dataSync() as Float32Array, Number);
  rWordT.dispose();
  rPosTypeT.dispose();
  r.dispose();
  const tokens: number[] = [];
  for (let s = 0; s < S; s++) {
    let t = 0;
    for (let d = 0; d < D; d++) t += input[s * D + d];
    tokens.push(t);
  }
  const total = initial.reduce((a, b) => a + b, 0);
  return {
    layers: L,
    heads: H,
    seq: S,
    attention,
    input,
    tokens,
    wordEmbedding,
    positionTypeEmbedding,
    headIn,
    headPassed,
    headToInput,
    checkpoints,
    total,
    resid,
  };
}

function sumOf(t: tf.Tensor): number {
  const s = t.sum();
  const v = s.dataSync()[0];
  s.dispose();
  return v;
}
