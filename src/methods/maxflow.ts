/**
 * Maximum flow in float64 with a tolerance for float capacities.
 *
 * - {@link FlowNetwork}: a general directed graph, Dinic's algorithm (blocking flows on BFS level
 *   graphs, current-arc pointers). Used for any graph, and as an independently-structured check.
 * - {@link LayeredFlow}: the attention graph of Abnar & Zuidema 2020 (§3, "Attention Flow"): nodes
 *   (layer, position), complete bipartite edges between consecutive layers, stored densely (no edge
 *   lists); Dinic on the implicit graph, restricted to the layers below the sink, reused across many
 *   (source, sink) pairs.
 *
 * Tolerance: a residual capacity `≤ tol` counts as saturated (default `1e-12`, absolute; the
 * capacities of attention graphs are in [0, 1]). The flow value is then exact up to about
 * `tol · (number of edges)`.
 *
 * @module
 */
import { IndexError } from '../errors.js';

/** Result of {@link FlowNetwork.maxFlow}. */
export interface MaxFlowResult {
  /** The maximum flow value. */
  value: number;
  /** Flow on each edge, in the order of `addEdge` calls. */
  flow: Float64Array;
  /** 1 for the nodes on the source side of a minimum cut (reachable from s in the final residual graph). */
  sourceSide: Uint8Array;
}

/** Options of the max-flow solvers. */
export interface MaxFlowOptions {
  /** Residual capacities `≤ tol` count as zero; default `1e-12`. */
  tol?: number;
}

function checkTol(tol: number): number {
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new Error(`maxflow: tol must be a finite number ≥ 0, got ${tol}`);
  return tol;
}

/**
 * A directed graph with float capacities; `maxFlow` runs Dinic's algorithm (Dinic 1970): BFS level
 * graph from s, blocking flow by depth-first search with current-arc pointers, repeated until t is
 * unreachable. O(V²E) worst case.
 *
 * Parallel edges and antiparallel edges are allowed; self-loops are ignored.
 */
export class FlowNetwork {
  /** Number of nodes, `0..n−1`. */
  readonly n: number;
  private readonly eu: number[] = [];
  private readonly ev: number[] = [];
  private readonly ec: number[] = [];

  /** @throws Error unless `n` is a positive integer. */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`FlowNetwork: node count must be a positive integer, got ${n}`);
    this.n = n;
  }

  /** Number of edges added. */
  get edgeCount(): number {
    return this.eu.length;
  }

  /**
   * Adds the edge u → v with capacity `cap`.
   * @returns the edge's index (into `MaxFlowResult.flow`).
   * @throws Error on a node outside `0..n−1` or a negative / non-finite capacity.
   */
  addEdge(u: number, v: number, cap: number): number {
    for (const [name, x] of [
      ['u', u],
      ['v', v],
    ] as const) {
      if (!Number.isInteger(x) || x < 0 || x >= this.n) throw new IndexError(`FlowNetwork.addEdge: node ${name} = ${x} is outside 0..${this.n - 1}`);
    }
    if (!(cap >= 0) || !Number.isFinite(cap)) throw new Error(`FlowNetwork.addEdge: capacity must be finite and ≥ 0, got ${cap} on ${u} → ${v}`);
    this.eu.push(u);
    this.ev.push(v);
    this.ec.push(cap);
    return this.eu.length - 1;
  }

  /**
   * Maximum s–t flow (Dinic). Max-flow = min-cut: `value` equals the capacity of the cut
   * (`sourceSide`, rest).
   * @throws Error on a node outside `0..n−1`, `s === t`, or a bad tolerance.
   */
  maxFlow(s: number, t: number, opts: MaxFlowOptions = {}): MaxFlowResult {
    const tol = checkTol(opts.tol ?? 1e-12);
    const n = this.n;
    for (const [name, x] of [
      ['s', s],
      ['t', t],
    ] as const) {
      if (!Number.isInteger(x) || x < 0 || x >= n) throw new IndexError(`FlowNetwork.maxFlow: node ${name} = ${x} is outside 0..${n - 1}`);
    }
    if (s === t) throw new Error(`FlowNetwork.maxFlow: source and sink are the same node (${s})`);
    const m = this.eu.length;
    // Arcs 2e (forward, residual = cap − flow) and 2e+1 (backward, residual = flow), in CSR by tail.
    const deg = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) {
      deg[this.eu[e] + 1]++;
      deg[this.ev[e] + 1]++;
    }
    for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
    const start = Int32Array.from(deg);
    const fill = Int32Array.from(deg);
    const arcs = new Int32Array(2 * m);
    const head = new Int32Array(2 * m);
    const res = new Float64Array(2 * m);
    for (let e = 0; e < m; e++) {
      const u = this.eu[e];
      const v = this.ev[e];
      head[2 * e] = v;
      head[2 * e + 1] = u;
      res[2 * e] = u === v ? 0 : this.ec[e];
      arcs[fill[u]++] = 2 * e;
      arcs[fill[v]++] = 2 * e + 1;
    }
    const level = new Int32Array(n);
    const it = new Int32Array(n);
    const queue = new Int32Array(n);
    const bfs = (): boolean => {
      level.fill(-1);
      level[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const u = queue[qh++];
        for (let p = start[u]; p < start[u + 1]; p++) {
          const a = arcs[p];
          const v = head[a];
          if (level[v] < 0 && res[a] > tol) {
            level[v] = level[u] + 1;
            queue[qt++] = v;
          }
        }
      }
      return level[t] >= 0;
    };
    const dfs = (u: number, lim: number): number => {
      if (u === t) return lim;
      let total = 0;
      for (; it[u] < start[u + 1]; it[u]++) {
        const a = arcs[it[u]];
        const v = head[a];
        const r = res[a];
        if (r <= tol || level[v] !== level[u] + 1) continue;
        const d = dfs(v, Math.min(lim - total, r));
        if (d > 0) {
          res[a] -= d;
          res[a ^ 1] += d;
          total += d;
          if (lim - total <= tol) return total;
        }
      }
      level[u] = -1; // dead end for this phase
      return total;
    };
    let value = 0;
    while (bfs()) {
      it.set(start.subarray(0, n));
      let f: number;
      while ((f = dfs(s, Infinity)) > 0) value += f;
    }
    const flow = new Float64Array(m);
    for (let e = 0; e < m; e++) flow[e] = this.eu[e] === this.ev[e] ? 0 : res[2 * e + 1];
    const sourceSide = new Uint8Array(n);
    for (let i = 0; i < n; i++) sourceSide[i] = level[i] >= 0 ? 1 : 0;
    return { value, flow, sourceSide };
  }
}

/** Counters of {@link LayeredFlow} (for benchmarks and tests). */
export interface LayeredFlowStats {
  /** `maxFlow` calls. */
  solves: number;
  /** Solves finished after the first (BFS-free) blocking flow because the value met a known cut. */
  certifiedEarly: number;
  /** BFS phases run in total. */
  bfsPhases: number;
  /** Minimum cuts stored for reuse. */
  cutsStored: number;
  /** Solves by a closed form (sink layers 1 and 2). */
  closedForm: number;
}

/** A stored s–t cut of the layered graph, as a linear function of the (source, sink) pair. */
interface StoredCut {
  /** `[seq]`: capacity of the source's edges leaving the cut, per source position. */
  src: Float64Array;
  /** Capacity of the internal edges (layers 1..t−1) leaving the cut. */
  internal: number;
  /** `[seq]`: capacity of the sink's edges leaving the cut, per sink position. */
  sink: Float64Array;
  hits: number;
}

/**
 * Max flow on a layered "attention graph" (Abnar & Zuidema 2020, §3): nodes (l, x) for layers
 * l = 0..L and positions x = 0..seq−1; for every layer l ≥ 1 a complete bipartite set of edges
 * (l−1, k) → (l, x) with capacity `W_l[x, k]` (row = the attending node, column = the attended one,
 * as attention matrices). Sources are input nodes (0, j), sinks are nodes (t, i).
 *
 * For the pair ((0, j), (t, i)) only layers ≤ t take part, and of layer 0 only j and of layer t only
 * i (other input nodes have no flow in, other layer-t nodes no way out). The solver is Dinic's
 * algorithm on that implicit dense graph: residual capacities are kept as `[layer][from][to]`
 * float64 matrices, so no edge lists are built and every pair reuses the same memory.
 *
 * Shared work between pairs (all exact):
 * - Sink layers 1 and 2 have closed forms (one edge; edge-disjoint two-edge paths).
 * - The first level graph needs no BFS: with zero flow every edge goes from layer l to l+1, so
 *   distance-to-sink = t − layer; the first blocking flow only follows forward edges, widest first
 *   (each node's forward arcs are sorted by capacity once), which halves the number of augmenting
 *   paths on attention graphs. It is found by recursive pushes (a node passes flow to several arcs in
 *   one visit), not one path at a time: the prefixes shared by augmenting paths are walked once
 *   (0.75–0.89× the CPU time of the path-at-a-time search on the bench's 12 × 16..64 stacks). Its
 *   last two hops (layer t−2 → t−1 → sink) pick arcs by bitmasks of unsaturated arcs and of layer-(t−1)
 *   nodes that still reach the sink, so the arcs into dead nodes are not scanned one by one (they
 *   were ≈ 85% of the arcs scanned; 0.63–0.76× the CPU time again).
 * - Every s–t cut of the graph for sink layer t is a cut for every other (source, sink) pair with
 *   that sink layer, with capacity `src[j] + internal + sink[i]` (the source's and the sink's edges
 *   are the only pair-dependent ones). The trivial cuts (source alone: Σ_x W_1[x, j]; sink alone:
 *   Σ_k W_t[i, k]) and the minimum cuts found by earlier solves are kept. The search is limited to
 *   the smallest of these capacities and stops as soon as the flow meets it (max-flow = min-cut
 *   certifies it): no final BFS, and the blocking flow does not exhaust the level graph.
 * - Later phases are Dinic phases with distance labels from a BFS from the sink over reversed
 *   residual arcs, so blocking flows never enter nodes that cannot reach the sink.
 *
 * Exactness: a solve stops when its flow is within `max(tol·seq, 1e-13)` of a cut's capacity, or
 * when no augmenting path with residuals `> tol` is left; with the default tol the values are the
 * max-flow values to about 1e-10 (float64 arithmetic).
 */
export class LayeredFlow {
  /** Number of edge layers L (node layers 0..L). */
  readonly layers: number;
  /** Positions per layer. */
  readonly seq: number;
  /** Counters since construction. */
  readonly stats: LayeredFlowStats = { solves: 0, certifiedEarly: 0, bfsPhases: 0, cutsStored: 0, closedForm: 0 };
  private readonly tol: number;
  /** Flow values within `slack` of a known cut capacity are accepted as maximum. */
  private readonly slack: number;
  private readonly maxCuts: number;
  /** Capacities, transposed: `capT[(l−1)·seq² + k·seq + x]` = capacity (l−1, k) → (l, x). */
  private readonly capT: Float64Array;
  /** Residual forward capacities, same layout as `capT`; flow = capT − res. */
  private readonly res: Float64Array;
  /** `order[(l−1)·seq² + k·seq + q]`: the head x of the q-th widest forward arc (l−1, k) → (l, x). */
  private readonly order: Int32Array;
  /** 32-bit words per bitmask of one layer's positions. */
  private readonly words: number;
  /** `arcMask[((l−1)·seq + k)·words + w]`: bit x of word w set iff capacity (l−1, k) → (l, x) > tol. */
  private readonly arcMask: Uint32Array;
  /** Phase 1: per node of layer t−2, its unsaturated arcs to layer t−1 (bits, as `arcMask`). */
  private readonly unsat: Uint32Array;
  /** Phase 1: the nodes of layer t−1 whose arc to the sink is unsaturated (bits). */
  private readonly live: Uint32Array;
  /** Edge layers `0..dirty−1` of `res` may differ from `capT` (a reset restores only those). */
  private dirty = 0;
  private readonly level: Int32Array;
  private readonly it: Int32Array;
  private readonly queue: Int32Array;
  /** The current path of {@link LayeredFlow.blockingFlow}: its nodes, and the arc leaving each. */
  private readonly pathNode: Int32Array;
  private readonly pathArc: Int32Array;
  /** Stored cuts per sink layer (index t). */
  private readonly cuts: StoredCut[][];
  // Current problem.
  private src = 0;
  private sinkLayer = 1;
  private sinkPos = 0;
  private sinkNode = 0;

  /**
   * @param weights one `[seq, seq]` row-major matrix per edge layer l = 1..L (index 0 holds W_1):
   *   `weights[l−1][x·seq + k]` = capacity of (l−1, k) → (l, x). Entries must be finite and ≥ 0.
   * @param opts `tol`: residuals ≤ tol count as saturated (default 1e-12); `maxCuts`: cuts kept per
   *   sink layer for certificates (default 32; 0 keeps only the trivial ones).
   * @throws Error on an empty list, a matrix of the wrong length, or a negative / non-finite entry.
   */
  constructor(weights: ArrayLike<number>[], seq: number, opts: MaxFlowOptions & { maxCuts?: number } = {}) {
    if (!Number.isInteger(seq) || seq < 1) throw new Error(`LayeredFlow: seq must be a positive integer, got ${seq}`);
    if (weights.length < 1) throw new Error('LayeredFlow: needs at least one weight matrix');
    this.tol = checkTol(opts.tol ?? 1e-12);
    this.slack = Math.max(this.tol * seq, 1e-13);
    this.maxCuts = opts.maxCuts ?? 32;
    this.layers = weights.length;
    this.seq = seq;
    const ss = seq * seq;
    this.capT = new Float64Array(this.layers * ss);
    for (let l = 0; l < this.layers; l++) {
      const w = weights[l];
      if (w.length !== ss) throw new Error(`LayeredFlow: weight matrix ${l} has length ${w.length}, expected seq² = ${ss}`);
      const off = l * ss;
      for (let x = 0; x < seq; x++) {
        for (let k = 0; k < seq; k++) {
          const c = w[x * seq + k];
          if (!(c >= 0) || !Number.isFinite(c)) throw new Error(`LayeredFlow: weight matrix ${l} has a negative or non-finite entry ${c} at [${x}, ${k}]`);
          this.capT[off + k * seq + x] = c;
        }
      }
    }
    this.res = Float64Array.from(this.capT);
    // Forward arcs of every node by decreasing capacity: the search tries the widest arcs first.
    this.order = new Int32Array(this.layers * ss);
    const idx = Array.from({ length: seq }, (_, x) => x);
    for (let r = 0; r < this.layers * seq; r++) {
      const off = r * seq;
      idx.sort((a, b) => this.capT[off + b] - this.capT[off + a] || a - b);
      for (let q = 0; q < seq; q++) this.order[off + q] = idx[q];
    }
    this.words = (seq + 31) >>> 5;
    this.arcMask = new Uint32Array(this.layers * seq * this.words);
    for (let r = 0; r < this.layers * seq; r++) {
      for (let x = 0; x < seq; x++) if (this.capT[r * seq + x] > this.tol) this.arcMask[r * this.words + (x >>> 5)] |= 1 << (x & 31);
    }
    this.unsat = new Uint32Array(seq * this.words);
    this.live = new Uint32Array(this.words);
    const nodes = (this.layers + 1) * seq;
    this.level = new Int32Array(nodes);
    this.it = new Int32Array(nodes);
    this.queue = new Int32Array(nodes);
    this.pathNode = new Int32Array(nodes + 1);
    this.pathArc = new Int32Array(nodes + 1);
    this.cuts = [[]];
    for (let t = 1; t <= this.layers; t++) this.cuts.push(this.trivialCuts(t));
  }

  /** The two cuts every pair of sink layer t has: the source alone and the sink alone. */
  private trivialCuts(t: number): StoredCut[] {
    const { seq, capT } = this;
    // Source alone: src[j] = Σ_x W_1[x, j]; sink alone: sink[i] = Σ_k W_t[i, k].
    const a = new Float64Array(seq);
    const b = new Float64Array(seq);
    for (let k = 0; k < seq; k++) for (let x = 0; x < seq; x++) a[k] += capT[k * seq + x];
    const off = (t - 1) * seq * seq;
    for (let k = 0; k < seq; k++) for (let x = 0; x < seq; x++) b[x] += capT[off + k * seq + x];
    return [
      { src: a, internal: 0, sink: new Float64Array(seq), hits: 0 },
      { src: new Float64Array(seq), internal: 0, sink: b, hits: 0 },
    ];
  }

  /**
   * Forgets the minimum cuts stored for sink layer `sinkLayer` (keeps the two trivial ones), so that
   * the following solves of that layer do not depend on the earlier ones: the values of a sequence of
   * solves that starts with this call are a function of that sequence alone (used to give the same
   * result whichever thread solves a block of pairs).
   * @throws Error when `sinkLayer` is outside 1..L.
   */
  resetCuts(sinkLayer: number): void {
    if (!Number.isInteger(sinkLayer) || sinkLayer < 1 || sinkLayer > this.layers)
      throw new Error(`LayeredFlow.resetCuts: sink layer ${sinkLayer} is outside 1..${this.layers}`);
    this.cuts[sinkLayer] = this.trivialCuts(sinkLayer);
  }

  private checkPair(source: number, sinkLayer: number, sink: number): void {
    const { seq, layers } = this;
    if (!Number.isInteger(source) || source < 0 || source >= seq)
      throw new IndexError(`LayeredFlow.maxFlow: source position ${source} is outside 0..${seq - 1}`);
    if (!Number.isInteger(sinkLayer) || sinkLayer < 1 || sinkLayer > layers)
      throw new Error(`LayeredFlow.maxFlow: sink layer ${sinkLayer} is outside 1..${layers}`);
    if (!Number.isInteger(sink) || sink < 0 || sink >= seq) throw new IndexError(`LayeredFlow.maxFlow: sink position ${sink} is outside 0..${seq - 1}`);
  }

  /** The smallest capacity among the stored cuts for this pair (an upper bound on the flow). */
  upperBound(source: number, sinkLayer: number, sink: number): number {
    this.checkPair(source, sinkLayer, sink);
    return this.bound(source, sinkLayer, sink).value;
  }

  private bound(source: number, t: number, sink: number): { value: number; cut: StoredCut | null } {
    let best = Infinity;
    let cut: StoredCut | null = null;
    for (const c of this.cuts[t]) {
      const v = c.src[source] + c.internal + c.sink[sink];
      if (v < best) {
        best = v;
        cut = c;
      }
    }
    return { value: best, cut };
  }

  /**
   * Maximum flow from input node (0, source) to node (sinkLayer, sink), from zero flow.
   * @param sinkLayer node layer 1..L (node layer t is the output of edge layer t).
   * @throws Error on an index out of range.
   */
  maxFlow(source: number, sinkLayer: number, sink: number): number {
    this.checkPair(source, sinkLayer, sink);
    if (sinkLayer <= 2) return this.shallow(source, sinkLayer, sink);
    this.stats.solves++;
    this.resetResidual(sinkLayer);
    this.setPair(source, sinkLayer, sink);
    return this.augment();
  }

  /**
   * Maximum flows from input node (0, source) to every node (sinkLayer, sinks[r]). Each distinct
   * sink is solved from zero flow (sharing the stored cuts); a repeated sink reuses the value. (Warm
   * starts that moved the previous sink's flow to the next sink were tried and measured slower: the
   * flows to different output positions differ most in the layers just below them.)
   *
   * @param sinks sink positions; `out[r]` receives the flow to `sinks[r]`.
   * @param out `[sinks.length]`; allocated when omitted.
   * @returns `out`.
   * @throws Error on an index out of range or an `out` of the wrong length.
   */
  maxFlowsFromSource(source: number, sinkLayer: number, sinks: ArrayLike<number>, out?: Float64Array): Float64Array {
    const res = out ?? new Float64Array(sinks.length);
    if (res.length !== sinks.length) throw new Error(`LayeredFlow.maxFlowsFromSource: out has length ${res.length}, expected ${sinks.length}`);
    for (let r = 0; r < sinks.length; r++) this.checkPair(source, sinkLayer, sinks[r]);
    if (sinks.length === 0) return res;
    if (sinkLayer <= 2) {
      for (let r = 0; r < sinks.length; r++) res[r] = this.shallow(source, sinkLayer, sinks[r]);
      return res;
    }
    let value = 0;
    let prev = -1;
    for (let r = 0; r < sinks.length; r++) {
      const i = sinks[r];
      this.stats.solves++;
      if (i !== prev) {
        this.resetResidual(sinkLayer);
        this.setPair(source, sinkLayer, i);
        value = this.augment();
      }
      res[r] = value;
      prev = i;
    }
    return res;
  }

  /**
   * Closed forms for sink layers 1 and 2. Layer 1: the single edge, W_1[i, j]. Layer 2: the paths
   * j → (1, k) → i share no edge, so the max flow is Σ_k min(W_1[k, j], W_2[i, k]).
   */
  private shallow(source: number, t: number, sink: number): number {
    const { seq, capT } = this;
    this.stats.solves++;
    this.stats.closedForm++;
    if (t === 1) return capT[source * seq + sink];
    const off = seq * seq;
    let v = 0;
    for (let k = 0; k < seq; k++) v += Math.min(capT[source * seq + k], capT[off + k * seq + sink]);
    return v;
  }

  private setPair(source: number, t: number, sink: number): void {
    this.src = source;
    this.sinkLayer = t;
    this.sinkPos = sink;
    this.sinkNode = t * this.seq + sink;
  }

  /**
   * Maximum flow for the current pair from zero flow (the residual must have been reset).
   * @returns the maximum flow value.
   */
  private augment(): number {
    const { seq, level } = this;
    let value = 0;
    const t = this.sinkLayer;
    const source = this.src;
    const ub = this.bound(source, t, this.sinkPos);
    const target = ub.value - this.slack;
    if (value >= target) {
      this.stats.certifiedEarly++;
      if (ub.cut) ub.cut.hits++;
      return value;
    }
    // Phase 1: levels = distance to the sink in the zero-flow graph (t − layer), forward arcs only.
    level.fill(-1, 0, (t + 1) * seq);
    level[source] = t;
    for (let l = 1; l < t; l++) level.fill(t - l, l * seq, (l + 1) * seq);
    level[this.sinkNode] = 0;
    this.it.fill(0, 0, (t + 1) * seq);
    // The source's limit is the bound: the search stops as soon as the flow meets it, without
    // exhausting (and scanning) the rest of the level graph.
    this.unsat.set(this.arcMask.subarray((t - 2) * seq * this.words, (t - 1) * seq * this.words));
    this.live.fill(0);
    for (let y = 0, p = (t - 1) * seq * seq + this.sinkPos; y < seq; y++, p += seq) if (this.res[p] > this.tol) this.live[y >>> 5] |= 1 << (y & 31);
    value += this.forwardPush(source, 0, ub.value - value);
    if (value >= target) {
      this.stats.certifiedEarly++;
      if (ub.cut) ub.cut.hits++;
      return value;
    }
    // General Dinic phases.
    while (this.bfs()) {
      this.stats.bfsPhases++;
      this.it.fill(0, 0, (t + 1) * seq);
      value += this.blockingFlow(ub.value - value);
      if (value >= target) {
        if (ub.cut) ub.cut.hits++;
        return value;
      }
    }
    this.stats.bfsPhases++;
    this.storeCut();
    return value;
  }

  /**
   * Restores the residual capacities to the capacities (zero flow) and marks edge layers
   * `0..sinkLayer−1` as the ones the next solve may change. One block copy per solve is cheaper than
   * logging every change (measured).
   */
  private resetResidual(sinkLayer: number): void {
    const ss = this.seq * this.seq;
    if (this.dirty > 0) this.res.set(this.capT.subarray(0, this.dirty * ss));
    this.dirty = sinkLayer;
  }

  /**
   * Stores the min cut of the final BFS as a linear function of the pair. The BFS runs from the sink,
   * so the source side is the nodes that cannot reach the sink (`level < 0`).
   */
  private storeCut(): void {
    if (this.maxCuts <= 0) return;
    const { seq, capT, level } = this;
    const t = this.sinkLayer;
    const ss = seq * seq;
    const src = new Float64Array(seq);
    const sink = new Float64Array(seq);
    let internal = 0;
    // Source edges (0, j) → (1, x) leaving the cut: x not on the source side.
    for (let j = 0; j < seq; j++) {
      let s = 0;
      for (let x = 0; x < seq; x++) if (level[seq + x] >= 0) s += capT[j * seq + x];
      src[j] = s;
    }
    // Internal edges (l−1, k) → (l, x), 2 ≤ l ≤ t−1, k on the source side, x not.
    for (let l = 2; l < t; l++) {
      const off = (l - 1) * ss;
      for (let k = 0; k < seq; k++) {
        if (level[(l - 1) * seq + k] >= 0) continue;
        const row = off + k * seq;
        for (let x = 0; x < seq; x++) if (level[l * seq + x] >= 0) internal += capT[row + x];
      }
    }
    // Sink edges (t−1, k) → (t, i): k on the source side.
    const off = (t - 1) * ss;
    for (let k = 0; k < seq; k++) {
      if (level[(t - 1) * seq + k] >= 0) continue;
      const row = off + k * seq;
      for (let i = 0; i < seq; i++) sink[i] += capT[row + i];
    }
    const list = this.cuts[t];
    if (list.length - 2 >= this.maxCuts) {
      // Replace the least useful stored (non-trivial) cut.
      let worst = 2;
      for (let c = 3; c < list.length; c++) if (list[c].hits < list[worst].hits) worst = c;
      list.splice(worst, 1);
    }
    list.push({ src, internal, sink, hits: 0 });
    this.stats.cutsStored++;
  }

  /**
   * BFS from the sink over reversed residual arcs: `level[v]` = residual distance from v to the
   * sink (−1 = cannot reach it). The following blocking flow only moves from distance d to d − 1,
   * so it never enters a node that cannot reach the sink. Stops once the source's distance is known.
   * @returns whether the source reaches the sink.
   */
  private bfs(): boolean {
    const { seq, tol, res, capT, level, queue } = this;
    const t = this.sinkLayer;
    const i = this.sinkPos;
    const s = this.src;
    const ss = seq * seq;
    level.fill(-1, 0, (t + 1) * seq);
    level[this.sinkNode] = 0;
    let qh = 0;
    let qt = 0;
    // predecessors of the sink: (t−1, k) with residual on (t−1, k) → (t, i)
    {
      const off = (t - 1) * ss + i;
      const nb = (t - 1) * seq;
      for (let k = 0; k < seq; k++) {
        if (res[off + k * seq] > tol) {
          level[nb + k] = 1;
          queue[qt++] = nb + k;
        }
      }
    }
    while (qh < qt) {
      const v = queue[qh++];
      const lv = level[v];
      if (level[s] >= 0 && lv + 1 >= level[s]) break;
      const l = (v / seq) | 0;
      const k = v - l * seq;
      // forward arcs (l−1, m) → (l, k), residual res[(l−1)·ss + m·seq + k]; of layer 0 only the source
      if (l === 1) {
        if (level[s] < 0 && res[s * seq + k] > tol) level[s] = lv + 1;
      } else {
        const off = (l - 1) * ss + k;
        const nb = (l - 1) * seq;
        for (let m = 0; m < seq; m++) {
          if (level[nb + m] < 0 && res[off + m * seq] > tol) {
            level[nb + m] = lv + 1;
            queue[qt++] = nb + m;
          }
        }
      }
      // backward arcs (l+1, x) → (l, k), residual = flow (l, k) → (l+1, x) = capT − res at
      // [l·ss + k·seq + x]; layer t has no node but the sink
      if (l + 1 <= t - 1) {
        const off = l * ss + k * seq;
        const nb = (l + 1) * seq;
        for (let x = 0; x < seq; x++) {
          const p = off + x;
          if (level[nb + x] < 0 && capT[p] - res[p] > tol) {
            level[nb + x] = lv + 1;
            queue[qt++] = nb + x;
          }
        }
      }
    }
    return level[s] >= 0;
  }

  /**
   * Phase 1: blocking flow of the zero-flow level graph (all arcs from layer l to l + 1) by depth-first
   * pushes: node u (layer l) sends up to `lim` through its forward arcs, widest first (current-arc
   * pointers `it`), each arc taking what the subtree below it can pass on, so that one descent
   * spreads flow over a tree of paths and a prefix shared by several augmenting paths is walked once.
   * A node that cannot pass on more is dead for the phase (`level = −1`). The arcs below u are in
   * later layers, so a recursive call never changes the arc that led to it.
   * @returns the flow pushed from u to the sink (≤ lim).
   */
  private forwardPush(u: number, l: number, lim: number): number {
    const { seq, tol, res, level, it, order } = this;
    const k = u - l * seq;
    const t = this.sinkLayer;
    if (l === t - 1) {
      const p = l * seq * seq + k * seq + this.sinkPos;
      const r = res[p];
      if (r <= tol) {
        level[u] = -1;
        return 0;
      }
      const d = r < lim ? r : lim;
      res[p] = r - d;
      if (r - d <= tol) level[u] = -1;
      return d;
    }
    if (l === t - 2) return this.lastHops(u, k, lim);
    const off = l * seq * seq + k * seq;
    const nb = (l + 1) * seq;
    let total = 0;
    let x = it[u];
    for (; x < seq; x++) {
      const y = order[off + x];
      const r = res[off + y];
      if (r <= tol || level[nb + y] < 0) continue;
      const want = lim - total;
      const d = this.forwardPush(nb + y, l + 1, r < want ? r : want);
      if (d > 0) {
        res[off + y] = r - d;
        total += d;
        if (lim - total <= tol) {
          it[u] = x;
          return total;
        }
      }
    }
    it[u] = x;
    level[u] = -1;
    return total;
  }

  /**
   * The last two hops of {@link LayeredFlow.forwardPush}, from node u = (t−2, k): over the layer-(t−1)
   * nodes y whose arc u → y and arc y → sink are both unsaturated, found by word operations on the
   * bitmasks `unsat` and `live` (lowest position first), push min(both residuals, what is left of lim).
   * A node of layer t−1 dies with its sink arc, for every u at once: the search no longer scans each
   * u's arcs to dead nodes one by one (≈ 85% of the arcs scanned in phase 1 before).
   * @returns the flow pushed from u to the sink (≤ lim).
   */
  private lastHops(u: number, k: number, lim: number): number {
    const { seq, tol, res, unsat, live, words } = this;
    const ss = seq * seq;
    const t = this.sinkLayer;
    const offA = (t - 2) * ss + k * seq;
    const offS = (t - 1) * ss + this.sinkPos;
    const base = k * words;
    let total = 0;
    for (let w = 0; w < words; w++) {
      let bits = unsat[base + w] & live[w];
      while (bits !== 0) {
        const low = bits & -bits;
        const y = (w << 5) + 31 - Math.clz32(low);
        const pa = offA + y;
        const ps = offS + y * seq;
        const ra = res[pa];
        const rs = res[ps];
        let d = lim - total;
        if (ra < d) d = ra;
        if (rs < d) d = rs;
        res[pa] = ra - d;
        res[ps] = rs - d;
        total += d;
        if (ra - d <= tol) unsat[base + w] &= ~low;
        if (rs - d <= tol) live[w] &= ~low;
        if (lim - total <= tol) return total;
        bits &= ~low;
      }
    }
    this.level[u] = -1;
    return total;
  }

  /**
   * Blocking flow on the current level graph (`level[v]` = distance to the sink; an arc u → v is
   * admissible when its residual is `> tol` and `level[v] = level[u] − 1`), by iterative path search
   * (advance, augment by the bottleneck, retreat to the first saturated arc) with current-arc
   * pointers `it` and dead-end marking (`level = −1`). Stops once `lim` is pushed.
   *
   * Arcs of node (l, k): `0..seq−1` forward to (l+1, x) (of layer t−1 only the one to the sink),
   * `seq..2seq−1` backward to (l−1, m) (residual = flow on (l−1, m) → (l, k); none for l ≤ 1).
   * @returns the flow pushed.
   */
  private blockingFlow(lim: number): number {
    const { seq, tol, res, capT, level, it, pathNode, pathArc, order } = this;
    const ss = seq * seq;
    const t = this.sinkLayer;
    const sinkNode = this.sinkNode;
    const sinkPos = this.sinkPos;
    const arcEnd = 2 * seq;
    let total = 0;
    let d = 0;
    pathNode[0] = this.src;
    for (;;) {
      const u = pathNode[d];
      if (u === sinkNode) {
        // Path arcs: a ≥ 0 a forward arc (residual res[a]); a < 0 the backward arc of res index ~a.
        let b = lim - total;
        for (let q = 0; q < d; q++) {
          const a = pathArc[q];
          const r = a >= 0 ? res[a] : capT[~a] - res[~a];
          if (r < b) b = r;
        }
        let back = -1;
        for (let q = 0; q < d; q++) {
          const a = pathArc[q];
          if (a >= 0) {
            res[a] -= b;
            if (back < 0 && res[a] <= tol) back = q;
          } else {
            const p = ~a;
            res[p] += b;
            if (back < 0 && capT[p] - res[p] <= tol) back = q;
          }
        }
        total += b;
        if (lim - total <= tol) return total;
        d = back < 0 ? 0 : back;
        continue;
      }
      const l = (u / seq) | 0;
      const k = u - l * seq;
      const want = level[u] - 1;
      let next = -1;
      let arc = 0;
      let x = it[u];
      if (x < seq) {
        if (l === t - 1) {
          const p = l * ss + k * seq + sinkPos;
          if (res[p] > tol && level[sinkNode] === want) {
            next = sinkNode;
            arc = p;
          } else x = seq;
        } else {
          const off = l * ss + k * seq;
          const nb = (l + 1) * seq;
          for (; x < seq; x++) {
            const y = order[off + x];
            if (res[off + y] > tol && level[nb + y] === want) {
              next = nb + y;
              arc = off + y;
              break;
            }
          }
        }
      }
      if (next < 0 && x < arcEnd && l >= 2) {
        const off = (l - 1) * ss + k;
        const nb = (l - 1) * seq;
        if (x < seq) x = seq;
        for (; x < arcEnd; x++) {
          const m = x - seq;
          const p = off + m * seq;
          if (capT[p] - res[p] > tol && level[nb + m] === want) {
            next = nb + m;
            arc = ~p;
            break;
          }
        }
      }
      it[u] = x;
      if (next >= 0) {
        pathArc[d] = arc;
        pathNode[++d] = next;
        continue;
      }
      level[u] = -1; // dead end for this phase
      if (d === 0) return total;
      d--;
      it[pathNode[d]]++;
    }
  }
}
