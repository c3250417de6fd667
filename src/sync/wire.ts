// IPVS sync protocol version 1: the numbers, as the kernel defines them in
// net/netfilter/ipvs/ip_vs_sync.c, include/uapi/linux/ip_vs.h and include/net/ip_vs.h.
// Pure data plus the maxlen rule; codec.ts lays records out with these.

/** IP_VS_SYNC_GROUP (224.0.0.81) and IP_VS_SYNC_PORT, the defaults of keepalived's lvs_sync_daemon. */
export const SYNC_GROUP = '224.0.0.81';
export const SYNC_PORT = 8848;
export const SYNC_TTL = 1;

/** SYNC_PROTO_VER: the version byte of struct ip_vs_sync_mesg. */
export const SYNC_PROTO_VERSION = 1;

/** sizeof(struct ip_vs_sync_mesg): reserved u8, syncid u8, size be16, nr_conns u8, version s8, spare u16. */
export const MESSAGE_HEADER_LEN = 8;
/**
 * Bytes of a record before its addresses: type u8 @0, protocol u8 @1, ver_size be16 @2,
 * flags be32 @4, state be16 @8, cport @10, vport @12, dport @14 (be16), fwmark be32 @16,
 * timeout be32 @20 (seconds). No padding anywhere in the struct.
 */
export const RECORD_FIXED_LEN = 24;
/** sizeof(struct ip_vs_sync_v4): the fixed part, then caddr @24, vaddr @28, daddr @32. */
export const RECORD_V4_LEN = 36;
/** sizeof(struct ip_vs_sync_v6): the fixed part, then three struct in6_addr @24, @40, @56. */
export const RECORD_V6_LEN = 72;
/** nr_conns is a u8: a message never holds more records than this. */
export const MAX_RECORDS_PER_MESSAGE = 255;

/** The type byte: bit STYPE_INET6 set means an IPv6 record; 0 means IPv4. */
export const STYPE_F_INET6 = 1;
/** ver_size: version in the top 4 bits (only 0 exists), record size in the low 12. */
export const SVER_SHIFT = 12;
export const SVER_MASK = 0x0fff;

/** Option (parameter) types after a record's addresses: type u8, length u8, data. */
export const IPVS_OPT_SEQ_DATA = 1;
export const IPVS_OPT_PE_DATA = 2;
export const IPVS_OPT_PE_NAME = 3;
export const IPVS_OPT_PARAM = 7;
/** An option type with this bit set may be skipped by a receiver that does not know it. */
export const IPVS_OPT_F_PARAM = 1 << (IPVS_OPT_PARAM - 1);
/** sizeof(struct ip_vs_sync_conn_options): in_seq and out_seq, each init_seq, delta, previous_delta (be32). */
export const SEQ_OPTION_LEN = 24;
/** IP_VS_PEDATA_MAXLEN and IP_VS_PENAME_MAXLEN. */
export const PE_DATA_MAX_LEN = 255;
export const PE_NAME_MAX_LEN = 16;

/** IP_VS_CONN_F_*: the connection flags word (only bits 0..15 mean anything to a backup). */
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;
export const IP_VS_CONN_F_SYNC = 0x0020;
export const IP_VS_CONN_F_HASHED = 0x0040;
export const IP_VS_CONN_F_NOOUTPUT = 0x0080;
export const IP_VS_CONN_F_INACTIVE = 0x0100;
export const IP_VS_CONN_F_OUT_SEQ = 0x0200;
export const IP_VS_CONN_F_IN_SEQ = 0x0400;
export const IP_VS_CONN_F_SEQ_MASK = 0x0600;
export const IP_VS_CONN_F_NO_CPORT = 0x0800;
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;
/** What a kernel backup keeps of a received flags word (it then adds IP_VS_CONN_F_SYNC). */
export const IP_VS_CONN_F_BACKUP_MASK = IP_VS_CONN_F_FWD_MASK | IP_VS_CONN_F_NOOUTPUT |
  IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_SEQ_MASK | IP_VS_CONN_F_NO_CPORT | IP_VS_CONN_F_TEMPLATE;

/** IP_VS_TCP_S_*: the same numbers ulvs's conntrack uses (src/conntrack/tcp-states.ts). */
export const IP_VS_TCP_S_NONE = 0;
export const IP_VS_TCP_S_ESTABLISHED = 1;
export const IP_VS_TCP_S_SYN_SENT = 2;
export const IP_VS_TCP_S_SYN_RECV = 3;
export const IP_VS_TCP_S_FIN_WAIT = 4;
export const IP_VS_TCP_S_TIME_WAIT = 5;
export const IP_VS_TCP_S_CLOSE = 6;
export const IP_VS_TCP_S_CLOSE_WAIT = 7;
export const IP_VS_TCP_S_LAST_ACK = 8;
export const IP_VS_TCP_S_LISTEN = 9;
export const IP_VS_TCP_S_SYNACK = 10;
export const IP_VS_TCP_S_LAST = 11;
/** IP_VS_UDP_S_NORMAL: UDP has one state. */
export const IP_VS_UDP_S_NORMAL = 0;
export const IP_VS_UDP_S_LAST = 1;
/** IP_VS_CTPL_S_*: persistence template states. */
export const IP_VS_CTPL_S_NONE = 0;
export const IP_VS_CTPL_S_ASSURED = 1;
export const IP_VS_CTPL_S_LAST = 2;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** IPv4 + UDP header bytes (the kernel's hlen for an AF_INET sync socket). */
const IPV4_UDP_HEADER_LEN = 20 + 8;
const MAX_IPV4_DATAGRAM_PAYLOAD = 65535 - IPV4_UDP_HEADER_LEN;

/**
 * The largest sync message a daemon sends or accepts, as start_sync_thread() computes it
 * (Linux >= 4.7, where `sync_maxlen` and keepalived's `maxlen` appeared):
 *  - not configured: a master uses 1500 - 28 = 1472 whatever the interface MTU (so that every
 *    backup on the segment can take it); a backup uses clamp(mtu, 1500, 65535) - 28.
 *  - configured: clamped to 1..65507 for a master and 1024..65507 for a backup.
 */
export function syncMaxLen(role: 'master' | 'backup', mtu: number, configured = 0): number {
  if (configured > 0) {
    const min = role === 'backup' ? 1024 : 1;
    return Math.min(Math.max(Math.trunc(configured), min), MAX_IPV4_DATAGRAM_PAYLOAD);
  }
  const effectiveMtu = role === 'backup' ? Math.min(Math.max(mtu, 1500), 65535) : 1500;
  return effectiveMtu - IPV4_UDP_HEADER_LEN;
}
