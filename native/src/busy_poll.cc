#include "busy_poll.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

namespace ulvs {
namespace {

int SetInt(int fd, int option, int value) {
  return setsockopt(fd, SOL_SOCKET, option, &value, sizeof value) == 0 ? 0 : errno;
}

int GetInt(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof value;
  return getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
}

uint64_t MonotonicNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
}

}  // namespace

BusyPollResult SetBusyPoll(int fd, int usecs, int budget) {
  BusyPollResult r;
  r.preferBusyPoll = SetInt(fd, SO_PREFER_BUSY_POLL, 1);
  r.busyPoll = SetInt(fd, SO_BUSY_POLL, usecs);
  r.budget = SetInt(fd, SO_BUSY_POLL_BUDGET, budget);
  return r;
}

BusyPollValues ReadBusyPoll(int fd) {
  return {GetInt(fd, SO_PREFER_BUSY_POLL), GetInt(fd, SO_BUSY_POLL), GetInt(fd, SO_BUSY_POLL_BUDGET)};
}

int SpinReadable(pollfd* fds, uint32_t count, uint32_t spinUs, uint32_t kickMask) {
  const uint64_t deadline = MonotonicNs() + uint64_t(spinUs) * 1000u;
  do {
    for (uint32_t i = 0; i < count; i++)
      if (kickMask & (1u << i)) recvfrom(fds[i].fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    int rc = poll(fds, count, 0);
    if (rc != 0) return rc;
  } while (MonotonicNs() < deadline);
  return 0;
}

}  // namespace ulvs
