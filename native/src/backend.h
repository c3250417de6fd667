// What both packet backends (AF_XDP, TAP) do for the NativePort JS class.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

namespace ulvs {

// Descriptor layout shared with src/io: [offset, length, action] x uint32.
constexpr uint32_t kDescWords = 3;
constexpr uint32_t kActionDrop = 0;
constexpr uint32_t kActionTx = 1;
constexpr uint32_t kActionTxOther = 2;
// Hand the frame's IPv4 packet, unchanged, to this host's own stack (IPVS's Local forwarding
// for one connection of a service whose other servers are remote): local_delivery.h.
constexpr uint32_t kActionLocal = 3;
// Bytes before each received packet in its frame slot, so the dataplane can
// prepend an IPIP header (20 bytes) in place. AF_XDP gives XDP_PACKET_HEADROOM
// (256) on its own; TAP uses the same figure so offsets look alike.
constexpr uint32_t kHeadroom = 256;

// Counters for things the hot path drops instead of throwing.
struct PortStats {
  uint64_t rxPackets = 0;
  uint64_t txPackets = 0;
  uint64_t txDropped = 0;      // tx ring full / write failed / no free frame
  uint64_t badDescriptors = 0; // offset/length outside frame memory
  uint64_t otherMissing = 0;   // TX_OTHER without another port
  uint64_t localDelivered = 0; // LOCAL frames the own stack took
  uint64_t localDropped = 0;   // LOCAL frames it did not (no raw socket, not IPv4, send failed)
};

class Backend {
 public:
  // Frame memory not yet handed to JS is unmapped here; once handed over,
  // the ArrayBuffer's finalizer unmaps it (JS may outlive close()).
  virtual ~Backend() {
    if (frames && !framesOwnedByJs) munmap(frames, framesLength);
  }
  // Fills up to `max` descriptors with received frames; returns how many.
  virtual uint32_t Receive(uint32_t* descs, uint32_t max) = 0;
  // Hands back `count` descriptors (each exactly once), acting on each.
  virtual void Transmit(const uint32_t* descs, uint32_t count, Backend* other) = 0;
  // Copies a frame from another port's memory and queues it for sending;
  // Flush() sends what was queued.
  virtual void SendCopy(const uint8_t* data, uint32_t length) = 0;
  virtual void Flush() = 0;
  virtual int Fd() const = 0;
  virtual void Close() = 0;

  uint8_t* frames = nullptr;
  size_t framesLength = 0;
  uint32_t frameSize = 0;
  bool framesOwnedByJs = false;
  PortStats stats;
};

}  // namespace ulvs
