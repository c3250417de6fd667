#include "xsk_backend.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <bpf/bpf.h>

#include "descriptors.h"

namespace ulvs {

struct XskRings {
  xsk_ring_prod fill;
  xsk_ring_cons comp;
  xsk_ring_cons rx;
  xsk_ring_prod tx;
};


namespace {

uint32_t FloorPowerOfTwo(uint32_t n) {
  uint32_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

// Rounds of sendto() per Transmit: copy mode sends at most 32 frames per call
// (the kernel's TX batch) and answers EAGAIN while more are queued.
constexpr int kMaxKicks = 64;

}  // namespace

XskBackend* XskBackend::Open(const XskOptions& o, SysError* error) {
  unsigned ifindex = if_nametoindex(o.ifname.c_str());
  if (ifindex == 0) {
    *error = {errno, "if_nametoindex", o.ifname};
    return nullptr;
  }
  auto* b = new XskBackend();
  b->frameSize = o.frameSize;
  b->frameCount_ = o.frameCount;
  b->framesLength = size_t(o.frameCount) * o.frameSize;
  b->ringSize_ = FloorPowerOfTwo(o.frameCount / 2);
  if (b->ringSize_ > 4096) b->ringSize_ = 4096;
  b->reserve_ = o.frameCount - b->ringSize_ > b->ringSize_ ? b->ringSize_ : o.frameCount - b->ringSize_;
  b->reserve_ /= 2;
  b->rings_ = new XskRings();
  b->free_.reserve(o.frameCount);

  void* area = mmap(nullptr, b->framesLength, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) {
    *error = {errno, "mmap", "UMEM"};
    delete b;
    return nullptr;
  }
  b->frames = static_cast<uint8_t*>(area);

  b->attachment_ = AcquireXdp(static_cast<int>(ifindex), o.objectPath, o.mode, error);
  if (!b->attachment_) {
    b->Close();
    delete b;
    return nullptr;
  }

  xsk_umem_config umemConfig{};
  umemConfig.fill_size = b->ringSize_;
  umemConfig.comp_size = b->ringSize_;
  umemConfig.frame_size = o.frameSize;
  umemConfig.frame_headroom = 0;  // the kernel adds XDP_PACKET_HEADROOM anyway
  umemConfig.flags = 0;

  xsk_socket_config socketConfig{};
  socketConfig.rx_size = b->ringSize_;
  socketConfig.tx_size = b->ringSize_;
  socketConfig.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our program, our map
  socketConfig.xdp_flags = 0;

  // Zero-copy where the driver supports it, else copy mode (veth, generic XDP).
  // A failed bind leaves the UMEM's rings half set up, so each try gets a fresh UMEM.
  const uint16_t modes[] = {XDP_ZEROCOPY, XDP_COPY};
  int rc = 0;
  for (uint16_t m : modes) {
    rc = xsk_umem__create(&b->umem_, area, b->framesLength, &b->rings_->fill, &b->rings_->comp,
                          &umemConfig);
    if (rc < 0) {
      *error = {-rc, "xsk_umem__create", ""};
      b->umem_ = nullptr;
      break;
    }
    socketConfig.bind_flags = XDP_USE_NEED_WAKEUP | m;
    rc = xsk_socket__create(&b->xsk_, o.ifname.c_str(), o.queue, b->umem_, &b->rings_->rx,
                            &b->rings_->tx, &socketConfig);
    if (rc == 0) {
      b->zeroCopy_ = (m == XDP_ZEROCOPY);
      break;
    }
    b->xsk_ = nullptr;
    xsk_umem__delete(b->umem_);
    b->umem_ = nullptr;
    *error = {-rc, "xsk_socket__create", "queue " + std::to_string(o.queue)};
  }
  if (!b->xsk_) {
    b->Close();
    delete b;
    return nullptr;
  }
  b->fd_ = xsk_socket__fd(b->xsk_);
  b->fallbackReason_ = b->attachment_->fallbackReason;

  uint32_t key = o.queue;
  rc = bpf_map_update_elem(b->attachment_->xsksFd, &key, &b->fd_, BPF_ANY);
  if (rc < 0) {
    *error = {-rc, "bpf_map_update_elem", "xsks map"};
    b->Close();
    delete b;
    return nullptr;
  }
  for (uint32_t i = 0; i < o.frameCount; i++) b->free_.push_back(uint64_t(i) * o.frameSize);
  b->Refill();
  return b;
}

XskBackend::~XskBackend() {
  Close();
  delete rings_;
}

void XskBackend::Close() {
  // Deleting the socket also removes it from the XSKMAP.
  if (xsk_) xsk_socket__delete(xsk_);
  xsk_ = nullptr;
  if (umem_) xsk_umem__delete(umem_);
  umem_ = nullptr;
  fd_ = -1;
  if (attachment_) ReleaseXdp(attachment_);
  attachment_ = nullptr;
  free_.clear();
}

void XskBackend::FreeFrame(uint64_t addr) {
  if (free_.size() < frameCount_) free_.push_back(addr & ~uint64_t(frameSize - 1));
  else stats.badDescriptors++;  // a frame handed back twice
}

void XskBackend::DrainCompletion() {
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&rings_->comp, ringSize_, &idx);
  for (uint32_t i = 0; i < n; i++) FreeFrame(*xsk_ring_cons__comp_addr(&rings_->comp, idx + i));
  if (n) xsk_ring_cons__release(&rings_->comp, n);
}

void XskBackend::Refill() {
  if (free_.size() <= reserve_) return;
  uint32_t want = static_cast<uint32_t>(free_.size()) - reserve_;
  uint32_t room = xsk_prod_nb_free(&rings_->fill, want);
  if (want > room) want = room;
  if (want == 0) return;
  uint32_t idx = 0;
  if (xsk_ring_prod__reserve(&rings_->fill, want, &idx) != want) return;
  for (uint32_t i = 0; i < want; i++) {
    *xsk_ring_prod__fill_addr(&rings_->fill, idx + i) = free_.back();
    free_.pop_back();
  }
  xsk_ring_prod__submit(&rings_->fill, want);
}

uint32_t XskBackend::Receive(uint32_t* descs, uint32_t max) {
  if (!xsk_) return 0;
  DrainCompletion();
  Refill();
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&rings_->rx, max, &idx);
  for (uint32_t i = 0; i < n; i++) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&rings_->rx, idx + i);
    descs[i * kDescWords] = static_cast<uint32_t>(d->addr);
    descs[i * kDescWords + 1] = d->len;
    descs[i * kDescWords + 2] = kActionDrop;
  }
  if (n) xsk_ring_cons__release(&rings_->rx, n);
  stats.rxPackets += n;
  // The kernel ran out of fill entries and waits to be told there are more.
  if (xsk_ring_prod__needs_wakeup(&rings_->fill))
    recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  return n;
}

void XskBackend::Transmit(const uint32_t* descs, uint32_t count, Backend* other) {
  if (!xsk_) return;
  DrainCompletion();
  bool otherUsed = DispatchDescriptors(
      *this, descs, count, other,
      [this](uint64_t offset, uint32_t length) {
        uint32_t idx = 0;
        if (xsk_ring_prod__reserve(&rings_->tx, 1, &idx) != 1) {
          stats.txDropped++;
          return false;
        }
        xdp_desc* d = xsk_ring_prod__tx_desc(&rings_->tx, idx);
        d->addr = offset;
        d->len = length;
        d->options = 0;
        pendingTx_++;
        return true;  // the frame comes back through the completion ring
      },
      [this](uint64_t slotBase) { FreeFrame(slotBase); });
  Flush();
  if (otherUsed) other->Flush();
  Refill();
}

void XskBackend::SendCopy(const uint8_t* data, uint32_t length) {
  if (!xsk_ || length > frameSize - kHeadroom) {
    stats.txDropped++;
    return;
  }
  if (free_.empty()) DrainCompletion();
  uint32_t idx = 0;
  if (free_.empty() || xsk_ring_prod__reserve(&rings_->tx, 1, &idx) != 1) {
    stats.txDropped++;
    return;
  }
  uint64_t addr = free_.back() + kHeadroom;
  free_.pop_back();
  memcpy(frames + addr, data, length);
  xdp_desc* d = xsk_ring_prod__tx_desc(&rings_->tx, idx);
  d->addr = addr;
  d->len = length;
  d->options = 0;
  pendingTx_++;
}

void XskBackend::Flush() {
  if (pendingTx_ == 0 || !xsk_) return;
  xsk_ring_prod__submit(&rings_->tx, pendingTx_);
  stats.txPackets += pendingTx_;
  pendingTx_ = 0;
  Kick();
}

void XskBackend::Kick() {
  if (zeroCopy_ && !xsk_ring_prod__needs_wakeup(&rings_->tx)) return;
  for (int i = 0; i < kMaxKicks; i++) {
    if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) break;
    // EAGAIN: more queued than one call sends; anything else: retried next batch.
    if (errno != EAGAIN) break;
    DrainCompletion();
  }
}

}  // namespace ulvs
