// Entry point of the compiled module (npm run asbuild): every exported kernel.
export { affineWarp } from './warp';
export { smoothInterior } from './smooth';
export { layerPass } from './layer-pass';
