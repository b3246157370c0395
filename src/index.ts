export * from './backend/select';
export * from './ops/names';
export * from './util/rng';
export type * from './models/types';
export * from './data';
export type * from './search/record';
