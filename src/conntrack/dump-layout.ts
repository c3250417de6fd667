// The words of one entry of a connection dump (src/dataplane/conn-dump.ts), written by the
// tables' dumpInto and read by the main thread's formatter. Plain numbers: both sides inline them.
/** protocol << 8 | state (TCP_STATE_NAMES index; DUMP_STATE_NONE for a template). */
export const DUMP_META = 0;
export const DUMP_EXPIRES_IN = 1;
export const DUMP_CLIENT = 2;
/** client port << 16 | virtual port */
export const DUMP_PORTS = 3;
export const DUMP_VIP = 4;
export const DUMP_RS_IP = 5;
export const DUMP_RS_PORT = 6;
/** Words per entry. */
export const DUMP_WORDS = 7;
/** The state byte of a persistence template (ipvsadm lists it as NONE). */
export const DUMP_STATE_NONE = 0xff;
