// RawSocket: socket(AF_INET or AF_INET6, SOCK_RAW, protocol) with multicast
// membership, device binding and libuv readiness (uv_poll_t). IPv4: received
// packets include the IPv4 header (raw IPv4 sockets always deliver it), so JS
// reads the TTL and source address from it, as RFC 3768/5798 validation needs.
// IPv6: raw IPv6 sockets deliver the payload only, so the source comes from
// recvmsg's address, and the destination, interface and hop limit from the
// IPV6_PKTINFO and IPV6_HOPLIMIT control messages (RFC 3542), handed to JS
// beside the data (VRRPv3 checks hop limit 255 and its multicast group).
// PacketSocket: socket(AF_PACKET, SOCK_RAW) bound to one interface, to send
// whole Ethernet frames (gratuitous ARP).
#include "raw_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "advert_cover.h"
#include "errno_error.h"

namespace {

using ulvs::ThrowSysError;
using ulvs::ThrowTypeError;

// Largest datagram read at once; VRRP adverts are < 1500 bytes, ICMP echo
// replies for ping checks are small. Larger packets are truncated (flagged).
constexpr size_t kMaxPacket = 65536;
// Upper bound on packets drained per readiness callback, so a flood cannot
// starve the event loop.
constexpr int kMaxBatch = 64;

bool ParseIpv4(const std::string& text, in_addr* out) {
  return inet_pton(AF_INET, text.c_str(), out) == 1;
}

bool ParseIpv6(const std::string& text, in6_addr* out) {
  return inet_pton(AF_INET6, text.c_str(), out) == 1;
}

// Link-local and multicast destinations/sources need an interface (scope id).
bool NeedsScope(const in6_addr& a) { return IN6_IS_ADDR_LINKLOCAL(&a) || IN6_IS_ADDR_MULTICAST(&a); }

std::string Ipv6Text(const in6_addr& a) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, &a, text, sizeof(text)) != nullptr ? std::string(text) : std::string();
}

class RawSocket : public Napi::ObjectWrap<RawSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "RawSocket",
        {
            InstanceMethod<&RawSocket::BindToDevice>("bindToDevice"),
            InstanceMethod<&RawSocket::BindAddress>("bindAddress"),
            InstanceMethod<&RawSocket::JoinGroup>("joinGroup"),
            InstanceMethod<&RawSocket::LeaveGroup>("leaveGroup"),
            InstanceMethod<&RawSocket::SetMulticastInterface>("setMulticastInterface"),
            InstanceMethod<&RawSocket::SetTtl>("setTtl"),
            InstanceMethod<&RawSocket::SetMulticastLoop>("setMulticastLoop"),
            InstanceMethod<&RawSocket::SetHeaderIncluded>("setHeaderIncluded"),
            InstanceMethod<&RawSocket::Send>("send"),
            InstanceMethod<&RawSocket::Start>("start"),
            InstanceMethod<&RawSocket::Stop>("stop"),
            InstanceMethod<&RawSocket::Close>("close"),
            InstanceMethod<&RawSocket::Fd>("fd"),
            InstanceMethod<&RawSocket::DrainNow>("drain"),
            InstanceMethod<&RawSocket::CoverAdvert>("coverAdvert"),
            InstanceMethod<&RawSocket::WithdrawAdvert>("withdrawAdvert"),
            InstanceMethod<&RawSocket::CoveredAdverts>("coveredAdverts"),
        });
  }

  // new RawSocket(protocol: number, family?: 4 | 6)
  explicit RawSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      ThrowTypeError(env, "RawSocket(protocol, family): protocol must be a number (112 VRRP, 1 ICMP, 58 ICMPv6)");
      return;
    }
    int protocol = info[0].As<Napi::Number>().Int32Value();
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      int family = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
      if (family != 4 && family != 6) {
        ThrowTypeError(env, "RawSocket(protocol, family): family must be 4 or 6");
        return;
      }
      v6_ = family == 6;
    }
    fd_ = socket(v6_ ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd_ < 0) {
      ThrowSysError(env, {errno, "socket", ""});
      return;
    }
    int on = 1;
    if (v6_) {
      // Destination + interface, and hop limit, of every received packet.
      setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
      setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
    } else {
      // Which interface a packet arrived on, for sockets not bound to a device.
      setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
    }
    buffer_.resize(kMaxPacket);
  }

  ~RawSocket() override {
    // Finalized (GC or env teardown): the JS reference is going anyway; don't touch it.
    referenced_ = false;
    CloseNow();
  }

 private:
  int fd_ = -1;
  bool v6_ = false;
  // IPv6: the interface that scopes link-local/multicast addresses (bindToDevice or
  // setMulticastInterface), 0 until one is named.
  unsigned scope_ = 0;
  uv_poll_t* poll_ = nullptr;  // heap: freed in the uv_close callback
  Napi::FunctionReference onPackets_;
  bool referenced_ = false;
  std::vector<uint8_t> buffer_;
  std::unique_ptr<ulvs::AdvertCover> cover_;  // made on the first coverAdvert

  bool CheckOpen(Napi::Env env) {
    if (fd_ >= 0) return true;
    ThrowSysError(env, {EBADF, "raw_socket", ""});
    return false;
  }

  Napi::Value SetOpt(Napi::Env env, int level, int name, const void* val, socklen_t len) {
    if (!CheckOpen(env)) return env.Undefined();
    if (setsockopt(fd_, level, name, val, len) < 0) return ThrowSysError(env, {errno, "setsockopt", ""});
    return env.Undefined();
  }

  // bindToDevice(ifname: string)
  Napi::Value BindToDevice(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) return ThrowTypeError(env, "bindToDevice(ifname): ifname must be a string");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    if (v6_) scope_ = if_nametoindex(name.c_str());
    return SetOpt(env, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), name.size() + 1);
  }

  // bindAddress(ip: string): fixes the source address of sent packets
  // (unicast_src_ip) when the kernel builds the IP header.
  Napi::Value BindAddress(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (v6_) {
      sockaddr_in6 sa6{};
      if (!info[0].IsString() || !ParseIpv6(info[0].As<Napi::String>().Utf8Value(), &sa6.sin6_addr))
        return ThrowTypeError(env, "bindAddress(ip): ip must be an IPv6 address");
      if (!CheckOpen(env)) return env.Undefined();
      sa6.sin6_family = AF_INET6;
      if (NeedsScope(sa6.sin6_addr)) sa6.sin6_scope_id = scope_;
      if (bind(fd_, reinterpret_cast<sockaddr*>(&sa6), sizeof(sa6)) < 0)
        return ThrowSysError(env, {errno, "bind", ""});
      return env.Undefined();
    }
    in_addr addr;
    if (!info[0].IsString() || !ParseIpv4(info[0].As<Napi::String>().Utf8Value(), &addr))
      return ThrowTypeError(env, "bindAddress(ip): ip must be a dotted IPv4 address");
    if (!CheckOpen(env)) return env.Undefined();
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0)
      return ThrowSysError(env, {errno, "bind", ""});
    return env.Undefined();
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    if (v6_) {
      ipv6_mreq mreq6{};
      if (!info[0].IsString() || !ParseIpv6(info[0].As<Napi::String>().Utf8Value(), &mreq6.ipv6mr_multiaddr) ||
          !info[1].IsString())
        return ThrowTypeError(env, "joinGroup/leaveGroup(group, ifname): IPv6 group and interface name");
      std::string ifname = info[1].As<Napi::String>().Utf8Value();
      mreq6.ipv6mr_interface = if_nametoindex(ifname.c_str());
      if (mreq6.ipv6mr_interface == 0) return ThrowSysError(env, {errno, "if_nametoindex", ""});
      int opt6 = option == IP_ADD_MEMBERSHIP ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP;
      return SetOpt(env, IPPROTO_IPV6, opt6, &mreq6, sizeof(mreq6));
    }
    in_addr group;
    if (!info[0].IsString() || !ParseIpv4(info[0].As<Napi::String>().Utf8Value(), &group) ||
        !info[1].IsString())
      return ThrowTypeError(env, "joinGroup/leaveGroup(group, ifname): dotted IPv4 group and interface name");
    std::string ifname = info[1].As<Napi::String>().Utf8Value();
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) return ThrowSysError(env, {errno, "if_nametoindex", ""});
    ip_mreqn mreq{};
    mreq.imr_multiaddr = group;
    mreq.imr_ifindex = static_cast<int>(ifindex);
    return SetOpt(env, IPPROTO_IP, option, &mreq, sizeof(mreq));
  }

  // joinGroup(group: string, ifname: string)
  Napi::Value JoinGroup(const Napi::CallbackInfo& info) { return Membership(info, IP_ADD_MEMBERSHIP); }
  // leaveGroup(group: string, ifname: string)
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info) { return Membership(info, IP_DROP_MEMBERSHIP); }

  // setMulticastInterface(ifname: string)
  Napi::Value SetMulticastInterface(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) return ThrowTypeError(env, "setMulticastInterface(ifname): string");
    std::string ifname = info[0].As<Napi::String>().Utf8Value();
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) return ThrowSysError(env, {errno, "if_nametoindex", ""});
    if (v6_) {
      scope_ = ifindex;
      int index6 = static_cast<int>(ifindex);
      return SetOpt(env, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index6, sizeof(index6));
    }
    ip_mreqn mreq{};
    mreq.imr_ifindex = static_cast<int>(ifindex);
    return SetOpt(env, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq));
  }

  // setTtl(ttl: number): unicast and multicast TTL (VRRP requires 255).
  Napi::Value SetTtl(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) return ThrowTypeError(env, "setTtl(ttl): number 1-255");
    int ttl = info[0].As<Napi::Number>().Int32Value();
    if (v6_) {
      // The hop limit (VRRPv3: 255, checked by receivers as the TTL is for IPv4).
      SetOpt(env, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
      if (env.IsExceptionPending()) return env.Undefined();
      return SetOpt(env, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl));
    }
    SetOpt(env, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
    if (env.IsExceptionPending()) return env.Undefined();
    return SetOpt(env, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
  }

  // setMulticastLoop(on: boolean)
  Napi::Value SetMulticastLoop(const Napi::CallbackInfo& info) {
    int on = info[0].ToBoolean().Value() ? 1 : 0;
    if (v6_) return SetOpt(info.Env(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &on, sizeof(on));
    return SetOpt(info.Env(), IPPROTO_IP, IP_MULTICAST_LOOP, &on, sizeof(on));
  }

  // setHeaderIncluded(on: boolean): send() data then starts with the IPv4
  // header (IP_HDRINCL); the kernel still fills total length, and id and
  // checksum when they are zero.
  Napi::Value SetHeaderIncluded(const Napi::CallbackInfo& info) {
    int on = info[0].ToBoolean().Value() ? 1 : 0;
    if (v6_) return ThrowTypeError(info.Env(), "setHeaderIncluded: IPv4 sockets only");
    return SetOpt(info.Env(), IPPROTO_IP, IP_HDRINCL, &on, sizeof(on));
  }

  // send(dst: string, data: Uint8Array): number of bytes sent.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (v6_) return Send6(info);
    in_addr dst;
    if (!info[0].IsString() || !ParseIpv4(info[0].As<Napi::String>().Utf8Value(), &dst) ||
        !info[1].IsTypedArray())
      return ThrowTypeError(env, "send(dst, data): dotted IPv4 destination and a Uint8Array");
    if (!CheckOpen(env)) return env.Undefined();
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = dst;
    ssize_t n = sendto(fd_, data.Data(), data.ByteLength(), 0, reinterpret_cast<sockaddr*>(&sa),
                       sizeof(sa));
    if (n < 0) return ThrowSysError(env, {errno, "sendto", ""});
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // IPv6 send(dst, data, source?): the kernel builds the header; its source is `source` when
  // given (IPV6_PKTINFO: the address the caller's checksum covers, whatever else the interface
  // holds, such as a VIP), else the bound address or the kernel's choice. Link-local and
  // multicast destinations go out on the scoping interface.
  Napi::Value Send6(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sockaddr_in6 sa6{};
    in6_pktinfo pktinfo{};
    bool withSource = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull();
    if (!info[0].IsString() || !ParseIpv6(info[0].As<Napi::String>().Utf8Value(), &sa6.sin6_addr) ||
        !info[1].IsTypedArray() ||
        (withSource && (!info[2].IsString() || !ParseIpv6(info[2].As<Napi::String>().Utf8Value(), &pktinfo.ipi6_addr))))
      return ThrowTypeError(env, "send(dst, data, source?): IPv6 destination, a Uint8Array, an optional IPv6 source");
    if (!CheckOpen(env)) return env.Undefined();
    sa6.sin6_family = AF_INET6;
    if (NeedsScope(sa6.sin6_addr)) sa6.sin6_scope_id = scope_;
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    iovec iov{data.Data(), data.ByteLength()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = &sa6;
    msg.msg_namelen = sizeof(sa6);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (withSource) {
      // A link-local source needs its interface; 0 lets the route (or the scope id) decide.
      pktinfo.ipi6_ifindex = NeedsScope(pktinfo.ipi6_addr) ? scope_ : 0;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = IPPROTO_IPV6;
      cmsg->cmsg_type = IPV6_PKTINFO;
      cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      memcpy(CMSG_DATA(cmsg), &pktinfo, sizeof(pktinfo));
    }
    ssize_t n = sendmsg(fd_, &msg, 0);
    if (n < 0) return ThrowSysError(env, {errno, "sendto", ""});
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // drain(): reads what is waiting now and calls onPackets with it before returning. libuv
  // runs due timers before it polls sockets: after a stall, a timer (VRRP's master-down)
  // may fire while the packet that would have re-armed it waits unread.
  Napi::Value DrainNow(const Napi::CallbackInfo& info) {
    if (fd_ >= 0 && poll_ != nullptr) Drain(false);
    return info.Env().Undefined();
  }

  // coverAdvert(key, dst, data, intervalMs, lateMs, giveUpMs): see advert_cover.h.
  Napi::Value CoverAdvert(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    in_addr dst;
    if (!info[0].IsString() || !info[1].IsString() ||
        !ParseIpv4(info[1].As<Napi::String>().Utf8Value(), &dst) || !info[2].IsTypedArray() ||
        !info[3].IsNumber() || !info[4].IsNumber() || !info[5].IsNumber())
      return ThrowTypeError(env, "coverAdvert(key, dst, data, intervalMs, lateMs, giveUpMs)");
    if (!CheckOpen(env)) return env.Undefined();
    Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
    if (!cover_) cover_ = std::make_unique<ulvs::AdvertCover>(fd_);
    cover_->Arm(info[0].As<Napi::String>().Utf8Value(), dst, data.Data(), data.ByteLength(),
                info[3].As<Napi::Number>().Int32Value(), info[4].As<Napi::Number>().Int32Value(),
                info[5].As<Napi::Number>().Int32Value());
    return env.Undefined();
  }

  Napi::Value WithdrawAdvert(const Napi::CallbackInfo& info) {
    if (cover_ && info[0].IsString()) cover_->Withdraw(info[0].As<Napi::String>().Utf8Value());
    return info.Env().Undefined();
  }

  Napi::Value CoveredAdverts(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), cover_ ? static_cast<double>(cover_->sent()) : 0);
  }

  // start(onPackets: (packets: {data: Buffer, ifindex: number}[]) => void)
  // IPv6 packets also carry source, destination and hopLimit (-1 when unknown).
  // Calls onPackets with every packet readable at once (up to kMaxBatch).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) return ThrowTypeError(env, "start(onPackets): function");
    if (!CheckOpen(env)) return env.Undefined();
    onPackets_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (poll_ == nullptr) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok) return ThrowSysError(env, {EINVAL, "uv_loop", ""});
      poll_ = new uv_poll_t;
      int rc = uv_poll_init(loop, poll_, fd_);
      if (rc < 0) {
        delete poll_;
        poll_ = nullptr;
        return ThrowSysError(env, {-rc, "uv_poll_init", ""});
      }
      poll_->data = this;
    }
    int rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (rc < 0) return ThrowSysError(env, {-rc, "uv_poll_start", ""});
    // Keep the JS object (and so this) alive while the poll can call back.
    if (!referenced_) {
      Ref();
      referenced_ = true;
    }
    return env.Undefined();
  }

  // stop(): no more callbacks; the socket stays open.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  // close(): idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNow();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  void StopPolling() {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    if (referenced_) {
      referenced_ = false;
      Unref();
    }
  }

  void CloseNow() {
    // The cover's thread sends on fd_: joined before the fd goes.
    if (cover_) cover_->Stop();
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (referenced_) {
      referenced_ = false;
      Unref();
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    RawSocket* self = static_cast<RawSocket*>(handle->data);
    if (self == nullptr || status < 0) return;
    self->Drain(true);
  }

  // `fromLoop`: called by libuv (MakeCallback: async context, microtasks) or from JS (a plain call).
  void Drain(bool fromLoop) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Array packets = Napi::Array::New(env);
    uint32_t count = 0;
    for (int i = 0; i < kMaxBatch && fd_ >= 0; i++) {
      sockaddr_in6 from{};  // large enough for either family
      iovec iov{buffer_.data(), buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof(from);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n < 0) break;  // EAGAIN: drained; other errors: retried next readiness
      int ifindex = 0;
      int hopLimit = -1;
      in6_addr dst6{};
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof(pi));
          ifindex = pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi6;
          memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
          ifindex = static_cast<int>(pi6.ipi6_ifindex);
          dst6 = pi6.ipi6_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
          memcpy(&hopLimit, CMSG_DATA(c), sizeof(hopLimit));
        }
      }
      Napi::Object packet = Napi::Object::New(env);
      if (v6_) {
        packet.Set("source", Napi::String::New(env, Ipv6Text(from.sin6_addr)));
        packet.Set("destination", Napi::String::New(env, Ipv6Text(dst6)));
        packet.Set("hopLimit", Napi::Number::New(env, hopLimit));
      }
      packet.Set("data", Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), static_cast<size_t>(n)));
      packet.Set("ifindex", Napi::Number::New(env, ifindex));
      packet.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_TRUNC) != 0));
      packets.Set(count++, packet);
    }
    if (count == 0 || onPackets_.IsEmpty()) return;
    // MakeCallback runs microtasks and keeps async context, as for any libuv callback.
    if (fromLoop) onPackets_.MakeCallback(Value(), {packets});
    else onPackets_.Call(Value(), {packets});
  }
};

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod<&PacketSocket::Send>("send"),
                           InstanceMethod<&PacketSocket::Close>("close"),
                       });
  }

  // new PacketSocket(ifname: string)
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      ThrowTypeError(env, "PacketSocket(ifname): ifname must be a string");
      return;
    }
    std::string ifname = info[0].As<Napi::String>().Utf8Value();
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) {
      ThrowSysError(env, {errno, "if_nametoindex", ""});
      return;
    }
    // Protocol 0: send only, receive nothing.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      ThrowSysError(env, {errno, "socket", ""});
      return;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex_;
    sll.sll_protocol = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
      int err = errno;
      close(fd_);
      fd_ = -1;
      ThrowSysError(env, {err, "bind", ""});
      return;
    }
  }

  ~PacketSocket() override {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_ = -1;
  int ifindex_ = 0;

  // send(frame: Uint8Array): whole Ethernet frame, destination MAC first.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) return ThrowTypeError(env, "send(frame): Uint8Array");
    if (fd_ < 0) return ThrowSysError(env, {EBADF, "packet_socket", ""});
    Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
    if (frame.ByteLength() < ETH_HLEN) return ThrowTypeError(env, "send(frame): shorter than an Ethernet header");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex_;
    sll.sll_halen = ETH_ALEN;
    memcpy(sll.sll_addr, frame.Data(), ETH_ALEN);
    ssize_t n = sendto(fd_, frame.Data(), frame.ByteLength(), 0, reinterpret_cast<sockaddr*>(&sll),
                       sizeof(sll));
    if (n < 0) return ThrowSysError(env, {errno, "sendto", ""});
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    return info.Env().Undefined();
  }
};

}  // namespace

Napi::Object InitRawSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("RawSocket", RawSocket::Define(env));
  exports.Set("PacketSocket", PacketSocket::Define(env));
  return exports;
}
