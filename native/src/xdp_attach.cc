#include "xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <array>
#include <map>
#include <mutex>
#include <set>

#include "steering.h"

namespace ulvs {
namespace {

// ulvs_xdp steers; ulvs_xdp_vlan also restores 802.1Q tags the driver moved to metadata
// (bpf_xdp_metadata_rx_vlan_tag), so it must be loaded bound to the interface and attached
// in native mode. Either may be attached; both are ulvs's.
constexpr const char* kProgramName = "ulvs_xdp";
constexpr const char* kVlanProgramName = "ulvs_xdp_vlan";

// Linux 6.3+ (the build's uapi headers may be older): a device-bound program that is not
// offloaded, which may call the XDP metadata kfuncs and share maps with other programs.
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

// Attachments are per interface and process-wide: worker threads (one per
// queue) share the interface's program and maps.
std::mutex g_mutex;
std::map<int, XdpAttachment*> g_attachments;

// libbpf's last warning, kept to explain a failed load in the JS error
// instead of printing on stderr.
thread_local std::string t_libbpfMessage;
int CaptureLibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buffer[512];
  int n = vsnprintf(buffer, sizeof(buffer), format, args);
  std::string line(buffer);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (!line.empty()) t_libbpfMessage = line;
  return n;
}
std::once_flag g_printOnce;

// process.exit() runs no JS finalizers: detach what is still attached so a
// plain exit leaves no program behind (a SIGKILL still does: see AcquireXdp).
void DetachAllAtExit() {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& [ifindex, a] : g_attachments) {
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = a->programFd);
    bpf_xdp_detach(ifindex, (a->native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE) | XDP_FLAGS_REPLACE, &opts);
  }
}

std::string ProgramName(uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return "";
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  std::string name;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) name = info.name;
  close(fd);
  return name;
}

// Detaches ulvs programs in either mode. Returns -EBUSY (and sets `other`)
// when a foreign program is attached.
int DetachStale(int ifindex, bool* detached, std::string* other) {
  LIBBPF_OPTS(bpf_xdp_query_opts, query);
  int rc = bpf_xdp_query(ifindex, 0, &query);
  if (rc < 0) return rc;
  struct {
    uint32_t id;
    uint32_t flag;
  } attached[] = {{query.drv_prog_id, XDP_FLAGS_DRV_MODE}, {query.skb_prog_id, XDP_FLAGS_SKB_MODE}};
  for (auto& a : attached) {
    if (a.id == 0) continue;
    std::string name = ProgramName(a.id);
    if (name != kProgramName && name != kVlanProgramName) {
      if (other) *other = name.empty() ? "id " + std::to_string(a.id) : name;
      return -EBUSY;
    }
    rc = bpf_xdp_detach(ifindex, a.flag, nullptr);
    if (rc < 0) return rc;
    if (detached) *detached = true;
  }
  return 0;
}

void Destroy(XdpAttachment* a) {
  if (a->programFd >= 0) {
    uint32_t flag = a->native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = a->programFd);
    // Only detach our own program (REPLACE checks it is still the one attached).
    bpf_xdp_detach(a->ifindex, flag | XDP_FLAGS_REPLACE, &opts);
  }
  if (a->object) bpf_object__close(a->object);
  delete a;
}

int MapFd(bpf_object* object, const char* name) {
  bpf_map* map = bpf_object__find_map_by_name(object, name);
  return map ? bpf_map__fd(map) : -1;
}

}  // namespace

XdpAttachment* AcquireXdp(int ifindex, const std::string& objectPath, XdpModeRequest mode,
                          SysError* error) {
  std::call_once(g_printOnce, [] {
    libbpf_set_print(CaptureLibbpfPrint);
    atexit(DetachAllAtExit);
  });
  std::lock_guard<std::mutex> lock(g_mutex);
  auto found = g_attachments.find(ifindex);
  if (found != g_attachments.end()) {
    found->second->refs++;
    return found->second;
  }

  auto* a = new XdpAttachment();
  a->ifindex = ifindex;
  // Native mode wants ulvs_xdp_vlan, bound to this interface; if it does not load (a kernel
  // before 6.8 has no such kfunc), the object is loaded again without it.
  bool wantVlan = mode != XdpModeRequest::Generic;
  int rc = 0;
  for (;;) {
    t_libbpfMessage.clear();
    a->object = bpf_object__open_file(objectPath.c_str(), nullptr);
    if (!a->object) {
      *error = {errno, "bpf_object__open_file", objectPath};
      delete a;
      return nullptr;
    }
    bpf_program* vlan = bpf_object__find_program_by_name(a->object, kVlanProgramName);
    if (vlan && wantVlan) {
      bpf_program__set_ifindex(vlan, ifindex);
      bpf_program__set_flags(vlan, bpf_program__flags(vlan) | BPF_F_XDP_DEV_BOUND_ONLY);
    } else if (vlan) {
      bpf_program__set_autoload(vlan, false);
    }
    rc = bpf_object__load(a->object);
    if (rc == 0 || !wantVlan || !vlan) break;
    a->vlanReason = std::string("802.1Q tags in metadata not read (") + kVlanProgramName + ": " + t_libbpfMessage + ")";
    bpf_object__close(a->object);
    a->object = nullptr;
    wantVlan = false;
  }
  if (rc < 0) {
    *error = {-rc, "bpf_object__load", t_libbpfMessage};
    Destroy(a);
    return nullptr;
  }
  bpf_program* program = bpf_object__find_program_by_name(a->object, kProgramName);
  bpf_program* vlanProgram = wantVlan ? bpf_object__find_program_by_name(a->object, kVlanProgramName) : nullptr;
  a->servicesFd = MapFd(a->object, "services");
  a->repliesFd = MapFd(a->object, "replies");
  a->services6Fd = MapFd(a->object, "services6");
  a->replies6Fd = MapFd(a->object, "replies6");
  a->xsksFd = MapFd(a->object, "xsks");
  if (!program || a->servicesFd < 0 || a->repliesFd < 0 || a->services6Fd < 0 || a->replies6Fd < 0 ||
      a->xsksFd < 0) {
    *error = {ENOENT, "bpf_object__find_program_by_name", objectPath + " is not ulvs_xdp.o"};
    Destroy(a);
    return nullptr;
  }
  int programFd = bpf_program__fd(program);
  int nativeFd = vlanProgram ? bpf_program__fd(vlanProgram) : programFd;

  std::string other;
  rc = DetachStale(ifindex, nullptr, &other);
  if (rc < 0) {
    *error = {-rc, "bpf_xdp_query",
              rc == -EBUSY ? "another XDP program is attached: " + other : ""};
    Destroy(a);
    return nullptr;
  }

  // Native (driver) mode first; generic (SKB) mode works on any interface.
  const uint32_t noReplace = XDP_FLAGS_UPDATE_IF_NOEXIST;
  rc = -EOPNOTSUPP;
  if (mode != XdpModeRequest::Generic) {
    rc = bpf_xdp_attach(ifindex, nativeFd, noReplace | XDP_FLAGS_DRV_MODE, nullptr);
    if (rc == 0) {
      a->native = true;
      a->vlanTags = vlanProgram != nullptr;
      programFd = nativeFd;
    }
    else a->fallbackReason = std::string("native mode: ") + strerror(-rc);
  } else {
    a->fallbackReason = "generic mode requested";
  }
  if (rc < 0 && mode != XdpModeRequest::Native) {
    int rcGeneric = bpf_xdp_attach(ifindex, programFd, noReplace | XDP_FLAGS_SKB_MODE, nullptr);
    if (rcGeneric == 0) rc = 0;
    else if (mode == XdpModeRequest::Generic) rc = rcGeneric;
  }
  if (rc < 0) {
    *error = {-rc, "bpf_xdp_attach", a->fallbackReason};
    Destroy(a);
    return nullptr;
  }
  a->programFd = programFd;
  a->refs = 1;
  g_attachments[ifindex] = a;
  return a;
}

void ReleaseXdp(XdpAttachment* attachment) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (--attachment->refs > 0) return;
  g_attachments.erase(attachment->ifindex);
  Destroy(attachment);
}

bool DetachUlvsXdp(int ifindex, SysError* error) {
  std::lock_guard<std::mutex> lock(g_mutex);
  // This process's own live program is not stale.
  if (g_attachments.count(ifindex)) return false;
  bool detached = false;
  std::string other;
  int rc = DetachStale(ifindex, &detached, &other);
  // A foreign program is not ours to remove: report nothing detached.
  if (rc < 0 && rc != -EBUSY) *error = {-rc, "bpf_xdp_detach", ""};
  return detached;
}

namespace {

ulvs_steer_key KeyOf(const SteerRule& r) {
  ulvs_steer_key key{};
  key.ip = r.ip;
  key.port = r.port;
  key.proto = r.proto;
  return key;
}

ulvs_steer_key6 KeyOf(const SteerRule6& r) {
  ulvs_steer_key6 key{};
  for (int i = 0; i < 4; i++) key.ip[i] = r.ip[i];
  key.port = r.port;
  key.proto = r.proto;
  return key;
}

// A key's bytes (padding zeroed by KeyOf's value-initialisation), for the set of wanted keys.
template <typename Key>
std::array<uint8_t, sizeof(Key)> Bytes(const Key& k) {
  std::array<uint8_t, sizeof(Key)> out;
  memcpy(out.data(), &k, sizeof(Key));
  return out;
}

// Adds the new rules first, then removes stale keys, so a rule present
// before and after never stops steering.
template <typename Rule>
int ReplaceMap(int fd, const std::vector<Rule>& rules, const char** syscall) {
  using Key = decltype(KeyOf(rules.front()));
  std::set<std::array<uint8_t, sizeof(Key)>> wanted;
  uint8_t one = 1;
  for (const Rule& r : rules) {
    Key key = KeyOf(r);
    wanted.insert(Bytes(key));
    int rc = bpf_map_update_elem(fd, &key, &one, BPF_ANY);
    if (rc < 0) {
      *syscall = "bpf_map_update_elem";
      return rc;
    }
  }
  std::vector<Key> stale;
  Key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    if (!wanted.count(Bytes(next))) stale.push_back(next);
    key = next;
  }
  for (const auto& k : stale) bpf_map_delete_elem(fd, &k);
  return 0;
}

}  // namespace

void SetSteering(XdpAttachment* a, const std::vector<SteerRule>& services,
                 const std::vector<SteerRule>& replies, const std::vector<SteerRule6>& services6,
                 const std::vector<SteerRule6>& replies6, SysError* error) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const char* syscall = "";
  int rc = ReplaceMap(a->servicesFd, services, &syscall);
  if (rc == 0) rc = ReplaceMap(a->repliesFd, replies, &syscall);
  if (rc == 0) rc = ReplaceMap(a->services6Fd, services6, &syscall);
  if (rc == 0) rc = ReplaceMap(a->replies6Fd, replies6, &syscall);
  if (rc < 0) *error = {-rc, syscall, ""};
}

}  // namespace ulvs
