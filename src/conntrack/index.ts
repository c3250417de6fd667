// The connection-tracking room: flow table, IPVS TCP/UDP states and timeouts, persistence.
export { FlowTable, Proto, MAX_FLOW_CAPACITY, MAX_REAL_SERVER_IDS } from './flow-table.js';
export type { FlowTableOptions, FlowStats, FlowEntry } from './flow-table.js';
export { PersistenceTable, MAX_TEMPLATE_CAPACITY } from './persistence.js';
export type { PersistenceTableOptions, TemplateEntry, TemplateStats } from './persistence.js';
export {
  TCP_STATE_NAMES, UDP_STATE_NAME, DEFAULT_TIMEOUTS, formatTimeouts, mergeTimeouts, nextTcpState,
  TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK,
  TCP_NONE, TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT, TCP_TIME_WAIT, TCP_CLOSE,
  TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN, TCP_SYNACK, TCP_STATE_ACTIVE,
} from './tcp-states.js';
export type { Timeouts } from './tcp-states.js';
