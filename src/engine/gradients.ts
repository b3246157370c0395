/**
 * Gradient registrations for tfjs-core.
 *
 * tfjs-core's CommonJS build (what Node and tslab load) registers no gradient functions;
 * they ship in the Node bundle of the `@tensorflow/tfjs` package, which registers all of
 * them into the same global registry when loaded. tfjs-core's Tensor class checks
 * instances structurally, so tensors stay interchangeable across the two copies.
 */
import * as tf from '@tensorflow/tfjs-core';

let loaded = false;

/** Makes sure every tfjs gradient is registered (loads `@tensorflow/tfjs` once). */
export function ensureGradients(): void {
  if (loaded || tf.getGradient('Conv2D') !== undefined) {
    loaded = true;
    return;
  }
  // The bundle sets the Node platform again; PROD silences that one warning.
  const wasProd = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    require('@tensorflow/tfjs');
  } finally {
    tf.env().set('PROD', wasProd);
  }
  if (tf.getGradient('Conv2D') === undefined) throw new Error('loading @tensorflow/tfjs registered no gradients');
  loaded = true;
}

ensureGradients();
