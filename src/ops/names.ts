/** The 16 DRA candidate operators, in the paper's (and the policy file's) order. */
export const DRA_OP_NAMES = [
  'ShearX',
  'ShearY',
  'TranslateX',
  'TranslateY',
  'Rotate',
  'Brightness',
  'Color',
  'Sharpness',
  'Contrast',
  'Cutout',
  'Solarize',
  'Posterize',
  'Equalize',
  'AutoContrast',
  'Invert',
  'SolarizeAdd',
] as const;

export type DraOpName = (typeof DRA_OP_NAMES)[number];
/** Every operator the library knows: the DRA 16 plus Identity for baselines. */
export type OpName = DraOpName | 'Identity';
export const ALL_OP_NAMES: readonly OpName[] = [...DRA_OP_NAMES, 'Identity'];

/**
 * Operators whose output does not depend on the magnitude: their mu and sigma are
 * parameters of the policy all the same, but sampling them changes nothing.
 */
export const MAGNITUDE_FREE_OPS: readonly OpName[] = ['Equalize', 'AutoContrast', 'Invert', 'Identity'];

/** Whether an operator's output depends on its magnitude (false for the magnitude-free ones). */
export function takesMagnitude(name: string): boolean {
  return !(MAGNITUDE_FREE_OPS as readonly string[]).includes(name);
}

export function isOpName(name: string): name is OpName {
  return (ALL_OP_NAMES as readonly string[]).includes(name);
}

/** Throws a clear error for an unknown operator name, listing the known ones. */
export function assertOpName(name: string, where = 'operator'): OpName {
  if (!isOpName(name)) {
    throw new Error(`unknown ${where} '${name}'; expected one of ${ALL_OP_NAMES.join(', ')}`);
  }
  return name;
}
