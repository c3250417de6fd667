// Reference forwarder: the same DR and NAT rewrites as ulvs, over AF_XDP, in C with no
// JavaScript: the ceiling for this machine. Uses ulvs's own XDP object (build/native/Release/
// ulvs_xdp.o: `services` / `replies` steering maps and the `xsks` map) so that both take
// exactly the same packets. Sleeps in poll() when idle (need_wakeup), as ulvs does by default.
// Stateless: the real server is a hash of the 5-tuple (no flow table), so it is a ceiling.
//   ref_forwarder --obj ulvs_xdp.o --mode dr  --if eth0 --vip V --port P [--port P2 ...] --rs IP@MAC ... [--seconds S]
//   (DR steers every --port given: the latency bench forwards its echo port beside the load's)
//   ref_forwarder --obj ulvs_xdp.o --mode nat --if eth0 --inside eth1 --vip V --port P
//                 --rs IP:PORT@MAC ... [--seconds S]
// Prints {"rx":N,"forwarded":N,"dropped":N,"seconds":S} on exit (SIGTERM/SIGINT or --seconds).
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "../../native/bpf/steering.h"

#define FRAME_SIZE 2048
#define NUM_FRAMES 8192
#define RING_SIZE 4096
#define BATCH 256
#define MAX_RS 64

struct port {
  const char *ifname;
  int ifindex;
  uint8_t mac[6];
  struct bpf_object *obj;
  int prog_fd;
  uint8_t *area;
  struct xsk_umem *umem;
  struct xsk_ring_prod fill, tx;
  struct xsk_ring_cons comp, rx;
  struct xsk_socket *xsk;
  int fd;
  uint64_t free_frames[NUM_FRAMES];  // frames owned by us, neither in a ring nor in flight
  uint32_t free_count;
  uint32_t tx_outstanding;
};

struct real_server { uint32_t ip; uint16_t port; uint8_t mac[6]; };

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static struct real_server servers[MAX_RS];
static int server_count;
static uint32_t vip;
static uint16_t vport;              // the first --port: NAT rewrites replies' source to it
#define MAX_PORTS 8
static uint16_t dr_ports[MAX_PORTS];  // DR: every --port, all steered
static int port_count;
static uint64_t rx_total, forwarded, dropped;
static uint8_t client_gw_mac[6];  // NAT: MAC the last request came from (the client side's next hop)

static void read_mac(const char *ifname, uint8_t mac[6]) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); exit(1); }
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  close(s);
}

static void steer(struct port *p, const char *map_name, uint32_t ip, uint16_t port) {
  struct ulvs_steer_key key = {htonl(ip), htons(port), 17, 0};
  uint8_t one = 1;
  int fd = bpf_object__find_map_fd_by_name(p->obj, map_name);
  if (fd < 0 || bpf_map_update_elem(fd, &key, &one, BPF_ANY) < 0) { perror("steering map"); exit(1); }
}

static void open_port(struct port *p, const char *obj_path) {
  p->ifindex = (int)if_nametoindex(p->ifname);
  if (!p->ifindex) { perror(p->ifname); exit(1); }
  read_mac(p->ifname, p->mac);
  p->obj = bpf_object__open_file(obj_path, NULL);
  if (!p->obj) { fprintf(stderr, "cannot open %s\n", obj_path); exit(1); }
  // The object's VLAN variant uses metadata kfuncs and must be loaded device-bound: the
  // reference steers as ulvs_xdp does and needs only that program.
  struct bpf_program *vlan = bpf_object__find_program_by_name(p->obj, "ulvs_xdp_vlan");
  if (vlan) bpf_program__set_autoload(vlan, false);
  if (bpf_object__load(p->obj) < 0) { fprintf(stderr, "cannot load %s\n", obj_path); exit(1); }
  p->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(p->obj, "ulvs_xdp"));
  int rc = bpf_xdp_attach(p->ifindex, p->prog_fd, XDP_FLAGS_DRV_MODE, NULL);
  if (rc < 0) { fprintf(stderr, "bpf_xdp_attach %s: %s\n", p->ifname, strerror(-rc)); exit(1); }

  p->area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p->area == MAP_FAILED) { perror("mmap"); exit(1); }
  struct xsk_umem_config uc = {RING_SIZE, RING_SIZE, FRAME_SIZE, 0, 0};
  rc = xsk_umem__create(&p->umem, p->area, (uint64_t)NUM_FRAMES * FRAME_SIZE, &p->fill, &p->comp, &uc);
  if (rc) { fprintf(stderr, "xsk_umem__create: %s\n", strerror(-rc)); exit(1); }
  struct xsk_socket_config sc = {0};
  sc.rx_size = RING_SIZE;
  sc.tx_size = RING_SIZE;
  sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  sc.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;  // veth: copy mode
  rc = xsk_socket__create(&p->xsk, p->ifname, 0, p->umem, &p->rx, &p->tx, &sc);
  if (rc) { fprintf(stderr, "xsk_socket__create: %s\n", strerror(-rc)); exit(1); }
  p->fd = xsk_socket__fd(p->xsk);
  uint32_t key = 0;
  if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(p->obj, "xsks"), &key, &p->fd, BPF_ANY) < 0) {
    perror("xsks map");
    exit(1);
  }
  // Half the frames wait in the fill ring for rx, half stay free for frames copied in from the other port.
  uint32_t idx;
  uint32_t n = xsk_ring_prod__reserve(&p->fill, NUM_FRAMES / 2, &idx);
  for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&p->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
  xsk_ring_prod__submit(&p->fill, n);
  for (uint32_t i = n; i < NUM_FRAMES; i++) p->free_frames[p->free_count++] = (uint64_t)i * FRAME_SIZE;
}

// The kernel's view of the socket: why packets never reached us (rx ring full, no fill frames).
static void print_socket_stats(const char *label, struct port *p) {
  struct xdp_statistics st;
  socklen_t len = sizeof(st);
  if (getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0) return;
  fprintf(stderr, "%s: rx_dropped %llu rx_ring_full %llu fill_ring_empty %llu tx_invalid %llu\n", label,
          (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
          (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.tx_invalid_descs);
}

static void close_port(struct port *p) {
  if (p->xsk) xsk_socket__delete(p->xsk);
  if (p->umem) xsk_umem__delete(p->umem);
  if (p->ifindex) bpf_xdp_detach(p->ifindex, XDP_FLAGS_DRV_MODE, NULL);
  if (p->obj) bpf_object__close(p->obj);
}

// Completed tx frames: back to the fill ring when they were rx frames of this port
// (same_port_refill), else to the free list.
static void reap_completions(struct port *p) {
  uint32_t idx;
  uint32_t n = xsk_ring_cons__peek(&p->comp, RING_SIZE, &idx);
  if (!n) return;
  for (uint32_t i = 0; i < n; i++) p->free_frames[p->free_count++] = *xsk_ring_cons__comp_addr(&p->comp, idx + i);
  xsk_ring_cons__release(&p->comp, n);
  p->tx_outstanding -= n;
}

static uint32_t copy_reserve;  // NAT: frames kept free for copies from the other port

static void refill(struct port *p) {
  uint32_t want = p->free_count > copy_reserve ? p->free_count - copy_reserve : 0;
  uint32_t room = xsk_prod_nb_free(&p->fill, want);  // reserve is all-or-nothing
  if (room < want) want = room;
  if (!want) return;
  uint32_t idx;
  uint32_t n = xsk_ring_prod__reserve(&p->fill, want, &idx);
  for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&p->fill, idx + i) = p->free_frames[--p->free_count];
  xsk_ring_prod__submit(&p->fill, n);
}

// Copy mode sends at most 32 frames per sendto() (the kernel's tx batch) and answers EAGAIN
// while more are queued: kick until the ring is drained (bounded), reaping completions between.
static void kick_tx(struct port *p) {
  if (!xsk_ring_prod__needs_wakeup(&p->tx)) return;
  for (int i = 0; i < 64; i++) {
    if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || errno != EAGAIN) break;
    reap_completions(p);
  }
}

static inline uint32_t flow_hash(const uint8_t *ip, const uint8_t *l4) {
  uint32_t h = get32(ip + 12) * 0x9e3779b1u;
  h ^= (get32(l4) + get32(ip + 16)) * 0x85ebca6bu;
  return h ^ (h >> 15);
}

// Valid IPv4 UDP/TCP to the service? (the XDP program already checked the steering key)
static inline int l4_offset(const uint8_t *f, uint32_t len) {
  if (len < 14 + 20 + 8 || get16(f + 12) != 0x0800) return -1;
  int ihl = (f[14] & 0xf) * 4;
  if (ihl < 20 || len < (uint32_t)(14 + ihl + 8)) return -1;
  return 14 + ihl;
}

static inline void replace_ip_and_port(uint8_t *f, int l4, int dst, uint32_t new_ip, uint16_t new_port) {
  uint8_t *ip = f + 14, *addr = ip + (dst ? 16 : 12), *port = f + l4 + (dst ? 2 : 0);
  uint8_t *l4check = f + l4 + (ip[9] == 17 ? 6 : 16);
  int udp_zero = ip[9] == 17 && get16(l4check) == 0;  // UDP without checksum stays without one
  uint32_t old_ip = get32(addr);
  uint16_t old_port = get16(port);
  csum_replace16(ip + 10, (uint16_t)(old_ip >> 16), (uint16_t)(new_ip >> 16));
  csum_replace16(ip + 10, (uint16_t)old_ip, (uint16_t)new_ip);
  if (!udp_zero) {
    csum_replace16(l4check, (uint16_t)(old_ip >> 16), (uint16_t)(new_ip >> 16));
    csum_replace16(l4check, (uint16_t)old_ip, (uint16_t)new_ip);
    csum_replace16(l4check, old_port, new_port);
    if (ip[9] == 17 && get16(l4check) == 0) put16(l4check, 0xffff);
  }
  put32(addr, new_ip);
  put16(port, new_port);
}

// DR: one port, frames go back out where they came in with the real server's MAC.
static void run_dr(struct port *p, double end) {
  while (!stop && now_seconds() < end) {
    reap_completions(p);
    refill(p);
    uint32_t idx_rx, idx_tx = 0;
    // Take from rx only what tx can hold now: the rest waits in the ring, nothing is dropped.
    uint32_t space = xsk_prod_nb_free(&p->tx, BATCH);
    if (space > BATCH) space = BATCH;
    if (!space) { kick_tx(p); continue; }
    uint32_t n = xsk_ring_cons__peek(&p->rx, space, &idx_rx);
    if (!n) {
      if (p->tx_outstanding) { kick_tx(p); continue; }
      struct pollfd pfd = {p->fd, POLLIN, 0};
      poll(&pfd, 1, 100);
      continue;
    }
    rx_total += n;
    uint32_t room = xsk_ring_prod__reserve(&p->tx, n, &idx_tx);
    uint32_t sent = 0;
    for (uint32_t i = 0; i < n; i++) {
      const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx_rx + i);
      uint8_t *f = xsk_umem__get_data(p->area, d->addr);
      int l4 = l4_offset(f, d->len);
      if (l4 < 0 || sent == room) { p->free_frames[p->free_count++] = d->addr; dropped++; continue; }
      const struct real_server *rs = &servers[flow_hash(f + 14, f + l4) % (uint32_t)server_count];
      memcpy(f, rs->mac, 6);
      memcpy(f + 6, p->mac, 6);
      uint8_t *ip = f + 14;  // TTL - 1, as a router (and IPVS) does
      ip[8]--;
      csum_replace16(ip + 10, (uint16_t)((ip[8] + 1) << 8 | ip[9]), (uint16_t)(ip[8] << 8 | ip[9]));
      struct xdp_desc *t = xsk_ring_prod__tx_desc(&p->tx, idx_tx + sent++);
      t->addr = d->addr;
      t->len = d->len;
    }
    xsk_ring_cons__release(&p->rx, n);
    if (room > sent) p->tx.cached_prod -= room - sent;  // give back reserved-but-unused slots
    xsk_ring_prod__submit(&p->tx, sent);
    p->tx_outstanding += sent;
    forwarded += sent;
    kick_tx(p);
  }
}

// Moves n rewritten frames from `from`'s rx ring into `to`'s tx ring (copy: separate UMEMs).
static uint32_t cross(struct port *from, struct port *to, int request) {
  uint32_t idx_rx, idx_tx = 0;
  uint32_t space = xsk_prod_nb_free(&to->tx, BATCH);
  if (space > BATCH) space = BATCH;
  if (space > to->free_count) space = to->free_count;
  if (!space) { kick_tx(to); return 0; }
  uint32_t n = xsk_ring_cons__peek(&from->rx, space, &idx_rx);
  if (!n) return 0;
  rx_total += n;
  uint32_t room = xsk_ring_prod__reserve(&to->tx, n, &idx_tx), sent = 0;
  for (uint32_t i = 0; i < n; i++) {
    const struct xdp_desc *d = xsk_ring_cons__rx_desc(&from->rx, idx_rx + i);
    uint8_t *f = xsk_umem__get_data(from->area, d->addr);
    from->free_frames[from->free_count++] = d->addr;
    int l4 = l4_offset(f, d->len);
    if (l4 < 0 || sent == room || to->free_count == 0) { dropped++; continue; }
    uint8_t *ip = f + 14;
    if (request) {
      const struct real_server *rs = &servers[flow_hash(ip, f + l4) % (uint32_t)server_count];
      memcpy(client_gw_mac, f + 6, 6);
      replace_ip_and_port(f, l4, 1, rs->ip, rs->port);
      memcpy(f, rs->mac, 6);
    } else {
      replace_ip_and_port(f, l4, 0, vip, vport);
      memcpy(f, client_gw_mac, 6);
    }
    memcpy(f + 6, to->mac, 6);
    ip[8]--;
    csum_replace16(ip + 10, (uint16_t)((ip[8] + 1) << 8 | ip[9]), (uint16_t)(ip[8] << 8 | ip[9]));
    uint64_t addr = to->free_frames[--to->free_count];
    memcpy(xsk_umem__get_data(to->area, addr), f, d->len);
    struct xdp_desc *t = xsk_ring_prod__tx_desc(&to->tx, idx_tx + sent++);
    t->addr = addr;
    t->len = d->len;
  }
  xsk_ring_cons__release(&from->rx, n);
  if (room > sent) to->tx.cached_prod -= room - sent;
  xsk_ring_prod__submit(&to->tx, sent);
  to->tx_outstanding += sent;
  forwarded += sent;
  kick_tx(to);
  return n;
}

static void run_nat(struct port *out, struct port *in, double end) {
  while (!stop && now_seconds() < end) {
    reap_completions(out);
    reap_completions(in);
    refill(out);
    refill(in);
    uint32_t moved = cross(out, in, 1) + cross(in, out, 0);
    if (!moved) {
      if (out->tx_outstanding || in->tx_outstanding) { kick_tx(out); kick_tx(in); continue; }
      struct pollfd pfd[2] = {{out->fd, POLLIN, 0}, {in->fd, POLLIN, 0}};
      poll(pfd, 2, 100);
    }
  }
}

int main(int argc, char **argv) {
  const char *obj = NULL, *mode = "dr";
  struct port outside = {0}, inside = {0};
  double seconds = 1e9;
  static struct option opts[] = {{"obj", 1, 0, 'o'}, {"mode", 1, 0, 'm'}, {"if", 1, 0, 'i'}, {"inside", 1, 0, 'I'},
                                 {"vip", 1, 0, 'v'}, {"port", 1, 0, 'p'}, {"rs", 1, 0, 'r'}, {"seconds", 1, 0, 't'},
                                 {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'o': obj = optarg; break;
      case 'm': mode = optarg; break;
      case 'i': outside.ifname = optarg; break;
      case 'I': inside.ifname = optarg; break;
      case 'v': vip = parse_ip(optarg); break;
      case 'p':
        if (port_count == MAX_PORTS) die("too many --port");
        dr_ports[port_count++] = (uint16_t)atoi(optarg);
        if (!vport) vport = dr_ports[0];
        break;
      case 't': seconds = atof(optarg); break;
      case 'r': {
        if (server_count == MAX_RS) die("too many --rs");
        struct real_server *rs = &servers[server_count++];
        char ip[64];
        const char *at = strchr(optarg, '@');
        if (!at || at - optarg >= (long)sizeof(ip)) die("--rs IP[:PORT]@MAC");
        memcpy(ip, optarg, (size_t)(at - optarg));
        ip[at - optarg] = 0;
        char *colon = strchr(ip, ':');
        rs->port = colon ? (uint16_t)atoi(colon + 1) : 0;
        if (colon) *colon = 0;
        rs->ip = parse_ip(ip);
        parse_mac(at + 1, rs->mac);
        break;
      }
      default: die("see the header of ref_forwarder.c for usage");
    }
  }
  int nat = strcmp(mode, "nat") == 0;
  if (!obj || !outside.ifname || !vip || !vport || !server_count || (nat && !inside.ifname))
    die("see the header of ref_forwarder.c for usage");
  if (nat && port_count > 1) die("NAT takes one --port");
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  open_port(&outside, obj);
  for (int i = 0; i < port_count; i++) steer(&outside, "services", vip, dr_ports[i]);
  if (nat) {
    copy_reserve = RING_SIZE / 2;
    open_port(&inside, obj);
    for (int i = 0; i < server_count; i++) steer(&inside, "replies", servers[i].ip, servers[i].port);
  }
  fprintf(stderr, "forwarder running\n");
  double start = now_seconds();
  if (nat) run_nat(&outside, &inside, start + seconds);
  else run_dr(&outside, start + seconds);
  print_socket_stats("outside", &outside);
  if (nat) print_socket_stats("inside", &inside);
  close_port(&outside);
  if (nat) close_port(&inside);
  printf("{\"rx\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"seconds\":%.6f}\n", (unsigned long long)rx_total,
         (unsigned long long)forwarded, (unsigned long long)dropped, now_seconds() - start);
  return 0;
}
