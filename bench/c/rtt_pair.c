// Paired round trips: request i goes to A and to B back to back (the order alternating), one
// at a time, paced, so both paths see the same moment of the machine. Only pairs where both
// answered are kept, in order, so a caller can take the per-pair difference B - A.
//   rtt_pair --a IP --b IP --port P [--count N] [--interval-us U] [--timeout-ms T]
// Prints {"pairs":N,"lost":L,"a_us":[..],"b_us":[..]}
#include "common.h"

#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_to(const char *ip, int port, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(parse_ip(ip));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) { perror("connect"); exit(1); }
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// One round trip; returns microseconds, or -1 when no answer came in time.
static double round_trip(int fd, uint32_t seq) {
  uint8_t buf[64] = {0};
  memcpy(buf, &seq, 4);
  double t0 = now_seconds();
  if (send(fd, buf, 32, 0) != 32) return -1;
  for (;;) {  // skip stale replies (a late answer to an earlier, timed-out request)
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) return -1;
    uint32_t back;
    memcpy(&back, buf, 4);
    if (n >= 4 && back == seq) return (now_seconds() - t0) * 1e6;
  }
}

int main(int argc, char **argv) {
  const char *ip_a = NULL, *ip_b = NULL;
  int port = 0, count = 2000, interval_us = 300, timeout_ms = 200;
  static struct option opts[] = {{"a", 1, 0, 'a'}, {"b", 1, 0, 'b'}, {"port", 1, 0, 'p'}, {"count", 1, 0, 'c'},
                                 {"interval-us", 1, 0, 'i'}, {"timeout-ms", 1, 0, 't'}, {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'a': ip_a = optarg; break;
      case 'b': ip_b = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'c': count = atoi(optarg); break;
      case 'i': interval_us = atoi(optarg); break;
      case 't': timeout_ms = atoi(optarg); break;
      default: die("usage: rtt_pair --a IP --b IP --port P [--count N] [--interval-us U]");
    }
  }
  if (!ip_a || !ip_b || !port || count < 1) die("usage: rtt_pair --a IP --b IP --port P [--count N] [--interval-us U]");
  int fa = open_to(ip_a, port, timeout_ms), fb = open_to(ip_b, port, timeout_ms);
  double *sa = calloc((size_t)count, sizeof(double)), *sb = calloc((size_t)count, sizeof(double));
  int pairs = 0, lost = 0, lost_in_a_row = 0;
  for (int i = 0; i < count; i++) {
    double a, b;
    if (i & 1) { b = round_trip(fb, (uint32_t)i); a = round_trip(fa, (uint32_t)i); }
    else { a = round_trip(fa, (uint32_t)i); b = round_trip(fb, (uint32_t)i); }
    if (a < 0 || b < 0) { lost++; if (++lost_in_a_row >= 20) break; continue; }
    lost_in_a_row = 0;
    sa[pairs] = a;
    sb[pairs] = b;
    pairs++;
    usleep((useconds_t)interval_us);
  }
  printf("{\"pairs\":%d,\"lost\":%d,\"a_us\":[", pairs, lost);
  for (int i = 0; i < pairs; i++) printf("%s%.1f", i ? "," : "", sa[i]);
  printf("],\"b_us\":[");
  for (int i = 0; i < pairs; i++) printf("%s%.1f", i ? "," : "", sb[i]);
  printf("]}\n");
  return 0;
}
