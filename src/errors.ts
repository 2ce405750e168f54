/**
 * The errors flowlens throws, one class per kind, so a caller can catch by kind:
 *
 * ```ts
 * import { loadModel, CheckpointError, FlowlensError } from 'flowlens';
 * try {
 *   await loadModel('./my-model');
 * } catch (e) {
 *   if (e instanceof CheckpointError) console.error('bad weights:', e.message);
 *   else if (e instanceof FlowlensError) console.error(e.name, e.message);
 *   else throw e;
 * }
 * ```
 *
 * Every class sets `name` to its own name, keeps the message intact (it names the file, tensor,
 * option or index and what is wrong with it) and accepts a `cause`.
 *
 * @module
 */

/** The base of every error flowlens throws on purpose (bad input, bad files, exhausted resources). */
export class FlowlensError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A model checkpoint cannot be used: a weight file is missing, truncated or malformed
 * (safetensors header, dtype, shape), a tensor is missing or has the wrong shape, or a weight is
 * NaN/infinite. The message names the file and the tensor.
 */
export class CheckpointError extends FlowlensError {}

/** A model configuration (`config.json`, or a config object) is missing, malformed or unsupported. */
export class ConfigError extends FlowlensError {}

/** A vocabulary or tokenizer file is unusable, or a text cannot be encoded (e.g. too long). */
export class TokenizationError extends FlowlensError {}

/**
 * An index outside its range: a layer, head, token position or class that the model or the input
 * does not have. The message gives the index and the valid range.
 */
export class IndexError extends FlowlensError {}

/**
 * A computation does not fit in memory (the wasm backend's heap is capped at 4 GiB). The message
 * says what was being computed and what to reduce (batch size, sequence length, steps).
 */
export class MemoryError extends FlowlensError {}

/** An option has a value outside its domain (a non-integer step count, a negative batch size, …). */
export class OptionError extends FlowlensError {}

/**
 * Downloading from the Hugging Face hub failed: the server could not be reached, did not answer
 * within the timeouts, or answered with an error, after the retries.
 */
export class HubError extends FlowlensError {}

/** Messages of the backends' allocation failures (wasm heap growth, WebGL/WebGPU, native). */
const OUT_OF_MEMORY =
  /out of memory|cannot enlarge memory|memory access out of bounds|Array buffer allocation failed|Invalid typed array length|allocation failed|RangeError: Array buffer/i;

/** Whether an error thrown by tfjs is an allocation failure. */
export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof MemoryError) return true;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return OUT_OF_MEMORY.test(msg);
}

/**
 * Re-throws an allocation failure as a {@link MemoryError} that says what was computed; any other
 * error is re-thrown unchanged.
 *
 * @param what the computation, e.g. `forward pass of 64 × 512 tokens`.
 * @throws MemoryError or the original error, always.
 */
export function rethrowMemory(e: unknown, what: string): never {
  if (isOutOfMemory(e) && !(e instanceof MemoryError)) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new MemoryError(
      `${what} ran out of memory (${msg}); use a smaller batch, a shorter input or fewer steps (the wasm backend's heap is at most 4 GiB)`,
      { cause: e },
    );
  }
  throw e;
}
