// Connection sync between directors (issue 11): IPVS sync protocol v1 on the wire.
export * from './wire.js';
export * from './codec.js';
export * from './sign.js';
export * from './mapping.js';
export * from './transport.js';
