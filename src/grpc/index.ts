export * from './status.js';
export * from './call.js';
