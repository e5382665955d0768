// Entry point of tunnelhound_pcap.node: openFile and openLive build PcapHandle objects.
// All JS state lives in this Napi::Addon instance (one per environment), so the module
// loads and works in the main thread and in any number of worker_threads at once.
#include <napi.h>
#include <pcap/pcap.h>

#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "capture-core.h"
#include "pcap-handle.h"

namespace tunnelhound {

namespace {

// libpcap's MAXIMUM_SNAPLEN: pcap_set_snaplen quietly raises anything larger or < 1 to it.
constexpr double kMaxSnaplen = 262144;
// pcap_set_buffer_size and pcap_set_timeout take int.
constexpr double kMaxBufferBytes = INT_MAX;
// A read waits at most this long for packets. Tearing down a worker_thread waits for its
// pool work and Node-API offers no hook that runs before that wait, so this bounds how
// long a terminating worker can hang on a quiet link. Batching gains nothing past it.
constexpr double kMaxTimeoutMs = 1000;

}  // namespace

class PcapAddon : public Napi::Addon<PcapAddon> {
 public:
  PcapAddon(Napi::Env env, Napi::Object exports) {
    handleClass_ = Napi::Persistent(PcapHandle::DefineClass(env));
    DefineAddon(exports,
                {
                    InstanceMethod<&PcapAddon::OpenFile>("openFile"),
                    InstanceMethod<&PcapAddon::OpenLive>("openLive"),
                    InstanceValue("libVersion", Napi::String::New(env, pcap_lib_version()),
                                  napi_enumerable),
                    InstanceValue("minBatchBytes",
                                  Napi::Number::New(env, static_cast<double>(kMinBatchBytes)),
                                  napi_enumerable),
                });
  }

 private:
  Napi::Value OpenFile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path;
    if (!ReadCString(info, 0, "path", false, &path)) return env.Undefined();
    std::string error;
    std::shared_ptr<CaptureCore> core = CaptureCore::OpenFile(path, &error);
    if (!core) {
      return ThrowCoded(Napi::Error::New(env, "cannot open capture " + path + ": " + error),
                        kErrOpen);
    }
    return Wrap(env, std::move(core), std::string());
  }

  Napi::Value OpenLive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    LiveConfig config{};
    double snaplen = 0;
    double bufferBytes = 0;
    double timeoutMs = 0;
    if (!ReadCString(info, 0, "device", false, &config.device) ||
        !ReadInteger(info, 1, "snaplen", 1, kMaxSnaplen, &snaplen)) {
      return env.Undefined();
    }
    if (info.Length() < 3 || !info[2].IsBoolean()) {
      return ThrowTypeError(env, "promiscuous must be a boolean");
    }
    if (!ReadInteger(info, 3, "bufferSize", 1, kMaxBufferBytes, &bufferBytes) ||
        !ReadInteger(info, 4, "timeoutMs", 1, kMaxTimeoutMs, &timeoutMs)) {
      return env.Undefined();
    }
    config.snaplen = static_cast<int>(snaplen);
    config.promiscuous = info[2].As<Napi::Boolean>().Value();
    config.bufferBytes = static_cast<int>(bufferBytes);
    config.timeoutMs = static_cast<int>(timeoutMs);

    std::string error;
    std::string warning;
    std::shared_ptr<CaptureCore> core = CaptureCore::OpenLive(config, &error, &warning);
    if (!core) {
      return ThrowCoded(
          Napi::Error::New(env, "cannot open capture on " + config.device + ": " + error),
          kErrOpen);
    }
    return Wrap(env, std::move(core), std::move(warning));
  }

  Napi::Value Wrap(Napi::Env env, std::shared_ptr<CaptureCore> core, std::string warning) {
    Napi::Object object = handleClass_.New({});
    // Exceptions are compiled out: a failed construction leaves one pending instead.
    if (env.IsExceptionPending() || object.IsEmpty()) return env.Undefined();
    PcapHandle::Unwrap(object)->Attach(std::move(core), std::move(warning));
    return object;
  }

  Napi::FunctionReference handleClass_;
};

}  // namespace tunnelhound

// The macro pastes the class name into an identifier, so it must be unqualified.
using tunnelhound::PcapAddon;
NODE_API_ADDON(PcapAddon)
