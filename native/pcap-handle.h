// The JavaScript face of one capture: a Napi::ObjectWrap over a shared CaptureCore. It checks
// every argument again (the TypeScript wrapper already did) and turns failures into JS
// errors with a stable `code`; nothing here throws C++ exceptions (they are compiled out).
#ifndef TUNNELHOUND_NATIVE_PCAP_HANDLE_H_
#define TUNNELHOUND_NATIVE_PCAP_HANDLE_H_

#include <napi.h>

#include <memory>
#include <string>

#include "capture-core.h"

namespace tunnelhound {

// Error codes shared with src/capture/pcap.ts.
constexpr const char* kErrArg = "ERR_CAPTURE_ARG";
constexpr const char* kErrOpen = "ERR_CAPTURE_OPEN";
constexpr const char* kErrFilter = "ERR_CAPTURE_FILTER";
constexpr const char* kErrRead = "ERR_CAPTURE_READ";
constexpr const char* kErrStats = "ERR_CAPTURE_STATS";
constexpr const char* kErrClosed = "ERR_CAPTURE_CLOSED";
constexpr const char* kErrBusy = "ERR_CAPTURE_BUSY";

// Throws `error` with error.code = code and returns undefined for the caller to return.
Napi::Value ThrowCoded(Napi::Error error, const char* code);
Napi::Value ThrowTypeError(Napi::Env env, const std::string& message);
Napi::Value ThrowRangeError(Napi::Env env, const std::string& message);

// Reads info[index] as a string without NUL bytes (libpcap takes C strings, and a NUL would
// silently shorten a path or a filter). `what` names the argument in the error.
bool ReadCString(const Napi::CallbackInfo& info, size_t index, const char* what,
                 bool allowEmpty, std::string* out);
// Reads info[index] as an integer in [min, max]; throws TypeError or RangeError otherwise.
bool ReadInteger(const Napi::CallbackInfo& info, size_t index, const char* what, double min,
                 double max, double* out);

class PcapHandle : public Napi::ObjectWrap<PcapHandle> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  // Built only by the addon's openFile/openLive; a handle made any other way stays closed.
  explicit PcapHandle(const Napi::CallbackInfo& info);
  ~PcapHandle() override;
  void Attach(std::shared_ptr<CaptureCore> core, std::string warning);
  void ReadFinished() { readInFlight_ = false; }

 private:
  Napi::Value SetFilter(const Napi::CallbackInfo& info);
  Napi::Value Datalink(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value ReadBatch(const Napi::CallbackInfo& info);
  Napi::Value ReadBatchAsync(const Napi::CallbackInfo& info);
  Napi::Value BreakLoop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetLive(const Napi::CallbackInfo& info);
  Napi::Value GetWarning(const Napi::CallbackInfo& info);
  Napi::Value GetTruncated(const Napi::CallbackInfo& info);

  bool RequireOpen(Napi::Env env);
  bool ReadArgs(const Napi::CallbackInfo& info, Napi::Uint8Array* buffer, uint32_t* maxPackets);

  // Reset by close(): an in-flight read keeps its own reference, so pcap_close runs when
  // the last of the two lets go (CaptureCore's destructor), never under a running read.
  std::shared_ptr<CaptureCore> core_;
  std::string warning_;
  uint64_t truncatedAtClose_ = 0;
  bool readInFlight_ = false;
};

}  // namespace tunnelhound

#endif  // TUNNELHOUND_NATIVE_PCAP_HANDLE_H_
