#include "tap_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "descriptors.h"


namespace ulvs {
namespace {

// The tap only carries frames to and from ulvs: no IPv6 autoconfiguration,
// router solicitations or ARP of its own, which would show up in receive().
void SilenceIpv6(const std::string& name) {
  std::string path = "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6";
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // IPv6 disabled altogether: nothing to silence
  ssize_t ignored = write(fd, "1", 1);
  (void)ignored;
  close(fd);
}

int SetUp(const std::string& name, SysError* error) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    *error = {errno, "socket", ""};
    return -1;
  }
  ifreq ifr{};
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(sock, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_NOARP;
    rc = ioctl(sock, SIOCSIFFLAGS, &ifr);
  }
  if (rc < 0) *error = {errno, "ioctl", "SIOCSIFFLAGS " + name};
  close(sock);
  return rc;
}

}  // namespace

TapBackend* TapBackend::Open(const std::string& tapName, uint32_t frameCount, uint32_t frameSize,
                             SysError* error) {
  if (tapName.empty() || tapName.size() >= IFNAMSIZ) {
    *error = {EINVAL, "TUNSETIFF", "tap name must be 1-15 characters"};
    return nullptr;
  }
  auto* b = new TapBackend();
  b->frameSize = frameSize;
  b->frameCount_ = frameCount;
  b->framesLength = size_t(frameCount) * frameSize;
  void* area = mmap(nullptr, b->framesLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
  if (area == MAP_FAILED) {
    *error = {errno, "mmap", "tap frames"};
    delete b;
    return nullptr;
  }
  b->frames = static_cast<uint8_t*>(area);
  b->fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (b->fd_ < 0) {
    *error = {errno, "open", "/dev/net/tun"};
    delete b;
    return nullptr;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, tapName.c_str(), IFNAMSIZ - 1);
  if (ioctl(b->fd_, TUNSETIFF, &ifr) < 0) {
    *error = {errno, "ioctl", "TUNSETIFF " + tapName};
    delete b;
    return nullptr;
  }
  SilenceIpv6(tapName);
  if (SetUp(tapName, error) < 0) {
    delete b;
    return nullptr;
  }
  b->free_.reserve(frameCount);
  for (uint32_t i = frameCount; i > 0; i--) b->free_.push_back(i - 1);
  return b;
}

TapBackend::~TapBackend() { Close(); }

// Closing the fd removes the (non-persistent) tap device.
void TapBackend::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void TapBackend::FreeSlot(uint32_t slot) {
  if (free_.size() < frameCount_) free_.push_back(slot);
  else stats.badDescriptors++;
}

uint32_t TapBackend::Receive(uint32_t* descs, uint32_t max) {
  uint32_t n = 0;
  while (n < max && fd_ >= 0 && !free_.empty()) {
    uint32_t slot = free_.back();
    uint64_t offset = uint64_t(slot) * frameSize + kHeadroom;
    ssize_t length = read(fd_, frames + offset, frameSize - kHeadroom);
    if (length <= 0) break;  // EAGAIN: nothing more now
    free_.pop_back();
    descs[n * kDescWords] = static_cast<uint32_t>(offset);
    descs[n * kDescWords + 1] = static_cast<uint32_t>(length);
    descs[n * kDescWords + 2] = kActionDrop;
    n++;
  }
  stats.rxPackets += n;
  return n;
}

void TapBackend::Transmit(const uint32_t* descs, uint32_t count, Backend* other) {
  DispatchDescriptors(
      *this, descs, count, other,
      [this](uint64_t offset, uint32_t length) {
        SendCopy(frames + offset, length);  // written out at once: the slot is free again
        return false;
      },
      [this](uint64_t slotBase) { FreeSlot(static_cast<uint32_t>(slotBase / frameSize)); });
  if (other) other->Flush();
}

void TapBackend::SendCopy(const uint8_t* data, uint32_t length) {
  if (fd_ >= 0 && write(fd_, data, length) == ssize_t(length)) stats.txPackets++;
  else stats.txDropped++;
}

}  // namespace ulvs
