/**
 * Marvin & Linzen (2018), "Targeted Syntactic Evaluation of Language Models" (EMNLP): minimal pairs for
 * subject–verb agreement and reflexive anaphora, evaluated the way Goldberg (2019, "Assessing BERT's
 * Syntactic Abilities") evaluates a bidirectional masked LM: the single word where the grammatical and the
 * ungrammatical sentence differ is replaced by `[MASK]`, the model sees both the left and the right
 * context, and the item is correct when it scores the grammatical word above the ungrammatical one.
 *
 * These pairs are an EVALUATION set: nothing here may be used as training data (see
 * `../shared/README.md`). {@link marvinLinzenSentences} exists so that training generators can exclude
 * every evaluation sentence.
 *
 * Data: `../shared/data/marvin-linzen/<construction>.jsonl.gz`, gzip JSON lines
 * `{construction, condition, grammatical, ungrammatical}`, and `terminals.json` (the vocabulary the
 * sentences were generated from), converted from BeckyMarvin/LM_syneval (MIT).
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { sharedPath } from './corpora.js';
import { hashSeed, Rng } from './random.js';

const gunzipAsync = promisify(gunzip);

/** One minimal pair as stored in the files. */
export interface MLPair {
  /** File stem, e.g. `simple_agrmt`, `obj_rel_across_anim`, `reflexives_across`. */
  construction: string;
  /** Number of each noun/verb slot, e.g. `plur_MS_MV_sing_ES_EV` (main subject plural, embedded singular). */
  condition: string;
  grammatical: string;
  ungrammatical: string;
}

/** A pair converted to one masked position (Goldberg 2019). */
export interface MLItem {
  construction: string;
  condition: string;
  /** Words before the masked position. */
  prefixWords: string[];
  /** Words after the masked position. */
  suffixWords: string[];
  /** The grammatical word at the mask (e.g. `laughs`, `themselves`). */
  good: string;
  /** The ungrammatical word at the mask (e.g. `laugh`, `himself`). */
  bad: string;
  /** `reflexive` when the differing word is a reflexive pronoun, else `verb`. */
  kind: 'verb' | 'reflexive';
}

/** Why a pair was skipped by {@link pairToItem}. */
export type MLSkipReason = 'length-mismatch' | 'multi-word-difference' | 'no-difference' | 'not-single-token';

/** Options of {@link loadMarvinLinzen}. */
export interface MLLoadOptions {
  /** Constructions (file stems) to load; default all `*.jsonl.gz` in the folder. */
  constructions?: string[];
  /**
   * Keep at most this many items per construction, sampled with `seed` and balanced over its conditions
   * (round robin over the conditions' shuffled items). Default: all.
   */
  maxPerConstruction?: number;
  /** Seed of that sampling (default 0). */
  seed?: number;
  /**
   * Whether a candidate word is a single token of the model's vocabulary; pairs whose `good` or `bad`
   * fails are skipped as `not-single-token`. Default: every word without whitespace passes.
   */
  isSingleToken?: (word: string) => boolean;
}

/** Result of {@link loadMarvinLinzen}. */
export interface MLSet {
  items: MLItem[];
  /** Pairs read, before skipping and sampling. */
  pairsRead: number;
  /** Counts of skipped pairs by reason (before sampling), and up to 10 examples. */
  skipped: { total: number; byReason: Record<MLSkipReason, number>; examples: { pair: MLPair; reason: MLSkipReason }[] };
}

const REFLEXIVES = new Set(['himself', 'herself', 'itself', 'themselves', 'myself', 'yourself', 'ourselves', 'yourselves']);

/**
 * The default folder: `<shared>/data/marvin-linzen`, with the shared folder found as in
 * {@link sharedPath} (`$FLOWLENS_SHARED`, else `../shared` from the project root).
 */
export function defaultMarvinLinzenDir(): string {
  return sharedPath('data/marvin-linzen');
}

/**
 * The constructions available in `dir`: the stems of its `*.jsonl.gz` files, sorted.
 * @throws Error naming `dir` when it does not exist or holds no `.jsonl.gz` file.
 */
export function listConstructions(dir: string = defaultMarvinLinzenDir()): string[] {
  if (!existsSync(dir)) throw new Error(`Marvin & Linzen folder not found: ${dir} (set FLOWLENS_SHARED to the shared folder)`);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .map((f) => f.slice(0, -'.jsonl.gz'.length))
    .sort();
  if (names.length === 0) throw new Error(`Marvin & Linzen folder ${dir} holds no .jsonl.gz files`);
  return names;
}

function chooseConstructions(dir: string, wanted?: string[]): string[] {
  const all = listConstructions(dir);
  if (!wanted) return all;
  for (const c of wanted) {
    if (!all.includes(c)) throw new Error(`unknown Marvin & Linzen construction "${c}" (in ${dir}: ${all.join(', ')})`);
  }
  return [...wanted];
}

function parsePairs(text: string, file: string): MLPair[] {
  const out: MLPair[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let d: Partial<MLPair>;
    try {
      d = JSON.parse(line) as Partial<MLPair>;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    for (const k of ['construction', 'condition', 'grammatical', 'ungrammatical'] as const) {
      if (typeof d[k] !== 'string') throw new Error(`${file}:${i + 1}: field "${k}" missing or not a string`);
    }
    out.push(d as MLPair);
  });
  return out;
}

/**
 * Reads the raw pairs (synchronously, `zlib.gunzipSync`).
 *
 * @param dir the folder (default {@link defaultMarvinLinzenDir}). @param constructions default all.
 * @returns the pairs, construction by construction in the given (default: sorted) order, file order within.
 * @throws Error naming the folder/file when missing or malformed, or an unknown construction.
 */
export function readMarvinLinzenPairs(dir: string = defaultMarvinLinzenDir(), constructions?: string[]): MLPair[] {
  const out: MLPair[] = [];
  for (const c of chooseConstructions(dir, constructions)) {
    const file = join(dir, `${c}.jsonl.gz`);
    out.push(...parsePairs(gunzipSync(readFileSync(file)).toString('utf8'), file));
  }
  return out;
}

async function readPairsAsync(dir: string, constructions?: string[]): Promise<MLPair[]> {
  const out: MLPair[] = [];
  for (const c of chooseConstructions(dir, constructions)) {
    const file = join(dir, `${c}.jsonl.gz`);
    const buf = await gunzipAsync(readFileSync(file));
    out.push(...parsePairs(buf.toString('utf8'), file));
  }
  return out;
}

/**
 * Converts one pair to a masked item: both sentences are split on single spaces and must differ at
 * exactly one word position, which becomes the mask.
 *
 * Example: `the author laughs` / `the author laugh` → prefix `[the, author]`, suffix `[]`, good `laughs`,
 * bad `laugh`.
 *
 * @param pair the minimal pair. @param isSingleToken optional vocabulary check of `good` and `bad`.
 * @returns the item, or the reason it cannot be one.
 */
export function pairToItem(pair: MLPair, isSingleToken?: (word: string) => boolean): MLItem | { skip: MLSkipReason } {
  const g = pair.grammatical.trim().split(/\s+/);
  const u = pair.ungrammatical.trim().split(/\s+/);
  if (g.length !== u.length) return { skip: 'length-mismatch' };
  const diff: number[] = [];
  for (let i = 0; i < g.length; i++) if (g[i] !== u[i]) diff.push(i);
  if (diff.length === 0) return { skip: 'no-difference' };
  if (diff.length > 1) return { skip: 'multi-word-difference' };
  const at = diff[0] as number;
  const good = g[at] as string;
  const bad = u[at] as string;
  if (isSingleToken && (!isSingleToken(good) || !isSingleToken(bad))) return { skip: 'not-single-token' };
  return {
    construction: pair.construction,
    condition: pair.condition,
    prefixWords: g.slice(0, at),
    suffixWords: g.slice(at + 1),
    good,
    bad,
    kind: REFLEXIVES.has(good) || REFLEXIVES.has(bad) ? 'reflexive' : 'verb',
  };
}

/**
 * Loads the Marvin & Linzen pairs and converts them to masked items (see {@link pairToItem}); pairs that
 * differ in more than one word (or whose candidates fail `isSingleToken`) are skipped and counted.
 *
 * @param dir the folder; default `../shared/data/marvin-linzen` from the project root (or
 *   `$FLOWLENS_SHARED/data/marvin-linzen`).
 * @param opts see {@link MLLoadOptions}.
 * @returns the items (construction order as listed, file order within; sampling keeps file order) and
 *   the skip report.
 * @throws Error naming the folder or file when missing or malformed, or an unknown construction, or a
 *   `maxPerConstruction` that is not a positive integer.
 */
export async function loadMarvinLinzen(dir: string = defaultMarvinLinzenDir(), opts: MLLoadOptions = {}): Promise<MLSet> {
  if (opts.maxPerConstruction !== undefined && !(Number.isInteger(opts.maxPerConstruction) && opts.maxPerConstruction > 0)) {
    throw new Error(`loadMarvinLinzen: maxPerConstruction must be a positive integer, got ${opts.maxPerConstruction}`);
  }
  const pairs = await readPairsAsync(dir, opts.constructions);
  const byReason: Record<MLSkipReason, number> = { 'length-mismatch': 0, 'multi-word-difference': 0, 'no-difference': 0, 'not-single-token': 0 };
  const examples: { pair: MLPair; reason: MLSkipReason }[] = [];
  const items: MLItem[] = [];
  for (const p of pairs) {
    const r = pairToItem(p, opts.isSingleToken);
    if ('skip' in r) {
      byReason[r.skip]++;
      if (examples.length < 10) examples.push({ pair: p, reason: r.skip });
    } else items.push(r);
  }
  const skippedTotal = Object.values(byReason).reduce((a, b) => a + b, 0);
  const result: MLSet = { items, pairsRead: pairs.length, skipped: { total: skippedTotal, byReason, examples } };
  if (opts.maxPerConstruction !== undefined) result.items = sampleBalanced(items, opts.maxPerConstruction, opts.seed ?? 0);
  return result;
}

/** Per construction, at most `max` items, round robin over the conditions' seeded shuffles; file order kept. */
function sampleBalanced(items: MLItem[], max: number, seed: number): MLItem[] {
  const groups = new Map<string, Map<string, number[]>>();
  items.forEach((it, i) => {
    let g = groups.get(it.construction);
    if (!g) groups.set(it.construction, (g = new Map()));
    let c = g.get(it.condition);
    if (!c) g.set(it.condition, (c = []));
    c.push(i);
  });
  const keep: number[] = [];
  for (const [construction, conds] of groups) {
    const rng = new Rng((hashSeed(construction) ^ (seed >>> 0)) >>> 0);
    const lists = [...conds.keys()].sort().map((k) => rng.shuffle([...(conds.get(k) as number[])]));
    let taken = 0;
    for (let round = 0; taken < max; round++) {
      let any = false;
      for (const l of lists) {
        if (round < l.length && taken < max) {
          keep.push(l[round] as number);
          taken++;
          any = true;
        }
      }
      if (!any) break;
    }
  }
  return keep.sort((a, b) => a - b).map((i) => items[i] as MLItem);
}

/**
 * Every sentence of the evaluation set, grammatical and ungrammatical, as stored (single spaces).
 * Training generators use it to exclude the evaluation sentences.
 *
 * @param dir default {@link defaultMarvinLinzenDir}. @returns a set of ~100,000 sentences.
 * @throws Error as {@link readMarvinLinzenPairs}.
 */
export function marvinLinzenSentences(dir: string = defaultMarvinLinzenDir()): Set<string> {
  const out = new Set<string>();
  for (const p of readMarvinLinzenPairs(dir)) {
    out.add(p.grammatical.trim().split(/\s+/).join(' '));
    out.add(p.ungrammatical.trim().split(/\s+/).join(' '));
  }
  return out;
}

/** `terminals.json`: two grammars' terminal symbols, each mapping a symbol (`MS`, `EV`, …) to phrases. */
export interface MLTerminals {
  AgreementTerminals: Record<string, string[]>;
  NPITerminals: Record<string, string[]>;
  [other: string]: Record<string, string[]>;
}

/**
 * Reads `terminals.json`. In `AgreementTerminals`: `MS` animate subject nouns, `ES` embedded-subject
 * nouns, `IS` inanimate nouns, `BS` sentential-complement subjects (all singular; plurals add `s`), `MV`
 * intransitive predicates, `EV` transitive verbs, `IV` inanimate predicates (3rd singular), `P`/`IP`
 * prepositions, `BV` say-verbs, `ANPHR` reflexives, `RMV` past-tense verbs taking reflexives.
 *
 * @throws Error naming the file when it is missing or not an object of string lists.
 */
export function loadTerminals(dir: string = defaultMarvinLinzenDir()): MLTerminals {
  const file = join(dir, 'terminals.json');
  if (!existsSync(file)) throw new Error(`Marvin & Linzen terminals not found: ${file}`);
  const d = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof d !== 'object' || d === null) throw new Error(`${file}: not a JSON object`);
  for (const [g, syms] of Object.entries(d as Record<string, unknown>)) {
    if (typeof syms !== 'object' || syms === null) throw new Error(`${file}: "${g}" is not an object`);
    for (const [s, list] of Object.entries(syms as Record<string, unknown>)) {
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw new Error(`${file}: "${g}.${s}" is not a list of strings`);
    }
  }
  const t = d as MLTerminals;
  if (!t.AgreementTerminals) throw new Error(`${file}: no "AgreementTerminals"`);
  return t;
}

/**
 * Every word the evaluation set can present to a model: all words of all terminal phrases (both
 * grammars) and all words of all sentences (which add the forms absent from the terminals, e.g. `laugh`,
 * `are`, `themselves`, plurals, `security`). A model's vocabulary must hold each as one token.
 *
 * @returns the words, sorted. @throws Error as {@link readMarvinLinzenPairs} / {@link loadTerminals}.
 */
export function marvinLinzenWords(dir: string = defaultMarvinLinzenDir()): string[] {
  const words = new Set<string>();
  const t = loadTerminals(dir);
  for (const syms of Object.values(t)) for (const list of Object.values(syms)) for (const ph of list) for (const w of ph.split(/\s+/)) if (w) words.add(w);
  for (const s of marvinLinzenSentences(dir)) for (const w of s.split(' ')) words.add(w);
  return [...words].sort();
}

/** Scores the two candidates at the mask: `[score(good), score(bad)]`, higher = preferred (e.g. log-probs). */
export type CandidateScorer = (words: string[], maskIndex: number, candidates: [string, string]) => Promise<[number, number]>;

/** One query of a {@link BatchCandidateScorer}. */
export interface ScoreQuery {
  /** `[...prefixWords, '[MASK]', ...suffixWords]`. */
  words: string[];
  maskIndex: number;
  /** `[good, bad]`. */
  candidates: [string, string];
}

/** Scores a batch of queries at once: one `[score(good), score(bad)]` per query, in order. */
export type BatchCandidateScorer = (queries: ScoreQuery[]) => Promise<[number, number][]>;

/** One row of an accuracy table. */
export interface AccuracyRow {
  construction: string;
  /** Items scored. */
  n: number;
  /** Fraction of items with score(good) > score(bad) (ties count as wrong). */
  accuracy: number;
}

/** One row of the per-condition table. */
export interface ConditionAccuracyRow extends AccuracyRow {
  condition: string;
  /**
   * Whether the condition mixes numbers (`sing_…_plur_…` or `plur_…_sing_…`): an attractor or a
   * mismatched second clause, the hard cases.
   */
  mismatch: boolean;
}

/** Result of {@link evaluateAgreement}. */
export interface AgreementReport {
  /** One row per construction, in order of first appearance. */
  byConstruction: AccuracyRow[];
  /** One row per (construction, condition), in order of first appearance. */
  byCondition: ConditionAccuracyRow[];
  /** All items together. */
  overall: { n: number; accuracy: number };
  /** Items whose two scores were equal (counted wrong). */
  ties: number;
}

/** Options of {@link evaluateAgreement} and {@link evaluateAgreementBatched}. */
export interface EvaluateOptions {
  /** Called after each item (or batch) with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Queries per call of a batched scorer (default 64). */
  batchSize?: number;
}

/**
 * Targeted syntactic evaluation (Marvin & Linzen 2018) with a masked LM (Goldberg 2019): for each item
 * calls `score([...prefixWords, '[MASK]', ...suffixWords], prefixWords.length, [good, bad])` and counts
 * the item correct when the first score is strictly greater. Items are scored one at a time, in order.
 *
 * @param items from {@link loadMarvinLinzen}. @param score the model side (abstract here).
 * @returns accuracy per construction, per condition and overall.
 * @throws Error when `score` returns anything but two finite numbers (naming the item).
 */
export async function evaluateAgreement(items: readonly MLItem[], score: CandidateScorer, opts: EvaluateOptions = {}): Promise<AgreementReport> {
  return evaluateAgreementBatched(items, async (qs) => Promise.all(qs.map((q) => score(q.words, q.maskIndex, q.candidates))), { ...opts, batchSize: 1 });
}

/**
 * {@link evaluateAgreement} with a scorer that takes `opts.batchSize` queries at a time (for batched
 * model forwards).
 *
 * @throws Error when the scorer returns a different number of results than queries, or a result that is
 *   not two finite numbers (naming the item), or `batchSize` is not a positive integer.
 */
export async function evaluateAgreementBatched(items: readonly MLItem[], score: BatchCandidateScorer, opts: EvaluateOptions = {}): Promise<AgreementReport> {
  const batchSize = opts.batchSize ?? 64;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`evaluateAgreement: batchSize must be a positive integer, got ${batchSize}`);
  const cons = new Map<string, { n: number; ok: number }>();
  const conds = new Map<string, { construction: string; condition: string; n: number; ok: number }>();
  let ties = 0;
  let ok = 0;
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const queries: ScoreQuery[] = batch.map((it) => ({
      words: [...it.prefixWords, '[MASK]', ...it.suffixWords],
      maskIndex: it.prefixWords.length,
      candidates: [it.good, it.bad],
    }));
    const scores = await score(queries);
    if (!Array.isArray(scores) || scores.length !== queries.length) {
      throw new Error(
        `evaluateAgreement: scorer returned ${Array.isArray(scores) ? scores.length : typeof scores} results for ${queries.length} queries (items ${start}..${start + queries.length - 1})`,
      );
    }
    batch.forEach((it, k) => {
      const s = scores[k];
      const q = queries[k] as ScoreQuery;
      if (!Array.isArray(s) || s.length !== 2 || !Number.isFinite(s[0]) || !Number.isFinite(s[1])) {
        throw new Error(
          `evaluateAgreement: scorer returned ${JSON.stringify(s)} for item ${start + k} ("${q.words.join(' ')}", ${it.good}/${it.bad}); expected two finite numbers`,
        );
      }
      const correct = s[0] > s[1];
      if (s[0] === s[1]) ties++;
      let c = cons.get(it.construction);
      if (!c) cons.set(it.construction, (c = { n: 0, ok: 0 }));
      const key = `${it.construction}\u0000${it.condition}`;
      let d = conds.get(key);
      if (!d) conds.set(key, (d = { construction: it.construction, condition: it.condition, n: 0, ok: 0 }));
      c.n++;
      d.n++;
      if (correct) {
        c.ok++;
        d.ok++;
        ok++;
      }
    });
    opts.onProgress?.(start + batch.length, items.length);
  }
  return {
    byConstruction: [...cons].map(([construction, c]) => ({ construction, n: c.n, accuracy: c.ok / c.n })),
    byCondition: [...conds.values()].map((d) => ({
      construction: d.construction,
      condition: d.condition,
      mismatch: /(^|_)sing_/.test(d.condition) && /(^|_)plur_/.test(d.condition),
      n: d.n,
      accuracy: d.ok / d.n,
    })),
    overall: { n: items.length, accuracy: items.length ? ok / items.length : NaN },
    ties,
  };
}
