/**
 * The one method contract of flowlens, and the one registry of methods.
 *
 * Every attribution method — attention-based, gradient-based, perturbation-based, or a variant a
 * user writes in a notebook cell — is an {@link Explainer}:
 *
 *     explainer(model, input, target?, options?) → TokenAttribution
 *
 * - `model`: a `LoadedModel` from `loadModel` (model + tokenizer), or a bare `Bert` (then `input`
 *   must be ids).
 * - `input`: a text (tokenised with the model's tokenizer, `[CLS] … [SEP]`), token ids `[seq]`, or an
 *   {@link ExampleInput}.
 * - `target`: a QoI (`classLogit(1)`, `tokenLogitDiff(pos, good, bad)`, …) or a class index of a
 *   sequence classifier (= `classLogit(index)`); default: the predicted class (classifier) or the
 *   predicted token at the first `[MASK]` (masked LM).
 * - `options`: the method's own options (steps, baseline, layer, …).
 *
 * A method is written once as an {@link Attribute} function on the normalised arguments
 * `(bert, example, qoi, options)` and registered with {@link register}, which records what it needs
 * (`'gradients'` or `'forward'` passes only) and its source paper, and returns its Explainer. The
 * built-in methods are registered in `builtins.ts`; {@link explain} runs any registered method by
 * name (compare Captum's `attribute(inputs, target)`, Inseq's `model.attribute(text)`), and the
 * evaluations of `src/eval/evaluate.ts` take any registered method.
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { argmax } from '../model/classify.js';
import { classLogit, tokenLogit, type QoI } from '../model/qoi.js';
import type { SpecialIds, Tokenizer } from '../io/tokenizer.js';
import { IndexError, OptionError, TokenizationError } from '../errors.js';
import type { ExampleInput, TokenAttribution } from './result.js';

/** A model with its tokenizer (a `LoadedModel` from `loadModel` fits). */
export interface ModelWithTokenizer {
  model: Bert;
  tokenizer: Tokenizer;
}

/** What an explainer takes as the model: a loaded model (with tokenizer) or a bare `Bert`. */
export type ModelLike = Bert | ModelWithTokenizer;

/** What an explainer explains: a text, token ids `[seq]`, or one {@link ExampleInput}. */
export type ExplainInput = string | readonly number[] | ExampleInput;

/** What is explained: a QoI, or a class index of a sequence classifier (`classLogit(index)`). */
export type ExplainTarget = QoI | number;

/** What every method receives besides its own options: the tokenizer (when known) and its special ids. */
export interface ExplainContext {
  tokenizer?: Tokenizer;
  /** The tokenizer's special ids (`{}` without a tokenizer); methods that replace tokens need them. */
  specialIds: SpecialIds;
}

/**
 * A method as it is written: normalised arguments in, one {@link TokenAttribution} out.
 *
 * @param model the network; @param example one unpadded sequence (`ids` `[seq]`, `tokens` `[seq]`);
 * @param qoi what to explain; @param options the method's options plus the {@link ExplainContext}.
 * @returns scores `[seq]`, one per token of `example`.
 */
export type Attribute<O = Record<string, unknown>> = (model: Bert, example: ExampleInput, qoi: QoI, options: O & ExplainContext) => TokenAttribution;

/** What a method needs to run: backward passes (`'gradients'`) or only forward passes (`'forward'`). */
export type MethodNeeds = 'gradients' | 'forward';

/** The registry entry of a method (what {@link listMethods} returns). */
export interface MethodInfo {
  /** Registry name (snake_case, e.g. `integrated_gradients`); also the `method` of its results. */
  name: string;
  needs: MethodNeeds;
  /** The source paper, e.g. `Sundararajan et al. 2017, Axiomatic Attribution for Deep Networks (arXiv 1703.01365)`. */
  paper: string;
  /** One line: what the scores are. */
  description?: string;
  /**
   * `'class'`: explains a class of a sequence classifier only (the target must be a class index or a
   * class QoI); `'any'`: any QoI (default).
   */
  targets?: 'any' | 'class';
}

/** What {@link register} takes: the entry and the method itself. */
export interface MethodSpec<O = Record<string, unknown>> extends MethodInfo {
  attribute: Attribute<O>;
}

/**
 * A method in the one contract: `(model, input, target?, options?) → TokenAttribution`, with its
 * registry entry attached as `info`.
 *
 * @throws OptionError for a missing tokenizer (text input), a target the method cannot explain or an
 *   unknown option value; IndexError for a class outside the model's labels; what the method throws.
 */
export interface Explainer<O = Record<string, unknown>> {
  (model: ModelLike, input: ExplainInput, target?: ExplainTarget, options?: O): TokenAttribution;
  readonly info: Readonly<MethodInfo>;
}

const REGISTRY = new Map<string, Explainer<never>>();

/** The `Bert` and tokenizer of a {@link ModelLike}. */
export function splitModel(m: ModelLike): { model: Bert; tokenizer?: Tokenizer } {
  if (m && typeof m === 'object' && 'model' in m && 'tokenizer' in m) return { model: m.model, tokenizer: m.tokenizer };
  return { model: m as Bert };
}

/** The special ids of a tokenizer (`{}` without one). */
export function specialIdsOf(tokenizer: Tokenizer | undefined): SpecialIds {
  return tokenizer ? { clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId, maskId: tokenizer.maskId, unkId: tokenizer.unkId } : {};
}

/**
 * One {@link ExplainInput} as an {@link ExampleInput}: texts are encoded with the tokenizer
 * (truncated to the model's position table), ids are wrapped, examples pass through.
 *
 * @throws OptionError when a text is given without a tokenizer; TokenizationError for an empty text.
 */
export function toExample(model: Bert, input: ExplainInput, tokenizer?: Tokenizer): ExampleInput {
  if (typeof input === 'string') {
    if (!tokenizer) throw new OptionError('a text input needs a tokenizer: pass the loaded model ({ model, tokenizer }, as loadModel returns), or token ids');
    if (input.trim() === '') throw new TokenizationError('empty text: nothing to explain');
    const e = tokenizer.encode(input, { maxLength: model.config.maxPositionEmbeddings });
    return { ids: Array.from(e.ids), tokens: Array.from(e.tokens) };
  }
  if (Array.isArray(input)) return { ids: (input as readonly number[]).slice() };
  const ex = input as ExampleInput;
  if (!ex || !Array.isArray(ex.ids)) throw new OptionError('input must be a text, an array of token ids, or { ids, tokens? }');
  return ex;
}

/**
 * One {@link ExplainTarget} as a QoI: a QoI passes through; a class index becomes `classLogit(index)`
 * (classifiers only); no target means the predicted class (classifier) or the predicted token at the
 * first `[MASK]` (masked LM, `tokenLogit`).
 *
 * @throws IndexError for a class outside the labels; OptionError when the default cannot be built
 *   (a masked LM input without `[MASK]`, a model without a head) or a class is given to a masked LM.
 */
export function toQoI(model: Bert, example: ExampleInput, target: ExplainTarget | undefined, specialIds: SpecialIds = {}): QoI {
  if (typeof target === 'function') return target;
  if (typeof target === 'number') {
    if (model.head !== 'classifier') {
      throw new OptionError(
        `a class index (${target}) is a target of sequence classifiers; this model has the "${model.head}" head: pass a QoI such as tokenLogitDiff(position, good, bad)`,
      );
    }
    const n = model.config.numLabels;
    if (!Number.isInteger(target) || target < 0 || target >= n) throw new IndexError(`target class ${target} is outside 0..${n - 1}`);
    return classLogit(target);
  }
  if (target !== undefined) throw new OptionError('target must be a QoI or a class index');
  if (model.head === 'classifier') {
    const tr = model.forward({ ids: [example.ids], ...(example.tokenTypeIds ? { tokenTypeIds: [example.tokenTypeIds] } : {}) }, { record: 'none' });
    const logits = tr.logits.dataSync();
    tr.dispose();
    return classLogit(argmax(logits));
  }
  if (model.head === 'mlm') {
    const pos = specialIds.maskId === undefined ? -1 : example.ids.indexOf(specialIds.maskId);
    if (pos < 0)
      throw new OptionError('no target given and the input has no [MASK] (or no tokenizer to find it): pass a QoI such as tokenLogitDiff(position, good, bad)');
    const tr = model.forward({ ids: [example.ids] }, { record: 'none', logitsAt: [pos] });
    const logits = tr.logits.dataSync();
    tr.dispose();
    return tokenLogit(pos, argmax(logits));
  }
  throw new OptionError(`no target given and the model has no task head ("${model.head}"): pass a QoI`);
}

/**
 * The class a class-only method explains.
 * @throws OptionError when the QoI is not a class QoI (`classLogit`/`classProb` or a class index).
 */
export function targetClass(qoi: QoI, method: string): number {
  if (qoi.cls === undefined) {
    throw new OptionError(
      `${method} explains a class of a sequence classifier: give a class index or classLogit/classProb as the target (got "${qoi.describe}")`,
    );
  }
  return qoi.cls;
}

/** The output position a QoI reads (`[CLS]` = 0 for class QoIs): the row attention methods read. */
export function outputPosition(qoi: QoI): number {
  return qoi.positions?.[0] ?? 0;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Registers a method under `spec.name` and returns it as an {@link Explainer}. From then on
 * {@link explain}, {@link getExplainer}, the evaluations (`evaluateDegradation`, `evaluateAopc`,
 * `evaluateBlankOutCorrelation`) and the widgets take it by name like the built-in methods.
 *
 * ```ts
 * const gradNorm = register({
 *   name: 'gradient_l2', needs: 'gradients', paper: 'my variant (L2 norm of the input gradient)',
 *   attribute: (model, example, qoi) => ({ ...inputGradient(model, example, qoi, { reduce: 'l2' }), method: 'gradient_l2' }),
 * });
 * ```
 *
 * @param opts.replace allow replacing an existing entry (default false).
 * @throws OptionError for a name that is not snake_case, an existing name (without `replace`), or
 *   `needs`/`paper` missing.
 */
export function register<O = Record<string, unknown>>(spec: MethodSpec<O>, opts: { replace?: boolean } = {}): Explainer<O> {
  if (typeof spec?.name !== 'string' || !NAME.test(spec.name))
    throw new OptionError(`register: method name must be snake_case (a-z, 0-9, _), got "${String(spec?.name)}"`);
  if (REGISTRY.has(spec.name) && !opts.replace)
    throw new OptionError(`register: a method "${spec.name}" is already registered (pass { replace: true } to replace it)`);
  if (spec.needs !== 'gradients' && spec.needs !== 'forward')
    throw new OptionError(`register: ${spec.name}: needs must be 'gradients' or 'forward', got "${String(spec.needs)}"`);
  if (typeof spec.paper !== 'string' || spec.paper.trim() === '') throw new OptionError(`register: ${spec.name}: paper (the source of the method) is required`);
  if (typeof spec.attribute !== 'function')
    throw new OptionError(`register: ${spec.name}: attribute must be a function (model, example, qoi, options) → TokenAttribution`);
  const info: MethodInfo = { name: spec.name, needs: spec.needs, paper: spec.paper, description: spec.description, targets: spec.targets ?? 'any' };
  const explainer = ((m: ModelLike, input: ExplainInput, target?: ExplainTarget, options?: O): TokenAttribution => {
    const { model, tokenizer } = splitModel(m);
    const specialIds = specialIdsOf(tokenizer);
    const example = toExample(model, input, tokenizer);
    const qoi = toQoI(model, example, target, specialIds);
    if (info.targets === 'class') targetClass(qoi, info.name);
    const out = spec.attribute(model, example, qoi, { ...(options as O), tokenizer, specialIds });
    if (!out || !Array.isArray(out.scores) || out.scores.length !== example.ids.length) {
      throw new Error(`${info.name}: the method returned ${out?.scores?.length ?? 'no'} scores for ${example.ids.length} tokens`);
    }
    return { ...out, method: info.name };
  }) as Explainer<O>;
  Object.defineProperty(explainer, 'info', { value: Object.freeze({ ...info }), enumerable: true });
  REGISTRY.set(spec.name, explainer as Explainer<never>);
  return explainer;
}

/** Removes a registered method. @returns whether it was registered. */
export function unregister(name: string): boolean {
  return REGISTRY.delete(name);
}

/**
 * The registered method `name`.
 * @throws OptionError naming the registered methods when `name` is unknown.
 */
export function getExplainer<O = Record<string, unknown>>(name: string): Explainer<O> {
  const e = REGISTRY.get(name);
  if (!e) throw new OptionError(`unknown method "${name}" (registered: ${[...REGISTRY.keys()].join(', ')})`);
  return e as unknown as Explainer<O>;
}

/** Every registered method's entry (name, needs, paper, description, targets), in registration order. */
export function listMethods(): MethodInfo[] {
  return [...REGISTRY.values()].map((e) => ({ ...e.info }));
}

/** Options of {@link explain}: the method, the target, and the method's own options. */
export type ExplainOptions = {
  /** A registered method name (see {@link listMethods}) or an {@link Explainer}. */
  method: string | Explainer<never>;
  /** What to explain (default: the predicted class, or the predicted token at `[MASK]`). */
  target?: ExplainTarget;
} & Record<string, unknown>;

/**
 * Explains one input with one method: `explain(loaded, 'a gripping film', { method: 'integrated_gradients', target: 1, steps: 32 })`.
 *
 * @param model a `LoadedModel` (or `{model, tokenizer}`), or a `Bert` with id input.
 * @param input a text, token ids `[seq]`, or an {@link ExampleInput}.
 * @returns the method's {@link TokenAttribution} (`method` = the registry name).
 * @throws OptionError for an unknown method; what the {@link Explainer} throws.
 */
export function explain(model: ModelLike, input: ExplainInput, options: ExplainOptions): TokenAttribution {
  const { method, target, ...rest } = options;
  const e = typeof method === 'string' ? getExplainer(method) : method;
  return (e as unknown as Explainer)(model, input, target, rest);
}
