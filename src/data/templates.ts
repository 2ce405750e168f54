/**
 * Our own training-sentence generator for the embedded agreement model: English subject–verb agreement
 * and reflexive anaphora in the syntactic environments studied by Linzen et al. (2016) and Marvin & Linzen
 * (2018) — plain subjects, prepositional-phrase and relative-clause attractors, sentential complements,
 * VP coordination, reflexives — written generically (own templates, varied determiners, adjectives,
 * adverbs, tenses, complementisers, questions and existentials), never copying the Marvin & Linzen
 * templates, and never emitting one of their evaluation sentences: by default every sentence of
 * `../shared/data/marvin-linzen` is excluded and redrawn.
 *
 * The vocabulary is an own lexicon merged (by default) with the Marvin & Linzen terminals
 * (`terminals.json`: nouns, verbs, predicates), so that the evaluation words are trained in context
 * without their sentences being seen.
 *
 * Each example carries `targets`: the word positions whose form depends on number agreement (present-tense
 * verbs: is/are, was/were, has/have, does/do, V-s/V; reflexives: himself, herself / themselves), with the
 * ungrammatical alternative, so that training can mask them and track accuracy at `[MASK]` directly (see
 * `../shared/NOTES-tfjs.md`).
 *
 * @module
 */
import { loadTerminals, marvinLinzenSentences, type MLTerminals } from './marvinLinzen.js';
import { Rng } from './random.js';

/** One agreement-dependent position of a generated sentence. */
export interface AgreementTarget {
  /** Word index in `words`. */
  index: number;
  /** The grammatical word at `index` (equal to `words[index]`). */
  good: string;
  /** The same lexeme in the other number (e.g. `laughs` → `laugh`, `themselves` → `himself`). */
  bad: string;
  kind: 'verb' | 'reflexive';
  /** Word index of the head noun it agrees with. */
  controller: number;
  /** Whether the controller is plural. */
  plural: boolean;
  /**
   * Whether another noun of the other number lies between the controller and the target (a linear
   * attractor, Linzen et al. 2016 / Marvin & Linzen's mismatched conditions).
   */
  attractor: boolean;
}

/** The templates (sentence families) of {@link TemplateGenerator}. */
export type TemplateKind =
  | 'simple' // the N (adv) VP
  | 'pp' // the N P the N' VP
  | 'subj_rel' // the N that/who V the N' VP
  | 'obj_rel' // the N (that/who/whom) the N' V VP
  | 'sent_comp' // the N said (that) the N' VP
  | 'vp_coord' // the N VP and/or/but VP
  | 'reflexive' // the N (attractor) V-ed himself/themselves
  | 'question' // does/do the N V … ? / is/are the N … ?
  | 'existential' // there is/are …
  | 'plain'; // past/modal sentences with no agreement target (MLM filler)

/** All template kinds, in a fixed order. */
export const TEMPLATE_KINDS: readonly TemplateKind[] = [
  'simple',
  'pp',
  'subj_rel',
  'obj_rel',
  'sent_comp',
  'vp_coord',
  'reflexive',
  'question',
  'existential',
  'plain',
];

/** One generated example. */
export interface TemplateExample {
  /** Lower-case words; punctuation (`.`, `?`, `,`) as separate words. */
  words: string[];
  /** Agreement-dependent positions (possibly empty, e.g. for `plain`). */
  targets: AgreementTarget[];
  template: TemplateKind;
}

/** Options of {@link TemplateGenerator}. */
export interface TemplateOptions {
  /** PRNG seed (required): the same seed and options give the same sequence. */
  seed: number;
  /** Relative frequency of each template (default {@link DEFAULT_WEIGHTS}); missing keys count 0 when given. */
  weights?: Partial<Record<TemplateKind, number>>;
  /** Merge the Marvin & Linzen terminals into the lexicon (default true). */
  useTerminals?: boolean;
  /** Terminals to use instead of reading `terminals.json` (for tests). */
  terminals?: MLTerminals;
  /** Exclude (redraw) every Marvin & Linzen sentence (default true; reads the evaluation files once). */
  excludeMarvinLinzen?: boolean;
  /** Further sentences (words joined by single spaces) never to emit, with or without a final `.`/`?`/`!`. */
  exclude?: ReadonlySet<string>;
  /** Probability that a noun phrase uses `the` (default 0.55); otherwise another determiner. */
  theProb?: number;
  /** Probability that a noun of a non-controller slot (a potential attractor) has the other number (default 0.5). */
  mismatchProb?: number;
  /** Probability that a declarative sentence ends with `.` (default 0.3; evaluation sentences have none). */
  periodProb?: number;
}

/** Default template weights: agreement-heavy, with attractor templates dominant. */
export const DEFAULT_WEIGHTS: Readonly<Record<TemplateKind, number>> = {
  simple: 1.5,
  pp: 2,
  subj_rel: 2,
  obj_rel: 2,
  sent_comp: 1.5,
  vp_coord: 1.2,
  reflexive: 2,
  question: 0.5,
  existential: 0.5,
  plain: 0.8,
};

// ---------------------------------------------------------------------------------------------------
// Morphology

const IRREGULAR_PLURAL: Record<string, string> = {
  man: 'men',
  woman: 'women',
  child: 'children',
  person: 'people',
  policeman: 'policemen',
  fireman: 'firemen',
};

/**
 * English plural of a noun phrase's last word (`taxi driver` → `taxi drivers`, `city` → `cities`,
 * `box` → `boxes`, irregulars `man`, `woman`, `child`, `person`).
 */
export function pluralize(noun: string): string {
  const parts = noun.split(' ');
  const w = parts[parts.length - 1] as string;
  let p: string;
  if (IRREGULAR_PLURAL[w]) p = IRREGULAR_PLURAL[w] as string;
  else if (/man$/.test(w) && w !== 'human') p = w.slice(0, -3) + 'men';
  else if (/[^aeiou]y$/.test(w)) p = w.slice(0, -1) + 'ies';
  else if (/(s|x|z|ch|sh)$/.test(w)) p = w + 'es';
  else p = w + 's';
  parts[parts.length - 1] = p;
  return parts.join(' ');
}

/** Third-person singular present of a verb's base form (`laugh` → `laughs`, `cry` → `cries`, `have` → `has`). */
export function thirdSingular(base: string): string {
  const irr: Record<string, string> = { have: 'has', be: 'is', do: 'does', go: 'goes' };
  if (irr[base]) return irr[base] as string;
  if (/[^aeiou]y$/.test(base)) return base.slice(0, -1) + 'ies';
  if (/(s|x|z|ch|sh|o)$/.test(base)) return base + 'es';
  return base + 's';
}

/**
 * Base form of a 3rd-singular present verb (`laughs` → `laugh`, `cries` → `cry`, `watches` → `watch`,
 * `has` → `have`, `is` → `be`).
 * @throws Error when `v` does not end in `s` (not a 3rd-singular form).
 */
export function baseOfThirdSingular(v: string): string {
  const irr: Record<string, string> = { has: 'have', is: 'be', does: 'do', goes: 'go' };
  if (irr[v]) return irr[v] as string;
  if (/[^aeiou]ies$/.test(v)) return v.slice(0, -3) + 'y';
  if (/(ss|x|z|ch|sh|o)es$/.test(v)) return v.slice(0, -2);
  if (v.endsWith('s')) return v.slice(0, -1);
  throw new Error(`baseOfThirdSingular: "${v}" is not a 3rd-singular form`);
}

const IRREGULAR_PAST: Record<string, [string, string]> = {
  run: ['ran', 'run'],
  swim: ['swam', 'swum'],
  sing: ['sang', 'sung'],
  eat: ['ate', 'eaten'],
  sleep: ['slept', 'slept'],
  leave: ['left', 'left'],
  read: ['read', 'read'],
  write: ['wrote', 'written'],
  win: ['won', 'won'],
  lose: ['lost', 'lost'],
  sit: ['sat', 'sat'],
  fall: ['fell', 'fallen'],
  speak: ['spoke', 'spoken'],
  hide: ['hid', 'hidden'],
  see: ['saw', 'seen'],
  know: ['knew', 'known'],
  meet: ['met', 'met'],
  teach: ['taught', 'taught'],
  buy: ['bought', 'bought'],
  sell: ['sold', 'sold'],
  build: ['built', 'built'],
  find: ['found', 'found'],
  think: ['thought', 'thought'],
  feel: ['felt', 'felt'],
  hear: ['heard', 'heard'],
  forget: ['forgot', 'forgotten'],
  hurt: ['hurt', 'hurt'],
  cut: ['cut', 'cut'],
  say: ['said', 'said'],
  take: ['took', 'taken'],
  make: ['made', 'made'],
  bring: ['brought', 'brought'],
  get: ['got', 'gotten'],
  have: ['had', 'had'],
  go: ['went', 'gone'],
  do: ['did', 'done'],
  stand: ['stood', 'stood'],
  fight: ['fought', 'fought'],
  drive: ['drove', 'driven'],
  choose: ['chose', 'chosen'],
  begin: ['began', 'begun'],
  understand: ['understood', 'understood'],
  tell: ['told', 'told'],
  give: ['gave', 'given'],
  come: ['came', 'come'],
  cost: ['cost', 'cost'],
  shake: ['shook', 'shaken'],
  keep: ['kept', 'kept'],
  draw: ['drew', 'drawn'],
  catch: ['caught', 'caught'],
};
const DOUBLING = new Set([
  'run',
  'swim',
  'sit',
  'win',
  'stop',
  'shop',
  'chat',
  'jog',
  'plan',
  'begin',
  'forget',
  'hug',
  'grab',
  'drop',
  'hit',
  'get',
  'cut',
  'rob',
]);

/** Simple past of a base form (`laugh` → `laughed`, `smile` → `smiled`, `cry` → `cried`, irregulars). */
export function pastTense(base: string): string {
  if (IRREGULAR_PAST[base]) return IRREGULAR_PAST[base][0];
  if (base.endsWith('e')) return base + 'd';
  if (/[^aeiou]y$/.test(base)) return base.slice(0, -1) + 'ied';
  if (DOUBLING.has(base)) return base + base[base.length - 1] + 'ed';
  return base + 'ed';
}

/** Past participle of a base form (`see` → `seen`, else as {@link pastTense}). */
export function pastParticiple(base: string): string {
  return IRREGULAR_PAST[base] ? IRREGULAR_PAST[base][1] : pastTense(base);
}

/** Present participle (`run` → `running`, `smile` → `smiling`, `see` → `seeing`, `lie` → `lying`). */
export function presentParticiple(base: string): string {
  if (base.endsWith('ie')) return base.slice(0, -2) + 'ying';
  if (base.endsWith('ee') || base === 'be') return base + 'ing';
  if (base.endsWith('e')) return base.slice(0, -1) + 'ing';
  if (DOUBLING.has(base)) return base + base[base.length - 1] + 'ing';
  return base + 'ing';
}

// ---------------------------------------------------------------------------------------------------
// Lexicon

/** A noun entry: singular and plural forms (possibly multi-word compounds) and optional natural gender. */
export interface NounEntry {
  sg: string;
  pl: string;
  gender?: 'm' | 'f';
}

/** The lexicon a generator draws from (all lower-case). */
export interface Lexicon {
  /** People (subjects of all verbs, antecedents of reflexives). */
  animate: NounEntry[];
  /** Things (subjects of inanimate predicates, objects). */
  inanimate: NounEntry[];
  /** Intransitive verbs, base forms. */
  intransitive: string[];
  /** Adjectives predicated of people (`is tall`). */
  animateAdjectives: string[];
  /** Adjectives predicated of things (`is popular`). */
  inanimateAdjectives: string[];
  /** Verbs taking a person as object, base forms. */
  transitiveAnimate: string[];
  /** Verbs with a person subject taking a thing as object, base forms. */
  transitiveInanimate: string[];
  /** Verbs with a thing subject and a person object (`interest`, `bore`), base forms. */
  thingToPerson: string[];
  /** Predicates of things that start with a verb (base form first), e.g. `bring joy to people`. */
  inanimateVerbPhrases: string[][];
  /** Say/think verbs, base forms. */
  sayVerbs: string[];
  /** Verbs taking a reflexive object, base forms; the string may end with a preposition (`laugh at`). */
  reflexiveVerbs: string[];
  /** Prepositions (possibly multi-word) for PP attractors after a person. */
  animatePrepositions: string[];
  /** Prepositions for PP attractors after a thing. */
  inanimatePrepositions: string[];
  /** Prenominal adjectives. */
  attributive: string[];
  /** Pre-verbal adverbs. */
  adverbs: string[];
  /** Sentence-final adjuncts (multi-word allowed). */
  adjuncts: string[];
}

const words = (s: string): string[] => s.trim().split(/\s+/);

function nounEntries(spec: string, gender?: 'm' | 'f'): NounEntry[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((sg) => ({ sg, pl: pluralize(sg), ...(gender ? { gender } : {}) }));
}

/** Our own lexicon (before merging the Marvin & Linzen terminals). */
export function ownLexicon(): Lexicon {
  return {
    animate: [
      ...nounEntries(
        'doctor, nurse, student, lawyer, singer, writer, painter, player, soldier, worker, friend, neighbor, actor, baker, judge, clerk, coach, engineer, guest, host, hunter, leader, poet, reporter, sailor, scientist, tourist, visitor, journalist, musician, artist, director, professor, athlete, gardener, mayor, child, person, pianist, lawmaker, cook, banker, mechanic, security guard, police officer, bus driver, school teacher, tennis player, news reporter, bank manager, museum guard, film director, student nurse',
      ),
      ...nounEntries('man, boy, king, brother, father, uncle, son, prince, husband, gentleman', 'm'),
      ...nounEntries('woman, girl, queen, sister, mother, aunt, daughter, wife, lady', 'f'),
    ],
    inanimate: nounEntries(
      'car, house, letter, story, film, play, report, album, photo, article, idea, plan, product, design, map, speech, lecture, meal, dish, box, church, city, company, building, bridge, road, computer, phone, garden, window, door, table, chair, clock, museum, restaurant, hotel, question, answer, problem, rule, law, program, project, exhibit, concert, essay, lamp, poster, radio, magazine, newspaper, recipe, sculpture, statue, television show',
    ),
    intransitive: words(
      'laugh swim smile sleep run sing dance wait work talk walk cry jump shout listen travel rest win lose complain agree leave arrive read write cook eat worry study play sit stay pray fall speak argue hide relax',
    ),
    animateAdjectives: words(
      'tall old young short happy tired busy hungry late ready angry famous rich kind sick nervous quiet here away right wrong smart strong friendly upset asleep lonely brave honest polite proud',
    ),
    inanimateAdjectives: words(
      'good bad new popular unpopular long boring famous great cheap expensive interesting funny sad old short simple strange beautiful useful ready broken empty small large free important excellent terrible',
    ),
    transitiveAnimate: words(
      'like admire hate love see know help meet follow call watch trust visit thank blame praise ignore remember need miss criticize support annoy respect understand greet hire envy fear amuse recognize invite interview teach avoid',
    ),
    transitiveInanimate: words(
      'read write buy sell build fix like love hate want need find describe enjoy paint study own visit design review recommend watch open clean',
    ),
    thingToPerson: words('interest bore please amuse surprise confuse inspire scare excite annoy impress worry'),
    inanimateVerbPhrases: [
      'bring joy to people',
      'interest people',
      'please critics',
      'sell well',
      'cost a lot',
      'win prizes',
      'surprise readers',
      'attract tourists',
      'look nice',
      'need work',
      'take time',
      'make sense',
      'matter',
      'last long',
      'work well',
      'help people',
      'confuse readers',
    ].map(words),
    sayVerbs: words('say think know believe claim hear hope feel notice mention explain guess suspect agree realize remember forget fear announce'),
    reflexiveVerbs: [
      'hurt',
      'injure',
      'congratulate',
      'embarrass',
      'disguise',
      'hate',
      'doubt',
      'blame',
      'praise',
      'cut',
      'see',
      'teach',
      'introduce',
      'defend',
      'help',
      'trust',
      'fool',
      'surprise',
      'describe',
      'prepare',
      'enjoy',
      'protect',
      'push',
      'ask',
      'remind',
      'question',
      'amuse',
      'criticize',
      'admire',
      'wash',
      'calm',
      'laugh at',
      'look at',
      'talk to',
      'worry about',
      'write about',
      'think about',
      'believe in',
      'care for',
    ],
    animatePrepositions: ['near', 'behind', 'beside', 'next to', 'with', 'without', 'of', 'close to', 'opposite', 'from', 'for'],
    inanimatePrepositions: ['of', 'from', 'by', 'about', 'for', 'near', 'behind', 'with', 'on', 'in', 'without'],
    attributive: words('old young new famous local small big good bad strange popular little nice clever tired friendly quiet busy'),
    adverbs: words('often always never usually really also still sometimes rarely probably certainly'),
    adjuncts: [
      'today',
      'again',
      'every day',
      'at night',
      'in the morning',
      'at home',
      'on sunday',
      'in the garden',
      'at work',
      'after lunch',
      'yesterday',
      'all the time',
    ],
  };
}

/** Verb phrase of a terminal like `brings joy to people` / `is old` → base-form words, or undefined for copulas. */
function terminalPredicate(phrase: string): { kind: 'adj'; adj: string } | { kind: 'vp'; words: string[] } {
  const w = words(phrase);
  if (w[0] === 'is') return { kind: 'adj', adj: w.slice(1).join(' ') };
  return { kind: 'vp', words: [baseOfThirdSingular(w[0] as string), ...w.slice(1)] };
}

/**
 * Merges the Marvin & Linzen terminals into `lex` (nouns `MS`, `ES`, `BS` animate, `IS` inanimate;
 * `MV`/`IV` predicates; `EV` transitive; `BV` say-verbs; `RMV` reflexive verbs; `P`/`IP` prepositions).
 * Single-word adjectives and base forms only; multi-word `MV`s (`LMV`) are not used.
 *
 * @returns a new lexicon (entries deduplicated, order: own first).
 */
export function mergeTerminals(lex: Lexicon, t: MLTerminals): Lexicon {
  const a = t.AgreementTerminals;
  const get = (k: string): string[] => a[k] ?? [];
  const out: Lexicon = JSON.parse(JSON.stringify(lex)) as Lexicon;
  const addNouns = (list: NounEntry[], sgs: string[]): void => {
    for (const sg of sgs) if (!list.some((n) => n.sg === sg)) list.push({ sg, pl: pluralize(sg) });
  };
  addNouns(out.animate, [...get('MS'), ...get('ES'), ...get('BS')]);
  addNouns(out.inanimate, get('IS'));
  const addAll = (list: string[], xs: string[]): void => {
    for (const x of xs) if (!list.includes(x)) list.push(x);
  };
  for (const p of get('MV')) {
    const t2 = terminalPredicate(p);
    if (t2.kind === 'adj') addAll(out.animateAdjectives, [t2.adj]);
    else if (t2.words.length === 1) addAll(out.intransitive, t2.words);
  }
  for (const p of get('IV')) {
    const t2 = terminalPredicate(p);
    if (t2.kind === 'adj') addAll(out.inanimateAdjectives, [t2.adj]);
    else if (!out.inanimateVerbPhrases.some((v) => v.join(' ') === t2.words.join(' '))) out.inanimateVerbPhrases.push(t2.words);
  }
  addAll(
    out.transitiveAnimate,
    get('EV').map((v) => baseOfThirdSingular(v)),
  );
  // BV and RMV are past tense: mapped back to base forms known to the lexicon (unknown ones are dropped,
  // since "-ed" is ambiguous: injur-ed vs injure-d).
  const knownBases = [
    ...out.sayVerbs,
    ...out.reflexiveVerbs,
    ...out.transitiveAnimate,
    ...out.transitiveInanimate,
    ...out.intransitive,
    ...Object.keys(IRREGULAR_PAST),
  ];
  const pastToBase = (p: string): string | undefined => knownBases.find((b) => pastTense(b) === p);
  addAll(
    out.sayVerbs,
    get('BV')
      .map(pastToBase)
      .filter((x): x is string => !!x),
  );
  addAll(
    out.reflexiveVerbs,
    get('RMV')
      .map(pastToBase)
      .filter((x): x is string => !!x),
  );
  addAll(out.animatePrepositions, [...get('P'), ...get('IP')]);
  addAll(out.inanimatePrepositions, get('IP'));
  return out;
}

/**
 * Every word the lexicon can produce (all inflected forms, function words, punctuation), sorted. Used to
 * make sure the model's vocabulary holds all of them as whole tokens.
 */
export function lexiconWords(lex: Lexicon): string[] {
  const out = new Set<string>();
  const add = (s: string): void => {
    for (const w of words(s)) out.add(w);
  };
  for (const l of [FUNCTION_WORDS, INTENSIFIERS, MODALS, ADJ_PREPS, PLACE_PREPS, OPENERS, NEUTRAL_DETS, PLURAL_DETS, SINGULAR_DETS, EXIST_PLURAL_DETS])
    for (const s of l) add(s);
  for (const n of [...lex.animate, ...lex.inanimate]) {
    add(n.sg);
    add(n.pl);
  }
  const verbs = [
    ...lex.intransitive,
    ...lex.transitiveAnimate,
    ...lex.transitiveInanimate,
    ...lex.thingToPerson,
    ...lex.sayVerbs,
    ...lex.reflexiveVerbs.map((v) => words(v)[0] as string),
    ...lex.inanimateVerbPhrases.map((v) => v[0] as string),
  ];
  for (const v of verbs) for (const f of [v, thirdSingular(v), pastTense(v), pastParticiple(v), presentParticiple(v)]) add(f);
  for (const l of [
    lex.animateAdjectives,
    lex.inanimateAdjectives,
    lex.animatePrepositions,
    lex.inanimatePrepositions,
    lex.attributive,
    lex.adverbs,
    lex.adjuncts,
    lex.reflexiveVerbs,
  ])
    for (const s of l) add(s);
  for (const vp of lex.inanimateVerbPhrases) for (const w of vp) out.add(w);
  return [...out].sort();
}

// ---------------------------------------------------------------------------------------------------
// Generation

interface Pending {
  index: number;
  good: string;
  bad: string;
  kind: 'verb' | 'reflexive';
  controller: number;
  plural: boolean;
}

class Builder {
  readonly words: string[] = [];
  /** Head nouns: word index and number. */
  readonly nouns: { index: number; plural: boolean }[] = [];
  readonly targets: Pending[] = [];
  push(...ws: string[]): void {
    for (const w of ws) this.words.push(...words(w));
  }
  /** Pushes a verb form agreeing with a controller; records the target. */
  verb(sg: string, pl: string, ctrl: Subject): void {
    this.targets.push({
      index: this.words.length,
      good: ctrl.plural ? pl : sg,
      bad: ctrl.plural ? sg : pl,
      kind: 'verb',
      controller: ctrl.head,
      plural: ctrl.plural,
    });
    this.words.push(ctrl.plural ? pl : sg);
  }
}

/** A realised noun phrase's head. */
interface Subject {
  head: number;
  plural: boolean;
  animate: boolean;
  gender?: 'm' | 'f';
}

const COPULA = { present: ['is', 'are'], past: ['was', 'were'] } as const;
const INTENSIFIERS = ['very', 'really', 'not', 'quite', 'always', 'often', 'still'];
const MODALS = ['will', 'can', 'could', 'would', 'should', 'might'];
const ADJ_PREPS = ['proud of', 'angry with', 'sure of', 'ashamed of', 'pleased with', 'afraid of'];
const PLACE_PREPS = ['in', 'near', 'behind', 'at', 'on', 'outside', 'inside'];
const OPENERS = ['later', 'then', 'at first', 'in the end', 'after that', 'of course'];
const NEUTRAL_DETS = ['my', 'our', 'your', 'his', 'her', 'their', 'the'];
const PLURAL_DETS = ['these', 'those', 'some', 'many', 'several', 'two', 'three', 'few', 'no'];
const SINGULAR_DETS = ['this', 'that', 'every', 'one', 'no'];
const EXIST_PLURAL_DETS = ['some', 'many', 'two', 'three', 'no', 'several', 'few'];
const FUNCTION_WORDS = [
  'a',
  'an',
  'the',
  'there',
  'and',
  'or',
  'but',
  'who',
  'whom',
  'which',
  'that',
  'is',
  'are',
  'was',
  'were',
  'has',
  'have',
  'does',
  'do',
  'himself',
  'herself',
  'themselves',
  ',',
  '.',
  '?',
];

/**
 * Seeded generator of agreement training sentences (see the module comment).
 *
 * Usage: `const g = new TemplateGenerator({ seed: 1 }); const ex = g.next();` →
 * `{ words: ['the', 'doctors', 'near', 'the', 'king', 'often', 'laugh'], targets: [{ index: 6, good: 'laugh',
 * bad: 'laughs', kind: 'verb', controller: 1, plural: true, attractor: true }], template: 'pp' }`.
 */
export class TemplateGenerator {
  /** The lexicon in use (own words merged with the terminals unless `useTerminals: false`). */
  readonly lexicon: Lexicon;
  private readonly rng: Rng;
  private readonly weights: Record<TemplateKind, number>;
  private readonly exclude: ReadonlySet<string>[];
  private readonly theProb: number;
  private readonly mismatchProb: number;
  private readonly periodProb: number;
  /** Sentences redrawn because they were excluded. */
  rejected = 0;

  /**
   * @param opts see {@link TemplateOptions}.
   * @throws Error when the seed is missing, a weight is negative or all weights are 0, or the terminals /
   *   evaluation files cannot be read (naming the file).
   */
  constructor(opts: TemplateOptions) {
    if (!Number.isFinite(opts?.seed)) throw new Error(`TemplateGenerator: opts.seed must be a finite number, got ${opts?.seed}`);
    this.rng = new Rng(opts.seed);
    const base = ownLexicon();
    this.lexicon = opts.useTerminals === false ? base : mergeTerminals(base, opts.terminals ?? loadTerminals());
    const w = { ...(opts.weights ? Object.fromEntries(TEMPLATE_KINDS.map((k) => [k, 0])) : DEFAULT_WEIGHTS), ...(opts.weights ?? {}) } as Record<
      TemplateKind,
      number
    >;
    for (const k of Object.keys(w)) {
      if (!TEMPLATE_KINDS.includes(k as TemplateKind))
        throw new Error(`TemplateGenerator: unknown template "${k}" in opts.weights (known: ${TEMPLATE_KINDS.join(', ')})`);
      if (!(w[k as TemplateKind] >= 0)) throw new Error(`TemplateGenerator: weight of "${k}" must be ≥ 0, got ${w[k as TemplateKind]}`);
    }
    if (!TEMPLATE_KINDS.some((k) => w[k] > 0)) throw new Error('TemplateGenerator: all template weights are 0');
    this.weights = w;
    this.exclude = [];
    if (opts.excludeMarvinLinzen ?? true) this.exclude.push(cachedMarvinLinzenSentences());
    if (opts.exclude) this.exclude.push(opts.exclude);
    this.theProb = opts.theProb ?? 0.55;
    this.mismatchProb = opts.mismatchProb ?? 0.5;
    this.periodProb = opts.periodProb ?? 0.3;
  }

  /** The next example, template drawn by weight. */
  next(): TemplateExample {
    return this.nextOf(this.rng.weighted(this.weights));
  }

  /** `n` examples. */
  generate(n: number): TemplateExample[] {
    const out: TemplateExample[] = [];
    for (let i = 0; i < n; i++) out.push(this.next());
    return out;
  }

  /**
   * The next example of a given template, redrawn while it is excluded (up to 1,000 times).
   * @throws Error for an unknown template, or when 1,000 draws in a row were excluded.
   */
  nextOf(template: TemplateKind): TemplateExample {
    if (!TEMPLATE_KINDS.includes(template)) throw new Error(`TemplateGenerator.nextOf: unknown template "${template}"`);
    for (let attempt = 0; attempt < 1000; attempt++) {
      const b = new Builder();
      this.build(template, b);
      // Excluded also with its final punctuation removed (e.g. "the author laughs ." is an evaluation sentence).
      const sentence = b.words.join(' ');
      const bare = b.words.length > 1 && /^[.?!]$/.test(b.words[b.words.length - 1] as string) ? b.words.slice(0, -1).join(' ') : sentence;
      if (this.exclude.some((s) => s.has(sentence) || s.has(bare))) {
        this.rejected++;
        continue;
      }
      const targets = b.targets.map((t) => ({ ...t, attractor: this.hasAttractor(b, t) }));
      return { words: b.words, targets, template };
    }
    throw new Error(`TemplateGenerator: 1000 consecutive "${template}" sentences were excluded`);
  }

  private hasAttractor(b: Builder, t: Pending): boolean {
    const lo = Math.min(t.controller, t.index);
    const hi = Math.max(t.controller, t.index);
    return b.nouns.some((n) => n.index > lo && n.index < hi && n.plural !== t.plural);
  }

  // --- pieces -------------------------------------------------------------------------------------

  private determiner(plural: boolean, next: string): string {
    const r = this.rng;
    if (r.chance(this.theProb)) return 'the';
    if (r.chance(0.6)) return r.pick(NEUTRAL_DETS);
    if (plural) return r.pick(PLURAL_DETS);
    const a = /^[aeiou]/.test(next) ? 'an' : 'a';
    return r.chance(0.3) ? a : r.pick(SINGULAR_DETS);
  }

  /** Pushes a noun phrase; returns its head. `plural` forced when given. */
  private np(b: Builder, animate: boolean, plural: boolean, opts: { adjProb?: number } = {}): Subject {
    const r = this.rng;
    const entry = r.pick(animate ? this.lexicon.animate : this.lexicon.inanimate);
    const noun = plural ? entry.pl : entry.sg;
    const adj = r.chance(opts.adjProb ?? 0.15) ? r.pick(this.lexicon.attributive) : undefined;
    b.push(this.determiner(plural, adj ?? noun));
    if (adj) b.push(adj);
    b.push(noun);
    const head = b.words.length - 1;
    b.nouns.push({ index: head, plural });
    return { head, plural, animate, ...(entry.gender ? { gender: entry.gender } : {}) };
  }

  private otherNumber(plural: boolean): boolean {
    return this.rng.chance(this.mismatchProb) ? !plural : plural;
  }

  /** Pushes a PP modifying a noun of the given animacy. */
  private pp(b: Builder, headAnimate: boolean, headPlural: boolean): void {
    const r = this.rng;
    b.push(r.pick(headAnimate ? this.lexicon.animatePrepositions : this.lexicon.inanimatePrepositions));
    this.np(b, r.chance(0.7), this.otherNumber(headPlural));
  }

  /**
   * Pushes a predicate agreeing with `subj`. `agree: false` gives a past/modal predicate with no target.
   * `simpleOnly` restricts to one-or-two-word predicates (used inside clauses).
   */
  private vp(b: Builder, subj: Subject, agree = true, simpleOnly = false): void {
    const r = this.rng;
    const L = this.lexicon;
    if (!agree) {
      const pick = r.int(3);
      if (pick === 0) b.push(r.pick(MODALS));
      if (subj.animate) {
        const v = r.pick(L.intransitive);
        b.push(pick === 0 ? v : pastTense(v));
      } else {
        const vp = r.pick(L.inanimateVerbPhrases);
        b.push(pick === 0 ? (vp[0] as string) : pastTense(vp[0] as string), ...vp.slice(1));
      }
      return;
    }
    if (!subj.animate) {
      if (r.chance(0.5)) {
        const past = r.chance(0.2);
        b.verb(past ? 'was' : 'is', past ? 'were' : 'are', subj);
        if (r.chance(0.1)) b.push(r.pick(INTENSIFIERS));
        b.push(r.pick(L.inanimateAdjectives));
      } else if (r.chance(0.8) || simpleOnly) {
        const vp = r.pick(L.inanimateVerbPhrases);
        if (r.chance(0.1)) b.push(r.pick(L.adverbs));
        b.verb(thirdSingular(vp[0] as string), vp[0] as string, subj);
        b.push(...vp.slice(1));
      } else {
        const v = r.pick(L.thingToPerson);
        b.verb(thirdSingular(v), v, subj);
        this.np(b, true, this.otherNumber(subj.plural));
      }
      return;
    }
    const kind = r.weighted(simpleOnly ? { intr: 4, cop: 3, trans: 2, perf: 0, prog: 0, past: 0 } : { intr: 4, cop: 3, trans: 3, perf: 1, prog: 1, past: 0.8 });
    if (kind !== 'cop' && r.chance(0.12)) b.push(r.pick(L.adverbs));
    switch (kind) {
      case 'intr': {
        const v = r.pick(L.intransitive);
        b.verb(thirdSingular(v), v, subj);
        if (!simpleOnly && r.chance(0.15)) b.push(r.pick(L.adjuncts));
        return;
      }
      case 'cop': {
        const past = r.chance(0.25);
        b.verb(past ? COPULA.past[0] : COPULA.present[0], past ? COPULA.past[1] : COPULA.present[1], subj);
        if (r.chance(0.12)) b.push(r.pick(INTENSIFIERS));
        b.push(r.pick(L.animateAdjectives));
        return;
      }
      case 'trans': {
        if (r.chance(0.6)) {
          const v = r.pick(L.transitiveAnimate);
          b.verb(thirdSingular(v), v, subj);
          this.np(b, true, this.otherNumber(subj.plural));
        } else {
          const v = r.pick(L.transitiveInanimate);
          b.verb(thirdSingular(v), v, subj);
          this.np(b, false, r.chance(0.5));
        }
        return;
      }
      case 'perf': {
        b.verb('has', 'have', subj);
        if (r.chance(0.5)) b.push(pastParticiple(r.pick(L.intransitive)));
        else {
          b.push(pastParticiple(r.pick(L.transitiveAnimate)));
          this.np(b, true, this.otherNumber(subj.plural));
        }
        return;
      }
      case 'prog': {
        const past = r.chance(0.3);
        b.verb(past ? 'was' : 'is', past ? 'were' : 'are', subj);
        b.push(presentParticiple(r.pick(L.intransitive)));
        return;
      }
      default: {
        // past tense: no agreement target, but keeps the model from expecting a target after every subject.
        b.push(pastTense(r.pick(L.intransitive)));
      }
    }
  }

  /** Pushes a reflexive pronoun agreeing with `subj`. */
  private reflexive(b: Builder, subj: Subject): void {
    const r = this.rng;
    const sg = subj.gender === 'f' ? 'herself' : subj.gender === 'm' ? 'himself' : r.pick(['himself', 'herself']);
    const good = subj.plural ? 'themselves' : sg;
    const bad = subj.plural ? (subj.gender === 'f' ? 'herself' : subj.gender === 'm' ? 'himself' : r.pick(['himself', 'herself'])) : 'themselves';
    b.targets.push({ index: b.words.length, good, bad, kind: 'reflexive', controller: subj.head, plural: subj.plural });
    b.words.push(good);
  }

  /** Pushes a subject NP (animate with probability pAnimate) with optional postmodifier. */
  private subject(b: Builder, pAnimate = 0.75): Subject {
    return this.np(b, this.rng.chance(pAnimate), this.rng.chance(0.5));
  }

  private end(b: Builder): void {
    if (this.rng.chance(this.periodProb)) b.push('.');
  }

  private build(t: TemplateKind, b: Builder): void {
    const r = this.rng;
    const L = this.lexicon;
    switch (t) {
      case 'simple': {
        const s = this.subject(b);
        this.vp(b, s);
        break;
      }
      case 'pp': {
        const s = this.subject(b);
        this.pp(b, s.animate, s.plural);
        if (r.chance(0.15)) this.pp(b, true, s.plural);
        this.vp(b, s);
        break;
      }
      case 'subj_rel': {
        const s = this.subject(b);
        b.push(s.animate ? r.pick(['that', 'who', 'who']) : r.pick(['that', 'which']));
        if (r.chance(0.15)) b.push(r.pick(L.adverbs));
        if (s.animate) {
          const useThing = r.chance(0.3);
          const v = useThing ? r.pick(L.transitiveInanimate) : r.pick(L.transitiveAnimate);
          if (r.chance(0.2)) {
            b.push(pastTense(v));
          } else b.verb(thirdSingular(v), v, s);
          this.np(b, !useThing, this.otherNumber(s.plural));
        } else {
          const v = r.pick(L.thingToPerson);
          b.verb(thirdSingular(v), v, s);
          this.np(b, true, this.otherNumber(s.plural));
        }
        if (r.chance(0.1)) b.push(r.pick(L.adjuncts));
        this.vp(b, s);
        break;
      }
      case 'obj_rel': {
        const s = this.subject(b);
        const rel = r.weighted<string>(s.animate ? { that: 3, who: 2, whom: 1, none: 2 } : { that: 4, which: 2, none: 2 });
        if (rel !== 'none') b.push(rel);
        const e = this.np(b, true, this.otherNumber(s.plural));
        if (r.chance(0.12)) b.push(r.pick(L.adverbs));
        const v = s.animate ? r.pick(L.transitiveAnimate) : r.pick(L.transitiveInanimate);
        const form = r.weighted({ present: 6, past: 2, perfect: 1 });
        if (form === 'present') b.verb(thirdSingular(v), v, e);
        else if (form === 'past') b.push(pastTense(v));
        else {
          b.verb('has', 'have', e);
          b.push(pastParticiple(v));
        }
        this.vp(b, s);
        break;
      }
      case 'sent_comp': {
        const m = this.np(b, true, r.chance(0.5));
        const say = r.pick(L.sayVerbs);
        if (r.chance(0.3)) b.verb(thirdSingular(say), say, m);
        else b.push(pastTense(say));
        if (r.chance(0.6)) b.push('that');
        const e = this.np(b, r.chance(0.75), this.otherNumber(m.plural));
        if (r.chance(0.25)) this.pp(b, e.animate, e.plural);
        this.vp(b, e);
        break;
      }
      case 'vp_coord': {
        const s = this.subject(b, 0.85);
        this.vp(b, s, true, true);
        if (r.chance(0.15)) b.push(',');
        b.push(r.pick(['and', 'and', 'and', 'or', 'but']));
        if (r.chance(0.1)) b.push(r.pick(L.adverbs));
        this.vp(b, s, true, true);
        break;
      }
      case 'reflexive': {
        const s = this.np(b, true, r.chance(0.5));
        const attr = r.weighted({ none: 3, pp: 2, subj_rel: 1, obj_rel: 2 });
        if (attr === 'pp') this.pp(b, true, s.plural);
        else if (attr === 'subj_rel') {
          b.push(r.pick(['that', 'who']));
          const v = r.pick(L.transitiveAnimate);
          b.verb(thirdSingular(v), v, s);
          this.np(b, true, this.otherNumber(s.plural));
        } else if (attr === 'obj_rel') {
          const rel = r.pick(['that', 'who', 'whom', '']);
          if (rel) b.push(rel);
          const e = this.np(b, true, this.otherNumber(s.plural));
          const v = r.pick(L.transitiveAnimate);
          if (r.chance(0.7)) b.verb(thirdSingular(v), v, e);
          else b.push(pastTense(v));
        }
        const rv = words(r.pick(L.reflexiveVerbs));
        const tense = r.weighted({ past: 5, present: 2, modal: 1, copula: 1 });
        if (tense === 'copula') {
          const cop = r.chance(0.7) ? COPULA.present : COPULA.past;
          b.verb(cop[0], cop[1], s);
          b.push(r.pick(ADJ_PREPS));
        } else {
          if (tense === 'present') b.verb(thirdSingular(rv[0] as string), rv[0] as string, s);
          else if (tense === 'modal') b.push(r.pick(MODALS), rv[0] as string);
          else b.push(pastTense(rv[0] as string));
          b.push(...rv.slice(1));
        }
        this.reflexive(b, s);
        if (r.chance(0.2)) b.push(r.pick(L.adjuncts));
        break;
      }
      case 'question': {
        if (r.chance(0.5)) {
          // does/do the N V …?
          const idx = b.words.length;
          b.push('does');
          const s = this.subject(b);
          const good = s.plural ? 'do' : 'does';
          b.words[idx] = good;
          b.targets.push({ index: idx, good, bad: s.plural ? 'does' : 'do', kind: 'verb', controller: s.head, plural: s.plural });
          if (s.animate) {
            if (r.chance(0.5)) b.push(r.pick(L.intransitive));
            else {
              b.push(r.pick(L.transitiveAnimate));
              this.np(b, true, this.otherNumber(s.plural));
            }
          } else b.push(...r.pick(L.inanimateVerbPhrases));
        } else {
          const idx = b.words.length;
          const past = r.chance(0.3);
          b.push('is');
          const s = this.subject(b);
          if (r.chance(0.3)) this.pp(b, s.animate, s.plural);
          const sg = past ? 'was' : 'is';
          const pl = past ? 'were' : 'are';
          b.words[idx] = s.plural ? pl : sg;
          b.targets.push({ index: idx, good: s.plural ? pl : sg, bad: s.plural ? sg : pl, kind: 'verb', controller: s.head, plural: s.plural });
          b.push(r.pick(s.animate ? L.animateAdjectives : L.inanimateAdjectives));
        }
        b.push('?');
        return;
      }
      case 'existential': {
        const idx = b.words.length + 1;
        const past = r.chance(0.3);
        b.push('there', 'is');
        const plural = r.chance(0.5);
        const entry = r.pick(r.chance(0.5) ? L.animate : L.inanimate);
        const noun = plural ? entry.pl : entry.sg;
        const det = plural ? r.pick(EXIST_PLURAL_DETS) : r.pick([/^[aeiou]/.test(noun) ? 'an' : 'a', 'one', 'no']);
        b.push(det, noun);
        const head = b.words.length - 1;
        b.nouns.push({ index: head, plural });
        const sg = past ? 'was' : 'is';
        const pl = past ? 'were' : 'are';
        b.words[idx] = plural ? pl : sg;
        b.targets.push({ index: idx, good: plural ? pl : sg, bad: plural ? sg : pl, kind: 'verb', controller: head, plural });
        if (r.chance(0.7)) {
          b.push(r.pick(PLACE_PREPS));
          this.np(b, false, r.chance(0.5));
        }
        break;
      }
      case 'plain': {
        if (r.chance(0.2)) b.push(r.pick(OPENERS), ',');
        const s = this.subject(b, 0.8);
        if (r.chance(0.3)) this.pp(b, s.animate, s.plural);
        if (s.animate && r.chance(0.5)) {
          const useThing = r.chance(0.5);
          const v = useThing ? r.pick(L.transitiveInanimate) : r.pick(L.transitiveAnimate);
          if (r.chance(0.3)) b.push(r.pick(MODALS), v);
          else b.push(pastTense(v));
          this.np(b, !useThing, r.chance(0.5));
          if (r.chance(0.3)) b.push(r.pick(L.adjuncts));
        } else this.vp(b, s, false);
        break;
      }
    }
    this.end(b);
  }
}

let mlCache: Set<string> | undefined;
function cachedMarvinLinzenSentences(): Set<string> {
  if (!mlCache) mlCache = marvinLinzenSentences();
  return mlCache;
}
