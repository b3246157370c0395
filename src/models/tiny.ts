/**
 * tiny-cnn: a CPU-sized network for demos and tests (about 24k parameters). Three 3x3
 * conv-BN-ReLU layers of 16, 32, 64 channels (the last two with stride 2), global
 * average pooling, a linear layer.
 */
import { batchNorm, conv, dense, globalAveragePool, ParamTable, relu } from './layers';
import type { Architecture } from './network';

export function tinyCnn(inChannels: number, numClasses: number, affine: boolean): Architecture {
  const table = new ParamTable();
  const widths = [16, 32, 64];
  const layers = widths.map((out, i) => {
    const inC = i === 0 ? inChannels : widths[i - 1]!;
    const c = conv(table, `conv${i + 1}`, 3, inC, out, i === 0 ? 1 : 2);
    const n = batchNorm(table, `bn${i + 1}`, out, affine);
    return { c, n };
  });
  const fc = dense(table, 'fc', widths[widths.length - 1]!, numClasses);
  return {
    table,
    forward: (ctx, x) => {
      let h = x;
      for (const { c, n } of layers) h = relu(n(ctx, c(ctx, h)));
      return fc(ctx, globalAveragePool(h));
    },
  };
}
