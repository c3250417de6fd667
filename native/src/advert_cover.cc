#include "advert_cover.h"

#include <sys/socket.h>

namespace ulvs {

void AdvertCover::Arm(const std::string& key, in_addr dst, const uint8_t* packet, size_t length,
                      int intervalMs, int lateMs, int giveUpMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  Entry& e = entries_[key];
  e.dst = dst;
  e.packet.assign(packet, packet + length);
  e.interval = std::chrono::milliseconds(intervalMs);
  e.late = std::chrono::milliseconds(lateMs);
  e.giveUp = std::chrono::milliseconds(giveUpMs);
  e.armedAt = Clock::now();
  e.next = e.armedAt + e.late;
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { Run(); });
  wake_.notify_one();
}

void AdvertCover::Withdraw(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(key);
  wake_.notify_one();
}

uint64_t AdvertCover::sent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sent_;
}

void AdvertCover::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    entries_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void AdvertCover::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    Clock::time_point wakeAt = now + std::chrono::seconds(3600);
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = it->second;
      if (now - e.armedAt >= e.giveUp) {
        it = entries_.erase(it);
        continue;
      }
      if (now >= e.next) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr = e.dst;
        // Non-blocking socket: a full queue or a down link loses this one; the next follows.
        if (sendto(fd_, e.packet.data(), e.packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof(to)) >= 0) {
          sent_++;
        }
        e.next = now + e.interval;
      }
      if (e.next < wakeAt) wakeAt = e.next;
      ++it;
    }
    wake_.wait_until(lock, wakeAt);
  }
}

}  // namespace ulvs
