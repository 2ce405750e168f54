/**
 * Repairs tfjs's engine after a cell was interrupted.
 *
 * An interrupt (vm `breakOnSigint`) terminates JavaScript without running `catch`/`finally`
 * blocks, so an interrupted `tf.tidy`, `tf.grad` or kernel call leaves the engine mid-operation:
 * scopes still open (later tensors would be tracked by a dead scope), the kernel depth above 0
 * (gradients would stop being recorded) and a gradient tape active. This closes the open scopes
 * (disposing their tensors, as the tidy would have) and resets the counters, so the next cell
 * computes normally. Tensors owned by interrupted code outside any scope stay allocated (their
 * `finally { x.dispose() }` never ran).
 */

/** The parts of tfjs-core's `Engine` touched here (`globalThis._tfengine`). */
interface TfEngine {
  state: { scopeStack: unknown[]; kernelDepth: number; gradientDepth: number; activeTape: unknown; numDataMovesStack: unknown[] };
  endScope(result?: unknown): void;
}

/**
 * Repairs the process's tfjs engine if tfjs is loaded.
 * @returns what was repaired (for the log), or undefined when tfjs is not loaded or was not mid-operation.
 */
export function recoverTfjsEngine(): string | undefined {
  const engine = (globalThis as { _tfengine?: TfEngine })._tfengine;
  const st = engine?.state;
  if (!engine || !st || !Array.isArray(st.scopeStack)) return undefined;
  const scopes = st.scopeStack.length;
  const { kernelDepth, gradientDepth } = st;
  if (scopes === 0 && kernelDepth === 0 && gradientDepth === 0 && !st.activeTape) return undefined;
  while (st.scopeStack.length > 0) engine.endScope();
  st.kernelDepth = 0;
  st.gradientDepth = 0;
  st.activeTape = null;
  st.numDataMovesStack = [];
  return `closed ${scopes} tfjs scope(s), kernel depth ${kernelDepth} → 0, gradient depth ${gradientDepth} → 0`;
}
