// Stall cover for VRRP adverts (issue 15: the main thread busy). The MASTER's adverts are
// sent by the JS speaker on its timer; when the main thread stalls (a reload's parse, a burst
// of check results, a loaded machine) they come late and a Backup takes over although this
// director is alive and forwarding. Each advert the speaker sends is also handed here: a
// thread sends it again when the speaker has sent nothing for `lateMs`, then every
// `intervalMs`, until the speaker sends again (which re-arms it), withdraws it (leaving
// MASTER, stopping), or has been silent for `giveUpMs` (a hung main thread must not hold the
// VIP for ever). The packet is resent byte for byte, so only adverts without per-packet
// state are covered (not AH, whose sequence number must grow).
#pragma once
#include <netinet/in.h>
#include <stdint.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ulvs {

class AdvertCover {
 public:
  explicit AdvertCover(int fd) : fd_(fd) {}
  ~AdvertCover() { Stop(); }

  // The speaker just sent `packet` to `dst` under `key` (one per instance and destination).
  void Arm(const std::string& key, in_addr dst, const uint8_t* packet, size_t length, int intervalMs,
           int lateMs, int giveUpMs);
  void Withdraw(const std::string& key);
  // Adverts this cover sent (the speaker was late), for status.
  uint64_t sent() const;
  // Joins the thread; call before the socket is closed.
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    in_addr dst;
    std::vector<uint8_t> packet;
    Clock::duration interval, late, giveUp;
    Clock::time_point armedAt;  // the speaker's last send
    Clock::time_point next;     // the next send of ours
  };
  void Run();

  const int fd_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Entry> entries_;
  std::thread thread_;
  bool stopping_ = false;
  uint64_t sent_ = 0;
};

}  // namespace ulvs
