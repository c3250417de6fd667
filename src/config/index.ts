/** The config room's public face. */
export { loadConfig, loadConfigText, validateSource, type LoadedConfig } from './load.js';
export { ConfigError, formatDiagnostic, formatWarning, type Diagnostic } from './diagnostics.js';
export { loadSource, MAX_CONFIG_BYTES } from './source.js';
export { ulvsConfigSchema, configJsonSchema } from './schema.js';
export type * from './schema.js';
export {
  LB_ALGOS, LB_KINDS, PROTOCOLS, IO_BACKENDS, CHECKER_KINDS, DEFAULT_LVS_TIMEOUTS, MAX_WEIGHT, parseGroupMember,
} from './raw-schema.js';
export { CHECKER_DEFAULTS } from './normalize.js';
