// Receiving end of the benches, run inside a real server's namespace.
//   sink --if eth0 --port P --seconds S   counts UDP frames to port P seen on the interface
//                                          (raw AF_PACKET socket, classic BPF filter, recvmmsg)
//                                          and prints {"received":N,"seconds":S}
//   sink ... --ipv6                        the same for IPv6/UDP (no extension header)
//   sink --echo P --seconds S              UDP echo server on 0.0.0.0:P (for rtt)
// Counting on a packet socket sees the frame whatever the kernel does with it afterwards (DR
// frames to the VIP on lo, NAT frames to the real address) and needs no listener on the port.
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SNAP 64

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int count_mode(const char *ifname, uint16_t port, double seconds, int v6) {
  int ethertype = v6 ? ETH_P_IPV6 : ETH_P_IP;
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ethertype));
  if (fd < 0) { perror("socket(AF_PACKET)"); return 1; }
  // Addressed to this host (a bridge floods frames for MACs it has not learnt yet: those
  // arrive as PACKET_OTHERHOST and must not count), ip[9] == 17, no fragment offset, udp dst
  // port == port (IPv4 header length from ihl).
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 8, 0),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 6),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SNAP),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  // IPv6: addressed to this host, next header (offset 20) UDP, destination port at 14 + 40 + 2.
  struct sock_filter code6[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 5, 0),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 3),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 56),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SNAP),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = v6 ? (struct sock_fprog){sizeof(code6) / sizeof(code6[0]), code6}
                              : (struct sock_fprog){sizeof(code) / sizeof(code[0]), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) { perror("SO_ATTACH_FILTER"); return 1; }
  int rcvbuf = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
  struct sockaddr_ll ll = {0};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ethertype);
  ll.sll_ifindex = (int)if_nametoindex(ifname);
  if (ll.sll_ifindex == 0) { perror(ifname); return 1; }
  if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) { perror("bind"); return 1; }
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  // Ready: the harness starts the sender after this line.
  fprintf(stderr, "sink ready\n");

  static uint8_t bufs[BATCH][SNAP];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof(msgs));
  for (int j = 0; j < BATCH; j++) {
    iov[j].iov_base = bufs[j];
    iov[j].iov_len = SNAP;
    msgs[j].msg_hdr.msg_iov = &iov[j];
    msgs[j].msg_hdr.msg_iovlen = 1;
  }
  uint64_t received = 0;
  double start = now_seconds(), end = start + seconds;
  while (!stop && now_seconds() < end) {
    int r = recvmmsg(fd, msgs, BATCH, 0, NULL);
    if (r > 0) received += (uint64_t)r;
    else if (r < 0 && errno != EAGAIN && errno != EINTR) { perror("recvmmsg"); break; }
  }
  struct tpacket_stats st;
  socklen_t len = sizeof(st);
  unsigned drops = 0;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops = st.tp_drops;
  printf("{\"received\":%llu,\"seconds\":%.6f,\"socketDrops\":%u}\n", (unsigned long long)received,
         now_seconds() - start, drops);
  return 0;
}

static int echo_mode(uint16_t port, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) { perror("bind"); return 1; }
  struct timeval tv = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  fprintf(stderr, "sink ready\n");
  // Answer from the address the request was sent to (the VIP in DR), not the one routing
  // would pick: IP_PKTINFO in, ipi_spec_dst out.
  int on = 1;
  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
  uint8_t buf[2048];
  char control[CMSG_SPACE(sizeof(struct in_pktinfo))];
  uint64_t echoed = 0;
  double end = now_seconds() + seconds;
  while (!stop && now_seconds() < end) {
    struct sockaddr_in from;
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr msg = {&from, sizeof(from), &iov, 1, control, sizeof(control), 0};
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0) continue;
    struct in_pktinfo *info = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) info = (struct in_pktinfo *)CMSG_DATA(c);
    if (info) {
      info->ipi_ifindex = 0;
      info->ipi_spec_dst = info->ipi_addr;
    }
    iov.iov_len = (size_t)n;
    msg.msg_controllen = info ? sizeof(control) : 0;
    msg.msg_flags = 0;
    if (sendmsg(fd, &msg, 0) == n) echoed++;
  }
  printf("{\"echoed\":%llu}\n", (unsigned long long)echoed);
  return 0;
}

int main(int argc, char **argv) {
  const char *ifname = NULL;
  int port = 0, echo = 0, v6 = 0;
  double seconds = 5;
  static struct option opts[] = {{"if", 1, 0, 'i'}, {"port", 1, 0, 'p'}, {"echo", 1, 0, 'e'},
                                 {"seconds", 1, 0, 't'}, {"ipv6", 0, 0, '6'}, {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'i': ifname = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'e': echo = atoi(optarg); break;
      case 't': seconds = atof(optarg); break;
      case '6': v6 = 1; break;
      default: die("usage: sink --if IF --port P --seconds S [--ipv6] | sink --echo P --seconds S");
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  if (echo) return echo_mode((uint16_t)echo, seconds);
  if (!ifname || !port) die("usage: sink --if IF --port P --seconds S | sink --echo P --seconds S");
  return count_mode(ifname, (uint16_t)port, seconds, v6);
}
