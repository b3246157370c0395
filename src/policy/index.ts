export * from './schema';
export * from './frozen';
export * from './dra';
export * from './official';
