#include "local_delivery.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

namespace ulvs {

namespace {

constexpr uint32_t kEthernetHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;

int RawSocket() {
  // Made on first use (C++ statics are initialised once, thread safe); -1 stays -1: counted.
  static const int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  return fd;
}

}  // namespace

void DeliverLocally(const uint8_t* frame, uint32_t length, PortStats& stats) {
  int fd = RawSocket();
  if (fd < 0 || length < kEthernetHeader + 20 ||
      ((uint16_t(frame[12]) << 8) | frame[13]) != kEtherTypeIpv4) {
    stats.localDropped++;
    return;
  }
  const uint8_t* ip = frame + kEthernetHeader;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  memcpy(&to.sin_addr.s_addr, ip + 16, 4);
  ssize_t sent = sendto(fd, ip, length - kEthernetHeader, MSG_DONTWAIT,
                        reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (sent == ssize_t(length - kEthernetHeader)) stats.localDelivered++;
  else stats.localDropped++;
}

}  // namespace ulvs
