/**
 * BERT with exactly the semantics of Hugging Face `BertModel`, `BertForMaskedLM` and
 * `BertForSequenceClassification` (eval mode), as one instrumented forward pass with named nodes.
 *
 * Every attribution method in flowlens runs on {@link Bert.forward}: it records the named nodes a
 * method asks for (see {@link NODE_NAMES}), applies interventions (hooks by name, a head mask, input
 * embeddings instead of ids) and stays differentiable, so `tf.grad` flows through any intervention.
 *
 * Source: Devlin et al. 2019 (BERT); the computation follows `transformers/models/bert/modeling_bert.py`
 * (post-LayerNorm blocks, erf GELU, additive attention mask, tanh pooler, tied MLM decoder).
 *
 * @module
 */
import { tf } from '../backend/index.js';
import { checkPassFits, gradientTapeOn } from '../backend/memory.js';
import { geluErf, layerNorm, linear, linearConst, matmul, matmulConstB } from '../backend/ops.js';
import { MIME_BUNDLE, summaryBundle, type MimeBundle } from '../display.js';
import { BertParams } from './params.js';
import type { ForwardInput, ForwardOptions, HeadKind, Hook } from './types.js';
import type { BertConfig } from '../io/config.js';
import { ConfigError, IndexError, rethrowMemory } from '../errors.js';

/** Additive attention-mask value for padded keys (HF uses the dtype's minimum; identical after softmax). */
const MASK_NEG = -1e9;

/** The result of one instrumented forward pass. Call {@link Trace.dispose} when done. */
export class Trace {
  /** Output logits: MLM `[batch, seq or k, vocab]`; classifier `[batch, labels]`; none: last hidden `[batch, seq, hidden]`. */
  readonly logits: tf.Tensor;
  /** Recorded named nodes (see {@link NODE_NAMES}). */
  readonly nodes: Map<string, tf.Tensor>;
  /** Batch size, sequence length, layers, heads. */
  readonly batch: number;
  readonly seq: number;
  readonly layers: number;
  readonly heads: number;

  constructor(logits: tf.Tensor, nodes: Map<string, tf.Tensor>, batch: number, seq: number, layers: number, heads: number) {
    this.logits = logits;
    this.nodes = nodes;
    this.batch = batch;
    this.seq = seq;
    this.layers = layers;
    this.heads = heads;
  }

  /**
   * A recorded node by name.
   * @throws Error naming the node when it was not recorded (pass it in `record`).
   */
  node(name: string): tf.Tensor {
    const t = this.nodes.get(name);
    if (!t) {
      throw new Error(
        `node "${name}" was not recorded in this trace; recorded: ${[...this.nodes.keys()].slice(0, 6).join(', ')}` +
          `${this.nodes.size > 6 ? ', …' : ''} (ask for it with the forward option record)`,
      );
    }
    return t;
  }

  /**
   * Attention probabilities of batch element `b` for every layer, as a flat array.
   * @returns `Float32Array` laid out `[layers, heads, seq, seq]` (row = query, column = key).
   * @throws Error when the patterns were not recorded.
   */
  attentionArray(b = 0): Float32Array {
    const L = this.layers;
    const per = this.heads * this.seq * this.seq;
    const out = new Float32Array(L * per);
    for (let l = 0; l < L; l++) {
      const p = this.node(`blocks.${l}.attn.hook_pattern`);
      if (this.batch === 1 && b === 0) {
        out.set(p.dataSync(), l * per); // no slice needed
        continue;
      }
      const slice = p.slice([b, 0, 0, 0], [1, -1, -1, -1]);
      out.set(slice.dataSync(), l * per);
      slice.dispose();
    }
    return out;
  }

  /** Display protocol (`src/display.ts`): a short summary (sizes, logits, recorded nodes with shapes). */
  [MIME_BUNDLE](): MimeBundle {
    const shape = (t: tf.Tensor): string => (t.isDisposed ? 'disposed' : `[${t.shape.join(', ')}]`);
    const names = [...this.nodes.keys()];
    const shown = names.slice(0, 8).map((n): [string, string] => [n, shape(this.nodes.get(n)!)]);
    if (names.length > 8) shown.push(['…', `${names.length - 8} more nodes`]);
    return summaryBundle(`Trace: batch ${this.batch}, seq ${this.seq}, ${this.layers} layers × ${this.heads} heads, ${names.length} recorded nodes`, [
      ['logits', shape(this.logits)],
      ...shown,
    ]);
  }

  /** Dispose the logits and every recorded node. */
  dispose(): void {
    const seen = new Set<tf.Tensor>();
    for (const t of [this.logits, ...this.nodes.values()]) {
      if (!seen.has(t)) {
        seen.add(t);
        t.dispose();
      }
    }
    this.nodes.clear();
  }
}

/** What {@link Bert.layer} needs from the forward pass that runs it. */
interface LayerContext {
  at: (name: string, x: tf.Tensor) => tf.Tensor;
  keep: (name: string) => boolean;
  hooks: Record<string, Hook>;
  train: boolean;
  drop: (x: tf.Tensor) => tf.Tensor;
  headMask: tf.Tensor2D | null;
  maskAdd: tf.Tensor | null;
  batch: number;
  seq: number;
  perHeadResults?: boolean;
}

/** Default nodes recorded when `record` is not given. */
const DEFAULT_RECORD = (n: string): boolean => n.endsWith('attn.hook_pattern') || n.endsWith('hook_resid_post') || n === 'embed.hook_out';

function recordPredicate(r: ForwardOptions['record']): (n: string) => boolean {
  if (r === undefined) return DEFAULT_RECORD;
  if (r === 'all') return () => true;
  if (r === 'none') return () => false;
  if (typeof r === 'function') return r;
  const pats = r.map((p) => new RegExp('^' + p.replace(/[.]/g, '\\.').replace(/\*/g, '[^.]+') + '$'));
  return (n) => pats.some((re) => re.test(n));
}

/**
 * A BERT encoder with an optional task head, holding its parameters as tfjs variables.
 */
export class Bert {
  readonly config: BertConfig;
  readonly head: HeadKind;
  readonly params: BertParams;

  /**
   * @param config dimensions; @param head task head; @param params variables (see {@link BertParams}).
   * @throws Error when hidden size is not a multiple of the head count.
   */
  constructor(config: BertConfig, head: HeadKind, params: BertParams) {
    if (config.hiddenSize % config.numAttentionHeads !== 0) {
      throw new ConfigError(`hidden size ${config.hiddenSize} is not a multiple of the number of heads ${config.numAttentionHeads}`);
    }
    this.config = config;
    this.head = head;
    this.params = params;
  }

  /** Number of encoder layers. */
  get layers(): number {
    return this.config.numHiddenLayers;
  }
  /** Heads per layer. */
  get heads(): number {
    return this.config.numAttentionHeads;
  }

  /**
   * Check a layer index (and optionally a head index).
   * @throws RangeError naming the index and the valid range.
   */
  checkLayerHead(layer: number, head?: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new IndexError(`unknown layer ${layer}: this model has layers 0..${this.layers - 1}`);
    }
    if (head !== undefined && (!Number.isInteger(head) || head < 0 || head >= this.heads)) {
      throw new IndexError(`unknown head ${head}: each layer has heads 0..${this.heads - 1}`);
    }
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name);
  }

  /**
   * The Linear layer `prefix` (`x · W + b`). With constant weights (analysis) the gradient goes to `x`
   * only, through `Wᵀ` (a cached transpose on wasm, a transpose flag with the native GEMM); when
   * training, through {@link linear} (weight gradients too).
   */
  private dense(x: tf.Tensor, prefix: string, train: boolean): tf.Tensor {
    const w = this.p(prefix + '.weight');
    const b = this.p(prefix + '.bias');
    return train ? linear(x, w, b) : linearConst(x, w, () => this.params.transposed(prefix + '.weight'), b);
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    return layerNorm(x, this.p(prefix + '.weight'), this.p(prefix + '.bias'), this.config.layerNormEps);
  }

  private act(x: tf.Tensor): tf.Tensor {
    const a = this.config.hiddenAct;
    if (a === 'gelu' || a === 'gelu_python') return geluErf(x);
    if (a === 'gelu_new' || a === 'gelu_pytorch_tanh') {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    if (a === 'relu') return tf.relu(x);
    throw new ConfigError(`unsupported hidden_act "${a}" (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)`);
  }

  /**
   * Validate the input and return ids as a tensor plus batch/seq sizes.
   * @throws Error on empty input, ragged rows, ids out of the vocabulary, or a sequence longer
   *   than the position table.
   */
  private prepareInput(input: ForwardInput): { ids: tf.Tensor2D | null; batch: number; seq: number } {
    const c = this.config;
    let batch: number;
    let seq: number;
    let ids: tf.Tensor2D | null = null;
    if (input.inputsEmbeds) {
      const e = input.inputsEmbeds;
      if (e.rank !== 3 || e.shape[2] !== c.hiddenSize) {
        throw new Error(`inputsEmbeds must be [batch, seq, ${c.hiddenSize}], got [${e.shape}]`);
      }
      [batch, seq] = e.shape as [number, number, number];
    } else if (input.ids) {
      if (input.ids instanceof tf.Tensor) {
        [batch, seq] = input.ids.shape;
        ids = input.ids;
      } else {
        const rows = input.ids;
        batch = rows.length;
        seq = batch ? rows[0].length : 0;
        for (const r of rows) {
          if (r.length !== seq) throw new Error(`ids rows have different lengths (${seq} and ${r.length}); pad them and pass attentionMask`);
          for (const t of r) {
            if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) {
              throw new IndexError(`token id ${t} is outside the vocabulary (size ${c.vocabSize})`);
            }
          }
        }
        ids = null;
      }
    } else {
      throw new Error('forward needs ids or inputsEmbeds');
    }
    if (batch === 0 || seq === 0) throw new Error('empty input: no tokens to run the model on');
    if (seq > c.maxPositionEmbeddings) {
      throw new IndexError(`sequence of ${seq} tokens is longer than the position table (${c.maxPositionEmbeddings} positions)`);
    }
    for (const [name, m] of [
      ['attentionMask', input.attentionMask],
      ['tokenTypeIds', input.tokenTypeIds],
    ] as const) {
      if (m && (m.length !== batch || m.some((r) => r.length !== seq))) {
        throw new Error(`${name} must be [${batch}][${seq}] like the input`);
      }
    }
    if (input.tokenTypeIds?.some((r) => r.some((t) => t < 0 || t >= c.typeVocabSize || !Number.isInteger(t)))) {
      throw new Error(`tokenTypeIds must be integers in 0..${c.typeVocabSize - 1}`);
    }
    return { ids, batch, seq };
  }

  private headMaskTensor(m: ForwardOptions['headMask']): tf.Tensor2D | null {
    if (!m) return null;
    const t = m instanceof tf.Tensor ? m : tf.tensor2d(m.map((r) => r.slice()));
    if (t.shape[0] !== this.layers || t.shape[1] !== this.heads) {
      if (!(m instanceof tf.Tensor)) t.dispose();
      throw new Error(`headMask must be [${this.layers}, ${this.heads}] (layers × heads), got [${t.shape}]`);
    }
    return t;
  }

  /**
   * One instrumented forward pass.
   *
   * Shapes: input `[batch, seq]` ids (or `[batch, seq, hidden]` embeddings); outputs see {@link Trace}.
   * Named nodes in `options.record` are kept (as tensors owned by the trace); `options.hooks` replace
   * a node's value downstream; `options.headMask` `[layers, heads]` scales attention probabilities.
   * The call is differentiable: wrap it in `tf.grad` (recorded nodes then belong to the gradient tape).
   *
   * @throws Error on empty input, a sequence longer than the position table, ids outside the vocabulary,
   *   a mask of the wrong shape, an unknown node name in `hooks`; `MemoryBudgetError` (a MemoryError,
   *   before running) when the pass would not fit the memory budget (see `src/backend/memory.ts`), and
   *   MemoryError when the backend runs out of memory all the same.
   */
  forward(input: ForwardInput, options: ForwardOptions = {}): Trace {
    try {
      return this.forwardPass(input, options);
    } catch (e) {
      const ids = input.ids;
      const shape = Array.isArray(ids) ? `${ids.length} × ${ids[0]?.length ?? 0}` : ids ? ids.shape.join(' × ') : input.inputsEmbeds?.shape.join(' × ');
      return rethrowMemory(e, `forward pass of ${shape} tokens`);
    }
  }

  private forwardPass(input: ForwardInput, options: ForwardOptions): Trace {
    const c = this.config;
    const L = c.numHiddenLayers;
    const H = c.numAttentionHeads;
    const D = c.hiddenSize;
    const { ids: idTensor, batch, seq } = this.prepareInput(input);
    const logitTokens = options.logitsAtFlat ? options.logitsAtFlat.shape[0] : options.logitsAt ? batch * options.logitsAt.length : batch * seq;
    checkPassFits(c, this.head, batch, seq, gradientTapeOn(), logitTokens);
    const keep = recordPredicate(options.record);
    const hooks = options.hooks ?? {};
    for (const name of Object.keys(hooks)) {
      if (!isKnownNode(name, L)) throw new Error(`unknown node "${name}" in hooks (layers 0..${L - 1}; see NODE_NAMES)`);
    }
    const dropout = options.dropout ?? 0;
    const train = options.trainWeights ?? false;
    const drop = (x: tf.Tensor): tf.Tensor => (dropout > 0 ? tf.dropout(x, dropout) : x);
    const kept: [string, tf.Tensor][] = [];
    const nodes: [string, tf.Tensor][] = [];
    const run = () =>
      tf.tidy(() => {
        const at = (name: string, x: tf.Tensor): tf.Tensor => {
          const h: Hook | undefined = hooks[name];
          const y = h ? h(x, name) : x;
          if (keep(name)) nodes.push([name, tf.keep(y)]);
          return y;
        };
        const headMask = this.headMaskTensor(options.headMask);
        // Embeddings.
        let word: tf.Tensor;
        if (input.inputsEmbeds) word = input.inputsEmbeds;
        else {
          const idsT = idTensor ?? tf.tensor2d(input.ids as number[][], [batch, seq], 'int32');
          word = tf.gather(this.p('embeddings.word_embeddings.weight'), idsT.reshape([-1])).reshape([batch, seq, D]);
        }
        word = at('embed.hook_word', word);
        const pos = this.p('embeddings.position_embeddings.weight').slice([0, 0], [seq, D]);
        const typeIds = input.tokenTypeIds ? tf.tensor2d(input.tokenTypeIds, [batch, seq], 'int32') : tf.zeros([batch, seq], 'int32');
        const type = tf.gather(this.p('embeddings.token_type_embeddings.weight'), typeIds.reshape([-1])).reshape([batch, seq, D]);
        let h = at('embed.hook_out', drop(this.layerNorm(tf.add(tf.add(word, pos), type), 'embeddings.LayerNorm')));
        // Additive attention mask [batch, 1, 1, seq].
        const maskAdd = input.attentionMask
          ? tf.mul(tf.sub(1, tf.tensor2d(input.attentionMask, [batch, seq], 'float32')), MASK_NEG).reshape([batch, 1, 1, seq])
          : null;
        // Each layer runs in its own tidy: its intermediates are freed when it ends (tensors a gradient
        // needs are kept by tfjs, recorded nodes by `at`), so a forward pass holds about one layer's
        // activations instead of all of them (forward-only memory ÷ ~layers; less peak under a tape too).
        for (let l = 0; l < L; l++) {
          h = tf.tidy(() => this.layer(l, h, { at, keep, hooks, train, drop, headMask, maskAdd, batch, seq, perHeadResults: options.perHeadResults }));
        }

        let out: tf.Tensor;
        if (this.head === 'mlm') {
          let hs = h;
          if (options.logitsAtFlat) {
            hs = tf.gather(h.reshape([batch * seq, D]), options.logitsAtFlat);
          } else if (options.logitsAt) {
            for (const i of options.logitsAt) {
              if (!Number.isInteger(i) || i < 0 || i >= seq) throw new IndexError(`logitsAt position ${i} is outside 0..${seq - 1}`);
            }
            hs = tf.gather(h, tf.tensor1d(options.logitsAt, 'int32'), 1);
          }
          out = this.mlmLogits(hs, train);
        } else {
          const first = h.slice([0, 0, 0], [batch, 1, D]).reshape([batch, D]);
          const pooled = at('pooler.hook_out', tf.tanh(this.dense(first, 'pooler.dense', train)));
          out = this.head === 'classifier' ? this.dense(drop(pooled), 'classifier', train) : h;
        }
        out = at('head.hook_logits', out);
        if (headMask && !(options.headMask instanceof tf.Tensor)) headMask.dispose();
        for (const [name, t] of nodes) kept.push([name, t]);
        return out;
      });
    let logits: tf.Tensor;
    try {
      logits = run();
    } catch (e) {
      // Recorded nodes are kept as they are made; free them when the pass fails half-way.
      tf.dispose(nodes.map(([, t]) => t));
      throw e;
    }
    const map = new Map<string, tf.Tensor>(kept);
    return new Trace(logits, map, batch, seq, L, H);
  }

  /**
   * Encoder layer `l` (post-LayerNorm block: self-attention, residual, LayerNorm, MLP, residual,
   * LayerNorm) on `hIn` `[batch, seq, hidden]`, recording and hooking its named nodes through `ctx.at`.
   */
  private layer(l: number, hIn: tf.Tensor, ctx: LayerContext): tf.Tensor {
    const { at, keep, hooks, train, drop, headMask, maskAdd, batch, seq } = ctx;
    const c = this.config;
    const H = c.numAttentionHeads;
    const D = c.hiddenSize;
    const dh = D / H;
    const scale = 1 / Math.sqrt(dh);
    const splitHeads = (x: tf.Tensor) => x.reshape([batch, seq, H, dh]).transpose([0, 2, 1, 3]);
    const p = `encoder.layer.${l}.`;
    const n = `blocks.${l}.`;
    const h = at(n + 'hook_resid_pre', hIn);
    const q = at(n + 'attn.hook_q', splitHeads(this.dense(h, p + 'attention.self.query', train)));
    const k = at(n + 'attn.hook_k', splitHeads(this.dense(h, p + 'attention.self.key', train)));
    const v = at(n + 'attn.hook_v', splitHeads(this.dense(h, p + 'attention.self.value', train)));
    // Scores: q · kᵀ / √dh, via an explicit transpose (fast gradient on wasm).
    let scores = tf.mul(matmul(q, k.transpose([0, 1, 3, 2])), scale);
    if (maskAdd) scores = tf.add(scores, maskAdd);
    scores = at(n + 'attn.hook_scores', scores);
    let probs = tf.softmax(scores, -1);
    probs = drop(probs);
    if (headMask) probs = tf.mul(probs, headMask.slice([l, 0], [1, H]).reshape([1, H, 1, 1]));
    probs = at(n + 'attn.hook_pattern', probs);
    const z = at(n + 'attn.hook_z', matmul(probs, v)); // [b, h, s, dh]
    const wo = this.p(p + 'attention.output.dense.weight'); // [in = h·dh, out = d]
    const bo = this.p(p + 'attention.output.dense.bias');
    let attnOut: tf.Tensor;
    const resultName = n + 'attn.hook_result';
    if (ctx.perHeadResults || keep(resultName) || hooks[resultName]) {
      // Per-head outputs: z_h [b·s, dh] · W_O[h·dh:(h+1)·dh, :] for each head, stacked [h, b·s, d].
      const zh = z.transpose([1, 0, 2, 3]).reshape([H, batch * seq, dh]);
      const woh = wo.reshape([H, dh, D]);
      const headOut = train
        ? matmul(zh, woh)
        : matmulConstB(zh, woh, () => this.params.derived(p + 'attention.output.dense.weight per head ᵀ', () => wo.reshape([H, dh, D]).transpose([0, 2, 1])));
      let result = headOut.reshape([H, batch, seq, D]).transpose([1, 2, 0, 3]); // [b, s, h, d]
      result = at(resultName, result);
      attnOut = tf.add(tf.sum(result, 2), bo);
    } else {
      const merged = z.transpose([0, 2, 1, 3]).reshape([batch, seq, D]);
      attnOut = this.dense(merged, p + 'attention.output.dense', train);
    }
    attnOut = at(n + 'hook_attn_out', drop(attnOut));
    const mid = at(n + 'hook_resid_mid', this.layerNorm(tf.add(attnOut, h), p + 'attention.output.LayerNorm'));
    const pre = at(n + 'mlp.hook_pre', this.dense(mid, p + 'intermediate.dense', train));
    const post = at(n + 'mlp.hook_post', this.act(pre));
    const mlpOut = at(n + 'hook_mlp_out', drop(this.dense(post, p + 'output.dense', train)));
    return at(n + 'hook_resid_post', this.layerNorm(tf.add(mlpOut, mid), p + 'output.LayerNorm'));
  }

  /**
   * The MLM head of `BertForMaskedLM`: dense → activation → LayerNorm → tied decoder + bias.
   * @param h `[..., hidden]` → logits `[..., vocab]`.
   */
  mlmLogits(h: tf.Tensor, train = false): tf.Tensor {
    return tf.tidy(() => {
      const t = this.layerNorm(this.act(this.dense(h, 'cls.predictions.transform.dense', train)), 'cls.predictions.transform.LayerNorm');
      const name = 'embeddings.word_embeddings.weight';
      const emb = this.p(name); // [vocab, d]; the decoder is tied to it
      const bias = this.p('cls.predictions.bias');
      return train ? linear(t, emb.transpose(), bias) : linearConst(t, () => this.params.transposed(name), emb, bias);
    });
  }

  /** Dispose all parameters. */
  dispose(): void {
    this.params.dispose();
  }
}

const LAYER_NODE =
  /^blocks\.(\d+)\.(hook_resid_pre|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post|attn\.hook_(q|k|v|scores|pattern|z|result)|mlp\.hook_(pre|post))$/;

/** Whether `name` is a node of a model with `layers` layers. */
export function isKnownNode(name: string, layers: number): boolean {
  if (['embed.hook_word', 'embed.hook_out', 'pooler.hook_out', 'head.hook_logits'].includes(name)) return true;
  const m = LAYER_NODE.exec(name);
  return !!m && Number(m[1]) < layers;
}
