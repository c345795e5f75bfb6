export * from './flow.js';
export * from './workload.js';
export * from './policy.js';
export * from './verdict.js';
export * from './connection.js';
