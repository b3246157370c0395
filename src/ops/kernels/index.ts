/**
 * The ops' host kernels, registered here and only here (on import): whoever dispatches
 * to one (through hostKernelOr) imports its name from this module, so the kernel is
 * registered before the first call. Gradients of the kernels register in their files.
 */
import { registerHostKernels } from '../../engine/host-kernels';
import { BLEND_KERNELS } from './blend';
import { HISTOGRAM_KERNELS } from './histogram';
import { LAYER_PASS_KERNELS } from './layer-pass';
import { POINTWISE_KERNELS } from './pointwise';
import { ROWS_KERNELS } from './rows';
import { WARP_KERNELS } from './warp';

registerHostKernels([...WARP_KERNELS, ...LAYER_PASS_KERNELS, ...HISTOGRAM_KERNELS, ...BLEND_KERNELS, ...POINTWISE_KERNELS, ...ROWS_KERNELS]);

export { AFFINE_WARP, type AffineWarpAttrs } from './warp';
export { LAYER_PASS, type LayerPassAttrs } from './layer-pass';
export { AUTO_CONTRAST, EQUALIZE } from './histogram';
export { BLEND, GRAYSCALE, type GrayscaleAttrs, LUMA, SMOOTH, type SmoothAttrs } from './blend';
export { CUTOUT, type CutoutAttrs, POSTERIZE, SOLARIZE, SOLARIZE_ADD } from './pointwise';
export { type BlocksAttrs, CONCAT_ROWS, GATHER_BLOCKS, GATHER_ROWS, SCATTER_BLOCKS, SPLIT_ROWS, type SplitRowsAttrs, scatterBlocksInputs } from './rows';
