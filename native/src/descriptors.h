// The descriptor contract both backends honour on Transmit (docs/ARCHITECTURE.md, "native/ and
// src/io/"): every descriptor JS hands back is checked against the port's frame memory, then
// DROP returns its slot, TX sends it on this port, TX_OTHER copies it to the other port.
// One implementation, so the TAP and AF_XDP backends cannot drift apart.
#pragma once
#include <stdint.h>

#include "backend.h"
#include "local_delivery.h"

namespace ulvs {

// Acts on `count` descriptors, each exactly once:
//  - an offset outside frame memory is counted (badDescriptors) and skipped: there is no slot
//    to give back;
//  - TX of a frame that fits its slot calls sendOwn(offset, length), which returns true when the
//    frame now belongs to the send path (AF_XDP's TX ring hands it back through completion), so
//    the slot is not freed here;
//  - TX_OTHER of a frame that fits is copied into `other` (counted otherMissing without one);
//  - LOCAL of a frame that fits goes to this host's own stack (DeliverLocally), then its slot
//    is freed;
//  - an unknown action, or TX/TX_OTHER of an empty or overlong frame, is counted
//    (badDescriptors);
//  - every slot not kept by sendOwn goes back through freeSlot(slotBase).
// frameSize is a power of two (the addon checks it). Returns true when something was copied
// into `other`, which then needs a Flush().
template <typename SendOwn, typename FreeSlot>
inline bool DispatchDescriptors(Backend& port, const uint32_t* descs, uint32_t count,
                                Backend* other, SendOwn&& sendOwn, FreeSlot&& freeSlot) {
  bool otherUsed = false;
  const uint64_t slotMask = ~uint64_t(port.frameSize - 1);
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t* d = descs + uint64_t(i) * kDescWords;
    uint64_t offset = d[0];
    uint32_t length = d[1];
    uint32_t action = d[2];
    if (offset >= port.framesLength) {
      port.stats.badDescriptors++;
      continue;
    }
    uint64_t slotBase = offset & slotMask;
    bool fits = length > 0 && offset + length <= slotBase + port.frameSize;
    if (action == kActionTx && fits) {
      if (sendOwn(offset, length)) continue;
    } else if (action == kActionTxOther && fits) {
      if (other) {
        other->SendCopy(port.frames + offset, length);
        otherUsed = true;
      } else {
        port.stats.otherMissing++;
      }
    } else if (action == kActionLocal && fits) {
      DeliverLocally(port.frames + offset, length, port.stats);
    } else if (action != kActionDrop) {
      port.stats.badDescriptors++;
    }
    freeSlot(slotBase);
  }
  return otherUsed;
}

}  // namespace ulvs
