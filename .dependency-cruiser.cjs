/**
 * The layering of dralab (docs/architecture.md), checked by dependency-cruiser on every
 * `npm test` (test/architecture.test.ts) and by `npm run lint:deps`: a module imports
 * only from its own layer's folder or from layers below it, and nothing imports in a
 * circle. Type-only imports count: a type is a dependency too.
 */
// Lowest first. Folders on one line are one layer: they may not import each other.
const LAYERS = [
  ['src/util'],
  ['src/engine'],
  ['src/backend', 'src/ops'],
  ['src/policy', 'src/models', 'src/data'],
  ['src/train'],
  ['src/search'],
  ['widgets'],
  ['src/notebook'],
  ['src/report'],
  ['src/cli'],
];

const escape = (folder) => folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathOf = (folders) => `^(${folders.map(escape).join('|')})/`;

const upward = LAYERS.flatMap((layer, level) =>
  layer.map((folder) => {
    const above = LAYERS.slice(level + 1).flat();
    const sideways = layer.filter((other) => other !== folder);
    const forbidden = [...above, ...sideways];
    return {
      name: `layer-${folder.replace(/\//g, '-')}`,
      comment: `${folder} may import only its own folder and the layers below it (docs/architecture.md)`,
      severity: 'error',
      from: { path: pathOf([folder]) },
      to: { path: pathOf(forbidden) },
    };
  }).filter((rule) => rule.to.path !== '^()/'),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one: split the shared part into a lower module',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/|simd-source/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },

};
