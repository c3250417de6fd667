// Shared helpers for the bench tools: parsing, checksums, clocks. Header-only, no deps.
#pragma once
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void die(const char *what) {
  fprintf(stderr, "%s\n", what);
  exit(2);
}

static inline void parse_mac(const char *text, uint8_t mac[6]) {
  unsigned v[6];
  if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) die("bad MAC");
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
}

// Host-order IPv4.
static inline uint32_t parse_ip(const char *text) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) die("bad IPv4 address");
  return ntohl(a.s_addr);
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (uint32_t)(p[len - 1] << 8);
  return sum;
}

static inline uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

// A UDP checksum from its pseudo-header sum and the datagram (checksum field zero); a result of
// 0 is sent as 0xffff (0 means "none" for IPv4 and is not allowed for IPv6).
static inline uint16_t udp_checksum(uint32_t pseudo_sum, const uint8_t *udp, size_t len) {
  uint16_t c = csum_fold(csum_add(pseudo_sum, udp, len));
  return c ? c : 0xffff;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), on a 16-bit field in network order.
static inline void csum_replace16(uint8_t *check, uint16_t old_value, uint16_t new_value) {
  uint32_t hc = (uint32_t)(check[0] << 8 | check[1]);
  uint32_t sum = (~hc & 0xffff) + (~old_value & 0xffff) + new_value;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t r = (uint16_t)~sum;
  check[0] = (uint8_t)(r >> 8);
  check[1] = (uint8_t)r;
}

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
