/** Figure builders (plain data -> plotly figure JSON), a static SVG renderer and HTML helpers. */
export * from './types';
export { VIRIDIS, CATEGORY_COLOURS } from './common';
export * from './losses';
export * from './probabilities';
export * from './magnitudes';
export * from './images';
export * from './svg';
export * from './html';
