// AF_XDP backend: one XDP socket on (interface, queue) with its own UMEM.
#pragma once
#include <string>
#include <vector>

#include "backend.h"
#include "errno_error.h"
#include "xdp_attach.h"

struct xsk_umem;
struct xsk_socket;

namespace ulvs {

struct XskOptions {
  std::string ifname;
  uint32_t queue = 0;
  uint32_t frameCount = 4096;
  uint32_t frameSize = 2048;
  std::string objectPath;
  XdpModeRequest mode = XdpModeRequest::Auto;
};

struct XskRings;  // libxdp ring structs, kept out of this header


class XskBackend : public Backend {
 public:
  // Returns nullptr and sets *error on failure (everything undone).
  static XskBackend* Open(const XskOptions& options, SysError* error);
  ~XskBackend() override;

  uint32_t Receive(uint32_t* descs, uint32_t max) override;
  void Transmit(const uint32_t* descs, uint32_t count, Backend* other) override;
  void SendCopy(const uint8_t* data, uint32_t length) override;
  void Flush() override;
  int Fd() const override { return fd_; }
  void Close() override;

  bool native() const { return attachment_ && attachment_->native; }
  bool zeroCopy() const { return zeroCopy_; }
  const std::string& fallbackReason() const { return fallbackReason_; }
  XdpAttachment* attachment() const { return attachment_; }

 private:
  XskBackend() = default;
  void DrainCompletion();
  void Refill();
  void Kick();
  void FreeFrame(uint64_t addr);

  XskRings* rings_ = nullptr;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  XdpAttachment* attachment_ = nullptr;
  int fd_ = -1;
  uint32_t frameCount_ = 0;
  uint32_t ringSize_ = 0;
  uint32_t reserve_ = 0;      // free frames kept back from the fill ring for TX_OTHER copies
  uint32_t pendingTx_ = 0;    // reserved tx slots not yet submitted
  bool zeroCopy_ = false;
  std::string fallbackReason_;
  std::vector<uint64_t> free_;  // frame base addresses owned by us (capacity frameCount_)
};

}  // namespace ulvs
