export { AfxdpPort } from './afxdp.js';
export { describeIoError } from './errors.js';
export { cleanupInterface, detachXdp, openPort, waitReadable, type OpenPortOptions } from './open.js';
export * from './port.js';
export { TapPort } from './tap.js';
