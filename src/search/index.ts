export * from './config';
export * from './history';
export * from './checkpoint';
export * from './persist';
export * from './search';
export type * from './record';
export * from './summary';
