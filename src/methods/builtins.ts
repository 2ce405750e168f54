/**
 * The built-in methods, each registered once in the method registry (`explainer.ts`) with what it needs
 * and its source paper, and exported as an {@link Explainer} in the one contract
 * `(model, input, target?, options?) → TokenAttribution`.
 *
 * Attention-based methods read the attention row of the position the target reads (`[CLS]` = 0 for a
 * class, the QoI's position for a token QoI such as `tokenLogitDiff`). Class-only methods (LIME, IBA
 * and the LRP/gradient-map family) take a class index or a class QoI as the target.
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import { attentionStack, type AttentionStack } from './attentionTypes.js';
import { rawTokenImportance, type RawImportanceOptions } from './rawAttention.js';
import { rolloutTokenImportance, type RolloutImportanceOptions } from './rollout.js';
import { flowTokenImportance, type FlowImportanceOptions } from './attentionFlow.js';
import { blankOut, type BlankOutOptions } from './blankOut.js';
import { gradientTimesInput, inputGradient, type InputGradientOptions } from './inputGradient.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integratedGradients.js';
import { lime, type LimeClassifierOptions } from './lime.js';
import { iba, type IbaOptions } from './iba.js';
import { gae } from './gae.js';
import { attcat } from './attcat.js';
import { attentionGradcam, gradcam } from './gradcam.js';
import { fullLrp, lrpLastLayer } from './lrp/lrpMethods.js';
import type { RelevanceOptions } from './lrp/relevance.js';
import { maskLrp, type MaskLrpOptions } from './maskLrp.js';
import { randomAttribution } from './random.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { outputPosition, register, targetClass } from './explainer.js';
import { OptionError } from '../errors.js';

/** The attention probabilities of one example as an {@link AttentionStack} (one forward pass). */
export function attentionOf(model: Bert, example: ExampleInput): AttentionStack {
  const tr = model.forward(
    {
      ids: [example.ids],
      ...(example.tokenTypeIds ? { tokenTypeIds: [example.tokenTypeIds] } : {}),
      ...(example.attentionMask ? { attentionMask: [example.attentionMask] } : {}),
    },
    { record: ['blocks.*.attn.hook_pattern'] },
  );
  try {
    return attentionStack(tr.attentionArray(), model.layers, model.heads, example.ids.length);
  } finally {
    tr.dispose();
  }
}

/** An attention method: the stack's scores for the position the QoI reads. */
function attentionMethod<O extends { layer?: number; position?: number }>(
  name: string,
  scores: (stack: AttentionStack, opts: O) => Float32Array,
): (model: Bert, example: ExampleInput, qoi: QoI, opts: O) => TokenAttribution {
  return (model, example, qoi, opts) => {
    const stack = attentionOf(model, example);
    const layer = opts.layer ?? stack.layers - 1;
    const position = opts.position ?? outputPosition(qoi);
    return tokenAttribution(name, exampleTokens(example), scores(stack, { ...opts, layer, position }), qoi.describe, { layer, meta: { position } });
  };
}

const ABNAR2020 = 'Abnar & Zuidema 2020, Quantifying Attention Flow in Transformers (ACL 2020, arXiv 2005.00928)';
const CHEFER2021A = 'Chefer, Gur & Wolf 2021a, Transformer Interpretability Beyond Attention Visualization (CVPR 2021, arXiv 2012.09838)';

/** Raw attention: the attention row of the output position at one layer (default the last), heads averaged. */
export const rawAttentionExplainer = register<Omit<RawImportanceOptions, 'position'> & { position?: number }>({
  name: 'raw_attention',
  needs: 'forward',
  paper: ABNAR2020,
  description: 'attention weights of the output position at one layer (heads averaged)',
  attribute: attentionMethod('raw_attention', rawTokenImportance),
});

/** Attention rollout (Abnar & Zuidema 2020, §3). */
export const attentionRolloutExplainer = register<RolloutImportanceOptions>({
  name: 'attention_rollout',
  needs: 'forward',
  paper: ABNAR2020,
  description: 'attention rollout: residual-augmented attention multiplied through the layers, row of the output position',
  attribute: attentionMethod('attention_rollout', rolloutTokenImportance),
});

/** Attention flow (Abnar & Zuidema 2020, §3): max-flow from each token to the output position. */
export const attentionFlowExplainer = register<FlowImportanceOptions>({
  name: 'attention_flow',
  needs: 'forward',
  paper: ABNAR2020,
  description: 'attention flow: maximum flow from each input token to the output position in the attention graph',
  attribute: attentionMethod('attention_flow', flowTokenImportance),
});

/** Blank-out (leave-one-out): |QoI(x) − QoI(x with token i replaced)|. */
export const blankOutExplainer = register<BlankOutOptions>({
  name: 'blank_out',
  needs: 'forward',
  paper: `Li, Monroe & Jurafsky 2016, Understanding Neural Networks through Representation Erasure (arXiv 1612.08220); as used by ${ABNAR2020}`,
  description: 'change of the QoI when the token is replaced by [MASK] (or deleted)',
  attribute: (model, example, qoi, o) => blankOut(model, example, qoi, { ...o, specialIds: o.specialIds }),
});

/** Input gradient: reduce over hidden of ∂QoI/∂e_i. */
export const inputGradientExplainer = register<InputGradientOptions>({
  name: 'input_gradient',
  needs: 'gradients',
  paper: 'Simonyan, Vedaldi & Zisserman 2014, Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps (arXiv 1312.6034)',
  description: 'norm of the QoI gradient at each input embedding',
  attribute: (model, example, qoi, o) => inputGradient(model, example, qoi, o),
});

/** Gradient × input: reduce over hidden of e_i ⊙ ∂QoI/∂e_i. */
export const gradientTimesInputExplainer = register<InputGradientOptions>({
  name: 'gradient_x_input',
  needs: 'gradients',
  paper:
    'Shrikumar, Greenside, Shcherbina & Kundaje 2016, Not Just a Black Box: Learning Important Features Through Propagating Activation Differences (arXiv 1605.01713)',
  description: 'input embedding times its QoI gradient, summed over the hidden dimension',
  attribute: (model, example, qoi, o) => gradientTimesInput(model, example, qoi, o),
});

/** Integrated gradients with a `[PAD]` baseline (`sanity` = completeness gap). */
export const integratedGradientsExplainer = register<IntegratedGradientsOptions>({
  name: 'integrated_gradients',
  needs: 'gradients',
  paper: 'Sundararajan, Taly & Yan 2017, Axiomatic Attribution for Deep Networks (ICML 2017, arXiv 1703.01365)',
  description: 'path integral of the QoI gradient from a baseline to the input, times the difference (completeness gap in sanity)',
  attribute: (model, example, qoi, o) => integratedGradients(model, example, qoi, { ...o, specialIds: o.specialIds }),
});

/** LIME on the class probability (`sanity` = weighted R² of the surrogate). */
export const limeExplainer = register<Omit<LimeClassifierOptions, 'target'>>({
  name: 'lime',
  needs: 'forward',
  targets: 'class',
  paper: 'Ribeiro, Singh & Guestrin 2016, "Why Should I Trust You?": Explaining the Predictions of Any Classifier (KDD 2016, arXiv 1602.04938)',
  description: 'coefficients of a weighted linear surrogate fitted to the class probability on random token deletions',
  attribute: (model, example, qoi, o) => lime(model, example, { ...o, specialIds: o.specialIds, target: targetClass(qoi, 'lime') }),
});

/** Per-example information bottleneck (default statistics: `'single-example'`, as the reference code). */
export const ibaExplainer = register<Omit<IbaOptions, 'target' | 'stats'> & { stats?: IbaOptions['stats'] }>({
  name: 'iba',
  needs: 'gradients',
  targets: 'class',
  paper:
    'Jiang, Tang, Jiang & Zhang 2020, Inserting Information Bottlenecks for Attribution in Transformers (EMNLP Findings 2020, arXiv 2012.13838); Schulz et al. 2020 (ICLR, arXiv 2001.00396)',
  description: 'information (KL to the prior, nats) each token keeps through an optimised bottleneck at one layer',
  attribute: (model, example, qoi, o) => iba(model, example, { ...o, stats: o.stats ?? 'single-example', target: targetClass(qoi, 'iba') }),
});

type TraceOptions = RelevanceOptions & Record<string, unknown>;
/** A trace-based class method `(model, example, {target})`, with the target from the QoI. */
function classMethod<O>(name: string, f: (model: Bert, example: ExampleInput, opts: O & { target: number }) => TokenAttribution) {
  return (model: Bert, example: ExampleInput, qoi: QoI, o: O): TokenAttribution => f(model, example, { ...o, target: targetClass(qoi, name) });
}

/** The gradient/relevance map methods of one recorded trace: name, function, paper, what the scores are. */
const TRACE_METHODS: [string, (model: Bert, example: ExampleInput, opts: TraceOptions & { target: number }) => TokenAttribution, string, string][] = [
  [
    'gae',
    gae,
    'Chefer, Gur & Wolf 2021b, Generic Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers (ICCV 2021, arXiv 2103.15679)',
    'gradient-weighted attention accumulated through the layers, [CLS] row',
  ],
  [
    'attcat',
    attcat,
    'Qiang, Pan, Zhao, Liu & Zhu 2022, AttCAT: Explaining Transformers via Attentive Class Activation Tokens (NeurIPS 2022)',
    'attentive class activation tokens: gradient × hidden state weighted by [CLS] attention, summed over layers',
  ],
  [
    'gradcam',
    gradcam,
    'Selvaraju et al. 2017, Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization (ICCV 2017, arXiv 1610.02391)',
    'Grad-CAM on the last layer input',
  ],
  [
    'attention_gradcam',
    attentionGradcam,
    `Grad-CAM (Selvaraju et al. 2017) on the last layer's attention, as the baseline of ${CHEFER2021A}`,
    'gradient-weighted attention of the last layer, [CLS] row',
  ],
  [
    'full_lrp',
    fullLrp,
    `Bach et al. 2015, On Pixel-Wise Explanations by Layer-Wise Relevance Propagation (PLOS ONE); transformer rules of ${CHEFER2021A}`,
    'LRP relevance at the encoder input, summed over the hidden dimension',
  ],
  ['lrp_last_layer', lrpLastLayer, CHEFER2021A, "LRP relevance of the last layer's attention map, [CLS] row"],
];
for (const [name, f, paper, description] of TRACE_METHODS) {
  register<TraceOptions>({ name, needs: 'gradients', targets: 'class', paper, description, attribute: classMethod<TraceOptions>(name, f) });
}

export const transformerAttributionExplainer = register<Omit<MaskLrpOptions, 'target' | 'headMask'>>({
  name: 'transformer_attribution',
  needs: 'gradients',
  targets: 'class',
  paper: CHEFER2021A,
  description: 'gradient × relevance of the attention maps, rolled out through the layers, [CLS] row',
  attribute: classMethod('transformer_attribution', (m, e, o) => maskLrp(m, e, { ...o, headMask: undefined })),
});

export const maskLrpExplainer = register<Omit<MaskLrpOptions, 'target'>>({
  name: 'mask_lrp',
  needs: 'gradients',
  targets: 'class',
  paper: 'Song, Wang, Jiang & Chen 2024, Better Explain Transformers by Illuminating Important Information (EACL Findings 2024, arXiv 2401.09972)',
  description: 'transformer attribution with the relevance of unimportant heads masked (headMask [layers][heads] required)',
  attribute: classMethod('mask_lrp', (m, e, o: MaskLrpOptions & { target: number }) => {
    if (!o.headMask)
      throw new OptionError(
        'mask_lrp needs options.headMask ([layers][heads], 1 keep, 0 mask; see headMask in eval/headStats); without it use transformer_attribution',
      );
    return maskLrp(m, e, o);
  }),
});

/** Uniform random scores (seed option, default 0): the floor every method should beat. */
export const randomExplainer = register<{ seed?: number }>({
  name: 'random',
  needs: 'forward',
  paper: 'the random baseline of Jiang et al. 2020 (arXiv 2012.13838) and Hooker et al. 2019 (arXiv 1806.10758)',
  description: 'uniform random scores in [0, 1) (seeded)',
  attribute: (_model, example, qoi, o) => randomAttribution(exampleTokens(example), o.seed ?? 0, qoi.describe),
});
