// Busy polling (dataplane.busy_poll): the socket options that let a spinning AF_XDP
// socket drive its queue's NAPI from the syscall, and the spin itself.
#pragma once
#include <poll.h>
#include <stdint.h>

namespace ulvs {

// What setsockopt answered for each option: 0 = accepted, else the errno.
struct BusyPollResult {
  int preferBusyPoll = 0;  // SO_PREFER_BUSY_POLL (Linux 5.11)
  int busyPoll = 0;        // SO_BUSY_POLL, microseconds the kernel may spin per syscall
  int budget = 0;          // SO_BUSY_POLL_BUDGET, packets per busy-poll round (Linux 5.11)
};

// Sets the three options on `fd`; each is tried even when another was refused.
BusyPollResult SetBusyPoll(int fd, int usecs, int budget);

// Reads them back (getsockopt), -1 where the kernel does not know the option.
struct BusyPollValues {
  int preferBusyPoll = -1;
  int busyPoll = -1;
  int budget = -1;
};
BusyPollValues ReadBusyPoll(int fd);

// Spins for at most `spinUs` microseconds until one of `fds` is readable: poll() with a zero
// timeout each round, and before it a non-blocking recvfrom() on the fds of `kickMask` (AF_XDP
// sockets: that syscall is where the kernel busy-polls the queue, and where need_wakeup's fill
// ring is kicked). Returns poll()'s ready count (0: the spin ran out), -1 with errno on error.
int SpinReadable(pollfd* fds, uint32_t count, uint32_t spinUs, uint32_t kickMask);

}  // namespace ulvs
