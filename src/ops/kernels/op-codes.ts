// The layer pass's op codes: one table for the TypeScript kernels and the AssemblyScript
// ones (simd-source/layer-pass.ts imports this file, so it is written in the subset both
// compilers take). A code is the op's index in ALL_OP_NAMES (src/ops/names.ts); a test
// checks the two orders agree.
export const SHEAR_X = 0;
export const SHEAR_Y = 1;
export const TRANSLATE_X = 2;
export const TRANSLATE_Y = 3;
export const ROTATE = 4;
export const BRIGHTNESS = 5;
export const COLOR = 6;
export const SHARPNESS = 7;
export const CONTRAST = 8;
export const CUTOUT = 9;
export const SOLARIZE = 10;
export const POSTERIZE = 11;
export const EQUALIZE = 12;
export const AUTO_CONTRAST = 13;
export const INVERT = 14;
export const SOLARIZE_ADD = 15;
/** Identity, which the pass skips. */
export const IDENTITY = -1;
