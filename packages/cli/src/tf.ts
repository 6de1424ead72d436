import { createRequire, registerHooks } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let gradientsLoaded = false;

/**
 * tfjs-core registers no gradients itself (the union package imports dist/register_all_gradients for it), and
 * that ESM file's relative imports lack extensions, which Node's resolver refuses: add ".js" inside tfjs-core only.
 * The gradient registry is global, so registering through this copy serves the main one.
 */
async function loadGradients(): Promise<void> {
  if (gradientsLoaded) return;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith('.') && !specifier.endsWith('.js') && context.parentURL?.includes('/@tensorflow/tfjs-core/dist/')) {
        return next(`${specifier}.js`, context);
      }
      return next(specifier, context);
    },
  });
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  gradientsLoaded = true;
}

/**
 * Training backend: wasm, loaded from the installed package's dist (works offline); the pure-JS cpu backend if
 * wasm cannot start. Returns the backend in use.
 */
export async function initTf(prefer: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  await loadGradients();
  if (prefer === 'wasm') {
    const require = createRequire(import.meta.url);
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    setWasmPaths(dist);
    try {
      if (await tf.setBackend('wasm')) return tf.getBackend();
    } catch {
      // fall through to cpu
    }
  }
  await tf.setBackend('cpu');
  return tf.getBackend();
}
