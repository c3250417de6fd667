// ulvs_native: module init and the NativePort JS class (one per packet port).
// Context-aware (worker_threads): JS handles live in the Addon instance.
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include <napi.h>

#include "backend.h"
#include "busy_poll.h"
#include "errno_error.h"
#include "malloc_stats.h"
#include "peer_credentials.h"
#include "raw_socket.h"
#include "sd_notify.h"
#include "table_memory.h"
#include "tap_backend.h"
#include "xdp_attach.h"
#include "xsk_backend.h"

namespace ulvs {
namespace {

// Most ports one waitReadable() call can watch.
constexpr uint32_t kMaxPollPorts = 32;
constexpr uint32_t kMaxFrameCount = 1u << 20;

class NativePort;

class UlvsAddon : public Napi::Addon<UlvsAddon> {
 public:
  UlvsAddon(Napi::Env env, Napi::Object exports);
  Napi::FunctionReference portConstructor;

 private:
  Napi::Value WaitReadable(const Napi::CallbackInfo& info);
  Napi::Value DetachXdp(const Napi::CallbackInfo& info);
  Napi::Value InterfaceInfo(const Napi::CallbackInfo& info);
};

uint32_t GetUint(Napi::Object o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

std::string GetString(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

bool IsPowerOfTwo(uint32_t n) { return n && !(n & (n - 1)); }

class NativePort : public Napi::ObjectWrap<NativePort> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativePort",
                       {
                           InstanceMethod<&NativePort::Receive>("receive"),
                           InstanceMethod<&NativePort::Transmit>("transmit"),
                           InstanceMethod<&NativePort::SetSteering>("setSteering"),
                           InstanceMethod<&NativePort::Fd>("fd"),
                           InstanceMethod<&NativePort::Stats>("stats"),
                           InstanceMethod<&NativePort::SetBusyPoll>("setBusyPoll"),
                           InstanceMethod<&NativePort::BusyPoll>("busyPoll"),
                           InstanceMethod<&NativePort::Close>("close"),
                       });
  }

  // new NativePort('afxdp', {ifname, queue, frameCount, frameSize, objectPath, xdpMode})
  // new NativePort('tap', {tapName, frameCount, frameSize})
  explicit NativePort(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativePort>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString() || !info[1].IsObject()) {
      ThrowTypeError(env, "NativePort(kind, options): kind 'afxdp' | 'tap' and an options object");
      return;
    }
    std::string kind = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].As<Napi::Object>();
    uint32_t frameCount = GetUint(o, "frameCount", 4096);
    uint32_t frameSize = GetUint(o, "frameSize", 2048);
    if (!IsPowerOfTwo(frameSize) || frameSize < 2048 || frameSize > 65536 || frameCount < 64 ||
        frameCount > kMaxFrameCount) {
      ThrowTypeError(env, "frameSize must be a power of two 2048-65536, frameCount 64-1048576");
      return;
    }
    SysError error;
    Napi::Object self = info.This().As<Napi::Object>();
    if (kind == "afxdp") {
      XskOptions x;
      x.ifname = GetString(o, "ifname");
      x.queue = GetUint(o, "queue", 0);
      x.frameCount = frameCount;
      x.frameSize = frameSize;
      x.objectPath = GetString(o, "objectPath");
      std::string mode = GetString(o, "xdpMode");
      x.mode = mode == "native" ? XdpModeRequest::Native
               : mode == "generic" ? XdpModeRequest::Generic
                                   : XdpModeRequest::Auto;
      XskBackend* xsk = XskBackend::Open(x, &error);
      if (!xsk) {
        ThrowSysError(env, error);
        return;
      }
      xsk_ = xsk;
      backend_.reset(xsk);
      self.Set("xdpMode", Napi::String::New(env, xsk->native() ? "native" : "generic"));
      self.Set("zeroCopy", Napi::Boolean::New(env, xsk->zeroCopy()));
      self.Set("xdpFallbackReason", Napi::String::New(env, xsk->fallbackReason()));
    } else if (kind == "tap") {
      TapBackend* tap = TapBackend::Open(GetString(o, "tapName"), frameCount, frameSize, &error);
      if (!tap) {
        ThrowSysError(env, error);
        return;
      }
      backend_.reset(tap);
    } else {
      ThrowTypeError(env, "NativePort(kind): kind must be 'afxdp' or 'tap'");
      return;
    }
    // Zero-copy view of all frame memory; its finalizer unmaps the memory,
    // so JS can never touch freed frames even after close().
    size_t length = backend_->framesLength;
    Napi::ArrayBuffer frames = Napi::ArrayBuffer::New(
        env, backend_->frames, length,
        [length](Napi::Env, void* data) { munmap(data, length); });
    backend_->framesOwnedByJs = true;
    self.Set("frames", frames);
    self.Set("frameSize", Napi::Number::New(env, frameSize));
  }

  Backend* backend() { return backend_.get(); }

 private:
  std::unique_ptr<Backend> backend_;
  XskBackend* xsk_ = nullptr;  // same object as backend_ when AF_XDP
  bool closed_ = false;

  // receive(descs: Uint32Array, max: number): number
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) return ThrowTypeError(env, "receive(descs, max): Uint32Array");
    Napi::Uint32Array descs = info[0].As<Napi::Uint32Array>();
    uint32_t max = info[1].As<Napi::Number>().Uint32Value();
    if (uint64_t(max) * kDescWords > descs.ElementLength()) max = descs.ElementLength() / kDescWords;
    uint32_t n = closed_ ? 0 : backend_->Receive(descs.Data(), max);
    return Napi::Number::New(env, n);
  }

  // transmit(descs: Uint32Array, count: number, other?: NativePort): void
  Napi::Value Transmit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) return ThrowTypeError(env, "transmit(descs, count, other?): Uint32Array");
    Napi::Uint32Array descs = info[0].As<Napi::Uint32Array>();
    uint32_t count = info[1].As<Napi::Number>().Uint32Value();
    if (uint64_t(count) * kDescWords > descs.ElementLength()) count = descs.ElementLength() / kDescWords;
    Backend* other = nullptr;
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object o = info[2].As<Napi::Object>();
      auto* addon = env.GetInstanceData<UlvsAddon>();
      if (!o.InstanceOf(addon->portConstructor.Value()))
        return ThrowTypeError(env, "transmit(..., other): other must be a NativePort");
      NativePort* port = NativePort::Unwrap(o);
      if (port != this && !port->closed_) other = port->backend();
    }
    if (!closed_) backend_->Transmit(descs.Data(), count, other);
    return env.Undefined();
  }

  // setSteering(services: Uint32Array, replies: Uint32Array[, services6, replies6]): triples
  // [ip, port, protocol] in host order; IPv6: sextuples [w0, w1, w2, w3, port, protocol], the
  // address's big-endian words. AF_XDP only (TAP steers with tc).
  Napi::Value SetSteering(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!xsk_) return ThrowTypeError(env, "setSteering: only AF_XDP ports steer natively");
    if (closed_) return ThrowSysError(env, {EBADF, "setSteering", "port is closed"});
    if (!info[0].IsTypedArray() || !info[1].IsTypedArray())
      return ThrowTypeError(env, "setSteering(services, replies): Uint32Array triples");
    std::vector<SteerRule> lists[2];
    for (int k = 0; k < 2; k++) {
      Napi::Uint32Array a = info[k].As<Napi::Uint32Array>();
      for (size_t i = 0; i + 2 < a.ElementLength(); i += 3)
        lists[k].push_back({htonl(a[i]), htons(uint16_t(a[i + 1])), uint8_t(a[i + 2])});
    }
    std::vector<SteerRule6> lists6[2];
    for (int k = 0; k < 2; k++) {
      if (!info[2 + k].IsTypedArray()) continue;
      Napi::Uint32Array a = info[2 + k].As<Napi::Uint32Array>();
      for (size_t i = 0; i + 5 < a.ElementLength(); i += 6) {
        SteerRule6 r{};
        for (int w = 0; w < 4; w++) r.ip[w] = htonl(a[i + w]);
        r.port = htons(uint16_t(a[i + 4]));
        r.proto = uint8_t(a[i + 5]);
        lists6[k].push_back(r);
      }
    }
    SysError error;
    ulvs::SetSteering(xsk_->attachment(), lists[0], lists[1], lists6[0], lists6[1], &error);
    if (error.failed()) return ThrowSysError(env, error);
    return env.Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), closed_ ? -1 : backend_->Fd());
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const PortStats& s = backend_->stats;
    Napi::Object o = Napi::Object::New(env);
    o.Set("rxPackets", Napi::Number::New(env, double(s.rxPackets)));
    o.Set("txPackets", Napi::Number::New(env, double(s.txPackets)));
    o.Set("txDropped", Napi::Number::New(env, double(s.txDropped)));
    o.Set("badDescriptors", Napi::Number::New(env, double(s.badDescriptors)));
    o.Set("otherMissing", Napi::Number::New(env, double(s.otherMissing)));
    o.Set("localDelivered", Napi::Number::New(env, double(s.localDelivered)));
    o.Set("localDropped", Napi::Number::New(env, double(s.localDropped)));
    return o;
  }

  // setBusyPoll(usecs, budget): { preferBusyPoll, busyPoll, budget }, each '' when the kernel
  // took the option, else the errno's name. AF_XDP only: a TAP fd is a character device.
  Napi::Value SetBusyPoll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!xsk_) return ThrowTypeError(env, "setBusyPoll: only AF_XDP ports are sockets");
    if (closed_) return ThrowSysError(env, {EBADF, "setBusyPoll", "port is closed"});
    if (!info[0].IsNumber() || !info[1].IsNumber()) return ThrowTypeError(env, "setBusyPoll(usecs, budget)");
    BusyPollResult r = ulvs::SetBusyPoll(backend_->Fd(), info[0].As<Napi::Number>().Int32Value(),
                                         info[1].As<Napi::Number>().Int32Value());
    auto name = [&env](int err) {
      const char* n = err ? strerrorname_np(err) : "";
      return Napi::String::New(env, n ? n : "EUNKNOWN");
    };
    Napi::Object o = Napi::Object::New(env);
    o.Set("preferBusyPoll", name(r.preferBusyPoll));
    o.Set("busyPoll", name(r.busyPoll));
    o.Set("budget", name(r.budget));
    return o;
  }

  // busyPoll(): the options as getsockopt reads them back (-1: unknown to this kernel).
  Napi::Value BusyPoll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!xsk_ || closed_) return ThrowTypeError(env, "busyPoll: only open AF_XDP ports are sockets");
    BusyPollValues v = ReadBusyPoll(backend_->Fd());
    Napi::Object o = Napi::Object::New(env);
    o.Set("preferBusyPoll", Napi::Number::New(env, v.preferBusyPoll));
    o.Set("busyPoll", Napi::Number::New(env, v.busyPoll));
    o.Set("budget", Napi::Number::New(env, v.budget));
    return o;
  }

  // close(): idempotent; detaches XDP when this was the interface's last socket.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!closed_) backend_->Close();
    closed_ = true;
    return info.Env().Undefined();
  }
};

UlvsAddon::UlvsAddon(Napi::Env env, Napi::Object exports) {
  Napi::Function port = NativePort::Define(env);
  portConstructor = Napi::Persistent(port);
  exports.Set("NativePort", port);
  // The descriptor contract's numbers, so src/io can check its copies against them (test/io).
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("DESC_WORDS", Napi::Number::New(env, kDescWords));
  constants.Set("DROP", Napi::Number::New(env, kActionDrop));
  constants.Set("TX", Napi::Number::New(env, kActionTx));
  constants.Set("TX_OTHER", Napi::Number::New(env, kActionTxOther));
  constants.Set("LOCAL", Napi::Number::New(env, kActionLocal));
  constants.Set("HEADROOM", Napi::Number::New(env, kHeadroom));
  constants.Freeze();
  exports.Set("constants", constants);
  DefineAddon(exports, {
                           InstanceMethod<&UlvsAddon::WaitReadable>("waitReadable"),
                           InstanceMethod<&UlvsAddon::DetachXdp>("detachXdp"),
                           InstanceMethod<&UlvsAddon::InterfaceInfo>("interfaceInfo"),
                       });
  InitRawSocket(env, exports);
  InitPeerCredentials(env, exports);
  InitSdNotify(env, exports);
  InitMallocStats(env, exports);
  InitTableMemory(env, exports);
}

// waitReadable(fds: Int32Array, count: number, timeoutMs: number[, spinUs, kickMask]): bitmask
// of fds with something to read (or an error). With spinUs > 0 it first spins that long
// (busy_poll.h SpinReadable, kicking the fds of kickMask), then sleeps in poll() for timeoutMs.
Napi::Value UlvsAddon::WaitReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) return ThrowTypeError(env, "waitReadable(fds, count, timeoutMs)");
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  uint32_t count = info[1].As<Napi::Number>().Uint32Value();
  int timeout = info[2].As<Napi::Number>().Int32Value();
  uint32_t spinUs = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  uint32_t kickMask = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
  if (count > fds.ElementLength()) count = fds.ElementLength();
  if (count > kMaxPollPorts) return ThrowTypeError(env, "waitReadable: at most 32 ports");
  pollfd p[kMaxPollPorts];
  for (uint32_t i = 0; i < count; i++) p[i] = {fds[i], POLLIN, 0};
  int rc = spinUs > 0 ? SpinReadable(p, count, spinUs, kickMask) : 0;
  if (rc == 0 && (timeout != 0 || spinUs == 0)) rc = poll(p, count, timeout);
  if (rc < 0) {
    if (errno == EINTR) return Napi::Number::New(env, 0);
    return ThrowSysError(env, {errno, "poll", ""});
  }
  uint32_t mask = 0;
  for (uint32_t i = 0; i < count; i++)
    if (p[i].revents & (POLLIN | POLLERR | POLLHUP)) mask |= 1u << i;
  return Napi::Number::New(env, mask);
}

// detachXdp(ifname: string): boolean (whether a ulvs program was removed)
Napi::Value UlvsAddon::DetachXdp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowTypeError(env, "detachXdp(ifname): string");
  std::string ifname = info[0].As<Napi::String>().Utf8Value();
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return ThrowSysError(env, {errno, "if_nametoindex", ifname});
  SysError error;
  bool detached = DetachUlvsXdp(static_cast<int>(ifindex), &error);
  if (error.failed()) return ThrowSysError(env, error);
  return Napi::Boolean::New(env, detached);
}

// interfaceInfo(ifname: string): { ifindex: number, mac: Uint8Array }
Napi::Value UlvsAddon::InterfaceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowTypeError(env, "interfaceInfo(ifname): string");
  std::string ifname = info[0].As<Napi::String>().Utf8Value();
  if (ifname.size() >= IFNAMSIZ) return ThrowSysError(env, {ENODEV, "if_nametoindex", ifname});
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return ThrowSysError(env, {errno, "if_nametoindex", ifname});
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return ThrowSysError(env, {errno, "socket", ""});
  ifreq ifr{};
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(sock, SIOCGIFHWADDR, &ifr);
  int err = errno;
  close(sock);
  if (rc < 0) return ThrowSysError(env, {err, "ioctl", "SIOCGIFHWADDR " + ifname});
  Napi::Uint8Array mac = Napi::Uint8Array::New(env, 6);
  memcpy(mac.Data(), ifr.ifr_hwaddr.sa_data, 6);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", Napi::Number::New(env, ifindex));
  o.Set("mac", mac);
  return o;
}

}  // namespace
}  // namespace ulvs

using UlvsAddon = ulvs::UlvsAddon;
NODE_API_ADDON(UlvsAddon)
