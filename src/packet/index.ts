// The packet room's public face: parse and rewrite frames in place (hot path), plus the
// config-time address helpers. Builders and the pcap writer are test/bench support and are
// imported from './build.js' and './pcap.js' directly.
export * from './addr.js';
export * from './checksum.js';
export * from './parse.js';
export * from './rewrite.js';
export * from './tunnels.js';
export * from './addr6.js';
export * from './checksum6.js';
export * from './ipv6.js';
export * from './rewrite6.js';
