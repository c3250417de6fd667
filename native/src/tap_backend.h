// TAP backend: frames steered into a tap device by tc (set up from
// src/io/tap.ts); reads and writes are plain read()/write() on its fd.
#pragma once
#include <string>
#include <vector>

#include "backend.h"
#include "errno_error.h"

namespace ulvs {

class TapBackend : public Backend {
 public:
  static TapBackend* Open(const std::string& tapName, uint32_t frameCount, uint32_t frameSize,
                          SysError* error);
  ~TapBackend() override;

  uint32_t Receive(uint32_t* descs, uint32_t max) override;
  void Transmit(const uint32_t* descs, uint32_t count, Backend* other) override;
  void SendCopy(const uint8_t* data, uint32_t length) override;
  void Flush() override {}
  int Fd() const override { return fd_; }
  void Close() override;

 private:
  TapBackend() = default;
  void FreeSlot(uint32_t slot);
  int fd_ = -1;
  uint32_t frameCount_ = 0;
  std::vector<uint32_t> free_;  // free slot indexes (capacity frameCount_)
};

}  // namespace ulvs
