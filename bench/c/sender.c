// Traffic source for the benches: 60-byte (64 on the wire) UDP frames over a raw AF_PACKET
// socket (PACKET_QDISC_BYPASS, sendmmsg), many flows, at a fixed rate or as fast as it can.
// Flow i: source port 1024 + i % 64000, source address src + i / 64000.
// Frame j of a batch goes to dst MAC number (flow % number of MACs), so one run can feed
// several real servers directly (the "sender straight to the sink" baseline).
// --tcp-flags F: TCP segments with those flags (2 = SYN, 16 = ACK; seq 1000, no payload)
// instead of UDP: the resource bench's SYN flood and its established connections.
// --src-ip6 A --dst-ip6 B: IPv6/UDP frames instead (80 bytes: the same 18-byte payload);
// flow i then varies the source address's last 32 bits by i / 64000, as for IPv4.
// Prints one JSON line: {"sent":N,"seconds":S,"pps":P,"errors":E}
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_LEN 60
#define FRAME_LEN6 80
#define MAX_BATCH 64
#define MAX_MACS 16
#define PORTS_PER_IP 64000

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(void) {
  die("usage: sender --if IF --src-mac M --dst-mac M[,M...] --src-ip A --dst-ip B --dst-port P "
      "[--flows N] [--first-flow K] [--rate PPS (0 = max)] [--seconds S] [--count N] [--batch B] [--tcp-flags F]\n"
      "       sender ... --src-ip6 A --dst-ip6 B (IPv6/UDP instead of --src-ip/--dst-ip)");
}

int main(int argc, char **argv) {
  const char *ifname = NULL;
  uint8_t src_mac[6] = {0}, dst_macs[MAX_MACS][6];
  int mac_count = 0;
  uint32_t src_ip = 0, dst_ip = 0;
  uint16_t dst_port = 0;
  uint64_t flows = 1, first_flow = 0, rate = 0, count_limit = 0;
  double seconds = 5;
  int batch = MAX_BATCH;
  int tcp_flags = -1;
  uint8_t src6[16], dst6[16];
  int v6 = 0;
  static struct option opts[] = {
      {"if", 1, 0, 'i'}, {"src-mac", 1, 0, 'm'}, {"dst-mac", 1, 0, 'M'}, {"src-ip", 1, 0, 's'},
      {"dst-ip", 1, 0, 'd'}, {"dst-port", 1, 0, 'p'}, {"flows", 1, 0, 'f'}, {"first-flow", 1, 0, 'F'},
      {"rate", 1, 0, 'r'}, {"seconds", 1, 0, 't'}, {"count", 1, 0, 'c'}, {"batch", 1, 0, 'b'},
      {"tcp-flags", 1, 0, 'T'}, {"src-ip6", 1, 0, '6'}, {"dst-ip6", 1, 0, '7'}, {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'i': ifname = optarg; break;
      case 'm': parse_mac(optarg, src_mac); break;
      case 'M': {
        char *list = strdup(optarg);
        for (char *tok = strtok(list, ","); tok && mac_count < MAX_MACS; tok = strtok(NULL, ","))
          parse_mac(tok, dst_macs[mac_count++]);
        free(list);
        break;
      }
      case 's': src_ip = parse_ip(optarg); break;
      case 'd': dst_ip = parse_ip(optarg); break;
      case 'p': dst_port = (uint16_t)atoi(optarg); break;
      case 'f': flows = strtoull(optarg, NULL, 10); break;
      case 'F': first_flow = strtoull(optarg, NULL, 10); break;
      case 'r': rate = strtoull(optarg, NULL, 10); break;
      case 't': seconds = atof(optarg); break;
      case 'c': count_limit = strtoull(optarg, NULL, 10); break;
      case 'b': batch = atoi(optarg); break;
      case 'T': tcp_flags = atoi(optarg) & 0xff; break;
      case '6': if (inet_pton(AF_INET6, optarg, src6) != 1) die("bad IPv6 address"); v6 |= 1; break;
      case '7': if (inet_pton(AF_INET6, optarg, dst6) != 1) die("bad IPv6 address"); v6 |= 2; break;
      default: usage();
    }
  }
  if (v6 != 0 && (v6 != 3 || tcp_flags >= 0)) usage();
  if (!ifname || !mac_count || (!v6 && (!src_ip || !dst_ip)) || !dst_port || flows == 0) usage();
  const int frame_len = v6 ? FRAME_LEN6 : FRAME_LEN;
  if (batch < 1 || batch > MAX_BATCH) batch = MAX_BATCH;

  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, never receives
  if (fd < 0) { perror("socket(AF_PACKET)"); return 1; }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
  struct sockaddr_ll ll = {0};
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = (int)if_nametoindex(ifname);
  ll.sll_protocol = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
  if (ll.sll_ifindex == 0) { perror(ifname); return 1; }
  if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) { perror("bind"); return 1; }

  // Template: Ethernet + IPv4 (no options) + UDP + 18 bytes of payload.
  static uint8_t frames[MAX_BATCH][FRAME_LEN6];
  uint8_t tmpl[FRAME_LEN6] = {0};
  memcpy(tmpl + 6, src_mac, 6);
  put16(tmpl + 12, v6 ? 0x86dd : 0x0800);
  uint8_t *ip = tmpl + 14;
  if (v6) {
    // IPv6 (version 6, no extension header) + UDP + the payload.
    ip[0] = 0x60;
    put16(ip + 4, FRAME_LEN6 - 54);
    ip[6] = 17;
    ip[7] = 64;
    memcpy(ip + 8, src6, 16);
    memcpy(ip + 24, dst6, 16);
    uint8_t *udp6 = ip + 40;
    put16(udp6 + 2, dst_port);
    put16(udp6 + 4, FRAME_LEN6 - 54);
    memcpy(udp6 + 8, "ulvs-bench-payload", 18);
  } else {
    ip[0] = 0x45;
    put16(ip + 2, FRAME_LEN - 14);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 16, dst_ip);
    uint8_t *udp = ip + 20;
    put16(udp + 2, dst_port);
    if (tcp_flags >= 0) {
      // IPv4 40 bytes (TCP header only); the Ethernet frame is padded to 60 by the zeros after.
      put16(ip + 2, 40);
      ip[9] = 6;
      put32(udp + 4, 1000);
      put32(udp + 8, (tcp_flags & 0x10) ? 1 : 0);
      udp[12] = 5 << 4;
      udp[13] = (uint8_t)tcp_flags;
      put16(udp + 14, 65535);
    } else {
      put16(udp + 4, FRAME_LEN - 34);
      memcpy(udp + 8, "ulvs-bench-payload", 18);
    }
  }
  for (int j = 0; j < MAX_BATCH; j++) memcpy(frames[j], tmpl, FRAME_LEN6);

  struct iovec iov[MAX_BATCH];
  struct mmsghdr msgs[MAX_BATCH];
  memset(msgs, 0, sizeof(msgs));
  for (int j = 0; j < MAX_BATCH; j++) {
    iov[j].iov_base = frames[j];
    iov[j].iov_len = (size_t)frame_len;
    msgs[j].msg_hdr.msg_iov = &iov[j];
    msgs[j].msg_hdr.msg_iovlen = 1;
  }

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  uint64_t sent = 0, errors = 0, flow = first_flow % flows;
  uint16_t ip_id = 0;
  double start = now_seconds(), end = start + seconds, t = start;
  while (!stop && t < end && (count_limit == 0 || sent < count_limit)) {
    int n = batch;
    if (rate) {
      // Token bucket without a burst allowance: sleep until the next batch is due.
      double due = start + (double)(sent + (uint64_t)n) / (double)rate;
      if (due > t) {
        double wait = due - t;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    if (count_limit && sent + (uint64_t)n > count_limit) n = (int)(count_limit - sent);
    for (int j = 0; j < n; j++) {
      uint8_t *f = frames[j];
      uint64_t k = flow;
      if (++flow == flows) flow = 0;
      memcpy(f, dst_macs[k % (uint64_t)mac_count], 6);
      uint8_t *h = f + 14;
      if (v6) {
        put32(h + 20, get32(src6 + 12) + (uint32_t)(k / PORTS_PER_IP));
        uint8_t *u6 = h + 40;
        put16(u6, (uint16_t)(1024 + k % PORTS_PER_IP));
        put16(u6 + 6, 0);
        // UDP over IPv6: the checksum is mandatory; pseudo-header = addresses, length, next header.
        put16(u6 + 6, udp_checksum(csum_add(0, h + 8, 32) + 17 + (FRAME_LEN6 - 54), u6, FRAME_LEN6 - 54));
        continue;
      }
      put16(h + 4, ip_id++);
      put32(h + 12, src_ip + (uint32_t)(k / PORTS_PER_IP));
      put16(h + 10, 0);
      put16(h + 10, csum_fold(csum_add(0, h, 20)));
      uint8_t *u = h + 20;
      put16(u, (uint16_t)(1024 + k % PORTS_PER_IP));
      if (tcp_flags >= 0) {
        put16(u + 16, 0);
        uint32_t tsum = csum_add(0, h + 12, 8) + 6 + 20;
        put16(u + 16, csum_fold(csum_add(tsum, u, 20)));
        continue;
      }
      put16(u + 6, 0);
      // UDP checksum over the pseudo-header (addresses, protocol, length) and the datagram.
      put16(u + 6, udp_checksum(csum_add(0, h + 12, 8) + 17 + (FRAME_LEN - 34), u, FRAME_LEN - 34));
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r > 0) sent += (uint64_t)r;
    else if (r < 0) {
      errors++;
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) { perror("sendmmsg"); break; }
    }
    // Frames the kernel refused are not resent: the next batch rebuilds them for later flows.
    t = now_seconds();
  }
  double elapsed = now_seconds() - start;
  printf("{\"sent\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"errors\":%llu}\n", (unsigned long long)sent, elapsed,
         elapsed > 0 ? (double)sent / elapsed : 0.0, (unsigned long long)errors);
  return 0;
}
