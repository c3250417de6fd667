// Request/response round trips over UDP, one at a time, paced: the latency a client sees.
//   rtt --dst IP --port P [--count N] [--interval-us U] [--timeout-ms T]
// Prints {"count":N,"lost":L,"p50_us":..,"p99_us":..,"mean_us":..}
#include "common.h"

#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *dst = NULL;
  int port = 0, count = 2000, interval_us = 500, timeout_ms = 200;
  static struct option opts[] = {{"dst", 1, 0, 'd'}, {"port", 1, 0, 'p'}, {"count", 1, 0, 'c'},
                                 {"interval-us", 1, 0, 'i'}, {"timeout-ms", 1, 0, 't'}, {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'd': dst = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'c': count = atoi(optarg); break;
      case 'i': interval_us = atoi(optarg); break;
      case 't': timeout_ms = atoi(optarg); break;
      default: die("usage: rtt --dst IP --port P [--count N] [--interval-us U]");
    }
  }
  if (!dst || !port || count < 1) die("usage: rtt --dst IP --port P [--count N] [--interval-us U]");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(parse_ip(dst));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) { perror("connect"); return 1; }
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  double *samples = calloc((size_t)count, sizeof(double));
  int got = 0, lost = 0, lost_in_a_row = 0;
  uint8_t buf[64];
  for (int i = 0; i < count; i++) {
    uint32_t seq = (uint32_t)i;
    memcpy(buf, &seq, 4);
    double t0 = now_seconds();
    if (send(fd, buf, 32, 0) != 32) { lost++; continue; }
    // Skip stale replies (a late answer to an earlier, timed-out request).
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n < 0) { lost++; lost_in_a_row++; break; }
      uint32_t back;
      memcpy(&back, buf, 4);
      if (n >= 4 && back == seq) { samples[got++] = (now_seconds() - t0) * 1e6; lost_in_a_row = 0; break; }
    }
    if (lost_in_a_row >= 20) break;  // nobody answers: say so now rather than after count timeouts
    usleep((useconds_t)interval_us);
  }
  qsort(samples, (size_t)got, sizeof(double), cmp_double);
  double sum = 0;
  for (int i = 0; i < got; i++) sum += samples[i];
  double p50 = got ? samples[(int)(0.50 * (got - 1))] : 0, p99 = got ? samples[(int)(0.99 * (got - 1))] : 0;
  printf("{\"count\":%d,\"lost\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f}\n", got, lost, p50, p99,
         got ? sum / got : 0.0);
  return 0;
}
