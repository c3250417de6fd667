// Public face of the lab: topology data, create/destroy, the real servers' HTTP service.
export * from './topology.js';
export { createLab, destroyLab, labStatus, listLabPrefixes, type CreateLabOptions, type DestroyLabOptions, type LabStatus, type LabNodeStatus } from './lab.js';
export { startServer, stopServer, runningServerPid, namespaceExists, pidfilePath, LAB_RUN_DIR, LAB_SERVER_PORT, type ServerOptions } from './servers.js';
export { LabCommandError, labExec, type ExecResult } from './shell.js';
export { sleep, waitFor, waitForOrFail } from './wait.js';
export { labDirectorConfig, labService, labRealServer, labVrrpInstance, LAB_REAL_SERVERS, type LabDirectorConfig, type LabService, type LabRealServer, type LabVrrpInstance } from './configs.js';
export { LAB_IPV6, enableQuietIpv6 } from './ipv6.js';
export { keepalivedConf, keepalivedLaunch, signalKeepalived, type KeepalivedConfOptions, type KeepalivedLaunch } from './keepalived.js';
export {
  createLinkedNamespaces,
  destroyLinkedNamespaces,
  type LinkSpec,
  type LinkedNamespacesOptions,
  type LinkedNamespaces,
  type BuiltLink,
} from './linked.js';
