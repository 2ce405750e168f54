/**
 * Quantities of interest (QoI): scalar functions of the model output that attributions explain.
 *
 * A QoI maps the logits of a batch to one value per example, `[batch]`. It runs inside the
 * differentiable computation, so methods take its gradient.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import { IndexError } from '../errors.js';

/** A quantity of interest: logits → `[batch]`. `describe` says what it measures (for tables and plots). */
export interface QoI {
  (logits: tf.Tensor): tf.Tensor1D;
  describe: string;
  /** MLM QoIs: the positions whose logits are needed (the forward computes logits only there). */
  positions?: number[];
  /** Class QoIs ({@link classLogit}, {@link classProb}): the class explained. */
  cls?: number;
}

function makeQoI(f: (logits: tf.Tensor) => tf.Tensor1D, describe: string, positions?: number[], cls?: number): QoI {
  const q = f as QoI;
  q.describe = describe;
  if (positions) q.positions = positions;
  if (cls !== undefined) q.cls = cls;
  return q;
}

function checkId(id: number, n: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= n) throw new IndexError(`${what} ${id} is outside 0..${n - 1}`);
}

/** Select the logits row of one position from MLM logits `[batch, k, vocab]` (k positions computed). */
function rowAt(logits: tf.Tensor, index: number): tf.Tensor2D {
  if (logits.rank !== 3) throw new Error(`token QoIs need MLM logits [batch, positions, vocab], got [${logits.shape}]`);
  const [b, , v] = logits.shape as [number, number, number];
  return logits.slice([0, index, 0], [b, 1, v]).reshape([b, v]) as tf.Tensor2D;
}

/**
 * Logit difference between two tokens at a position of a masked LM:
 * `z[position, good] − z[position, bad]` (e.g. "is" vs "are" at `[MASK]`).
 * The forward pass computes logits only at `position` (`logitsAt`), so the logits are `[batch, 1, vocab]`.
 *
 * @param position token position in the sequence; @param good, @param bad vocabulary ids.
 * @param words the two tokens as text, for `describe` (`logit(are) − logit(is)`; default the ids).
 */
export function tokenLogitDiff(position: number, good: number, bad: number, words?: { good: string; bad: string }): QoI {
  return makeQoI(
    (logits) => {
      const r = rowAt(logits, 0);
      checkId(good, r.shape[1], 'token id');
      checkId(bad, r.shape[1], 'token id');
      return tf.sub(r.slice([0, good], [-1, 1]), r.slice([0, bad], [-1, 1])).reshape([-1]) as tf.Tensor1D;
    },
    `logit(${words?.good ?? good}) − logit(${words?.bad ?? bad}) at position ${position}`,
    [position],
  );
}

/**
 * Logit of one token at a position of a masked LM, `z[position, token]` (e.g. the predicted word at
 * `[MASK]`). The forward pass computes logits only at `position`.
 *
 * @param position token position in the sequence; @param token vocabulary id.
 */
export function tokenLogit(position: number, token: number): QoI {
  return makeQoI(
    (logits) => {
      const r = rowAt(logits, 0);
      checkId(token, r.shape[1], 'token id');
      return r.slice([0, token], [-1, 1]).reshape([-1]) as tf.Tensor1D;
    },
    `logit(${token}) at position ${position}`,
    [position],
  );
}

/**
 * Probability difference `p(good) − p(bad)` at a position (softmax over the vocabulary).
 * @param position token position; @param good, @param bad vocabulary ids.
 * @param words the two tokens as text, for `describe` (`p(are) − p(is)`; default the ids).
 */
export function tokenProbDiff(position: number, good: number, bad: number, words?: { good: string; bad: string }): QoI {
  return makeQoI(
    (logits) => {
      const p = tf.softmax(rowAt(logits, 0), -1);
      checkId(good, p.shape[1], 'token id');
      checkId(bad, p.shape[1], 'token id');
      return tf.sub(p.slice([0, good], [-1, 1]), p.slice([0, bad], [-1, 1])).reshape([-1]) as tf.Tensor1D;
    },
    `p(${words?.good ?? good}) − p(${words?.bad ?? bad}) at position ${position}`,
    [position],
  );
}

/**
 * Logit of one class of a sequence classifier, `[batch, labels]` → `[batch]`.
 * @param cls class index.
 */
export function classLogit(cls: number): QoI {
  return makeQoI(
    (logits) => {
      if (logits.rank !== 2) throw new Error(`class QoIs need classifier logits [batch, labels], got [${logits.shape}]`);
      checkId(cls, logits.shape[1] as number, 'class');
      return logits.slice([0, cls], [-1, 1]).reshape([-1]) as tf.Tensor1D;
    },
    `logit of class ${cls}`,
    undefined,
    cls,
  );
}

/**
 * Probability of one class of a sequence classifier (softmax over classes).
 * @param cls class index.
 */
export function classProb(cls: number): QoI {
  return makeQoI(
    (logits) => {
      if (logits.rank !== 2) throw new Error(`class QoIs need classifier logits [batch, labels], got [${logits.shape}]`);
      checkId(cls, logits.shape[1] as number, 'class');
      return tf.softmax(logits, -1).slice([0, cls], [-1, 1]).reshape([-1]) as tf.Tensor1D;
    },
    `p(class ${cls})`,
    undefined,
    cls,
  );
}
