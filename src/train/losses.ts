/**
 * Loss and metric helpers on logits [N, K] and integer labels [N]. All return scalars
 * that stay on the gradient path (except accuracy, which has no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';

function checkLogitsLabels(logits: tf.Tensor2D, labels: tf.Tensor1D, what: string): void {
  if (logits.rank !== 2) throw new Error(`${what}: logits must be [N, K], got [${logits.shape.join(', ')}]`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`${what}: labels must be [${logits.shape[0]}] to match logits, got [${labels.shape.join(', ')}]`);
  }
}

/** Mean softmax cross-entropy of integer labels, computed through logSoftmax (stable). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  checkLogitsLabels(logits, labels, 'crossEntropy');
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/** Fraction of rows whose argmax equals the label. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  checkLogitsLabels(logits, labels, 'accuracy');
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar);
}

/**
 * Batch mean of KL(softmax(p) || softmax(q)) = sum p (log p - log q), for logits p, q
 * of the same shape: the DRA policy loss's consistency term, with p the clean logits.
 */
export function klDivergence(logitsP: tf.Tensor2D, logitsQ: tf.Tensor2D): tf.Scalar {
  if (logitsP.rank !== 2 || logitsP.shape.join() !== logitsQ.shape.join()) {
    throw new Error(`klDivergence: logits must be two [N, K] tensors of one shape, got [${logitsP.shape.join(', ')}] and [${logitsQ.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logitsP);
    const logQ = tf.logSoftmax(logitsQ);
    return tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1)) as tf.Scalar;
  });
}

/** Global L2 norm of a list of tensors, as a scalar tensor. */
export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => (tensors.length === 0 ? tf.scalar(0) : tf.sqrt(sumScalars(tensors.map((t) => tf.sum(tf.square(t)))))) as tf.Scalar);
}

/**
 * Scales the tensors so their global L2 norm is at most clipNorm (torch's
 * clip_grad_norm_: factor clipNorm / (norm + 1e-6) when it is below 1). Always returns
 * new tensors, which the caller owns; the inputs are left alone.
 */
export function clipByGlobalNorm(tensors: readonly tf.Tensor[], clipNorm: number): tf.Tensor[] {
  if (!(clipNorm > 0)) throw new Error(`clipNorm must be a positive number, got ${clipNorm}`);
  return tf.tidy(() => {
    const norm = globalNorm(tensors);
    const factor = tf.minimum(tf.div(clipNorm, tf.add(norm, 1e-6)), 1);
    return tensors.map((t) => tf.mul(t, factor));
  });
}

/**
 * The sum of scalars, added in groups: one addN over every variable of a model (60 for a
 * ResNet-20) binds more storage buffers than a WebGPU shader may (8 on many adapters).
 */
export function sumScalars(scalars: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    let terms = [...scalars];
    while (terms.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < terms.length; i += 7) next.push(terms.length - i === 1 ? terms[i]! : tf.addN(terms.slice(i, i + 7)));
      terms = next;
    }
    return (terms[0] ?? tf.scalar(0)) as tf.Scalar;
  });
}
