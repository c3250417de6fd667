// Loading and attaching ulvs's XDP program, shared by every AF_XDP socket of
// one interface in this process (one per queue), reference counted.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "errno_error.h"

struct bpf_object;

namespace ulvs {

enum class XdpModeRequest { Auto, Native, Generic };

struct XdpAttachment {
  int ifindex = 0;
  bpf_object* object = nullptr;
  int programFd = -1;
  int servicesFd = -1;
  int repliesFd = -1;
  int services6Fd = -1;
  int replies6Fd = -1;
  int xsksFd = -1;
  bool native = false;  // attached in driver mode (else generic/SKB mode)
  std::string fallbackReason;  // why native mode was not used
  bool vlanTags = false;  // ulvs_xdp_vlan attached: tags moved to metadata are put back
  std::string vlanReason;  // why ulvs_xdp_vlan did not load
  int refs = 0;
};

// Returns the interface's attachment, loading and attaching the program on
// first use. A stale ulvs program (left by a process that died) is detached
// first; another program attached to the interface is EBUSY.
XdpAttachment* AcquireXdp(int ifindex, const std::string& objectPath, XdpModeRequest mode,
                          SysError* error);
void ReleaseXdp(XdpAttachment* attachment);

// Detaches a ulvs XDP program (any mode) from the interface. Returns whether
// one was attached. Programs that are not ulvs's are left alone.
bool DetachUlvsXdp(int ifindex, SysError* error);

// Rule in network byte order (ip, port), protocol number.
struct SteerRule {
  uint32_t ip;
  uint16_t port;
  uint8_t proto;
};
// IPv6 rule: address words, port in network byte order, protocol number.
struct SteerRule6 {
  uint32_t ip[4];
  uint16_t port;
  uint8_t proto;
};
// Replaces the contents of the services and replies maps (IPv4 and IPv6).
void SetSteering(XdpAttachment* attachment, const std::vector<SteerRule>& services,
                 const std::vector<SteerRule>& replies, const std::vector<SteerRule6>& services6,
                 const std::vector<SteerRule6>& replies6, SysError* error);

}  // namespace ulvs
