#include "pcap-handle.h"

#include <cmath>
#include <utility>

namespace tunnelhound {

namespace {

// Largest maxPackets a caller may pass: BatchOutcome counts in u32.
constexpr double kMaxPacketsLimit = 4294967295.0;

Napi::Object BatchResultObject(Napi::Env env, const BatchOutcome& outcome) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Number::New(env, outcome.packets));
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(outcome.bytes)));
  result.Set("eof", Napi::Boolean::New(env, outcome.eof));
  return result;
}

Napi::Error ReadError(Napi::Env env, const std::string& text) {
  Napi::Error error = Napi::Error::New(env, "capture read failed: " + text);
  error.Set("code", Napi::String::New(env, kErrRead));
  return error;
}

// Runs one FillBatch on the libuv pool so a live read never blocks the event loop. The
// receiver (the handle) and the buffer are held by references until the callback has run,
// so neither can be collected under the pool thread.
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Object handle, PcapHandle* owner, std::shared_ptr<CaptureCore> core,
             Napi::Uint8Array buffer, uint32_t maxPackets, Napi::Function callback)
      : Napi::AsyncWorker(handle, callback, "tunnelhound.pcapRead"),
        owner_(owner),
        core_(std::move(core)),
        bufferRef_(Napi::Persistent(buffer)),
        data_(buffer.Data()),
        capacity_(buffer.ByteLength()),
        maxPackets_(maxPackets) {}

  void Execute() override { outcome_ = core_->FillBatch(data_, capacity_, maxPackets_); }

  void OnOK() override {
    owner_->ReadFinished();
    Napi::Env env = Env();
    if (outcome_.failed) {
      Callback().Call({ReadError(env, outcome_.error).Value()});
    } else {
      Callback().Call({env.Null(), BatchResultObject(env, outcome_)});
    }
  }

 private:
  PcapHandle* owner_;
  std::shared_ptr<CaptureCore> core_;
  Napi::Reference<Napi::Uint8Array> bufferRef_;
  uint8_t* data_;
  size_t capacity_;
  uint32_t maxPackets_;
  BatchOutcome outcome_;
};

}  // namespace

Napi::Value ThrowCoded(Napi::Error error, const char* code) {
  Napi::Env env = error.Env();
  error.Set("code", Napi::String::New(env, code));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowTypeError(Napi::Env env, const std::string& message) {
  return ThrowCoded(Napi::TypeError::New(env, message), kErrArg);
}

Napi::Value ThrowRangeError(Napi::Env env, const std::string& message) {
  return ThrowCoded(Napi::RangeError::New(env, message), kErrArg);
}

bool ReadCString(const Napi::CallbackInfo& info, size_t index, const char* what,
                 bool allowEmpty, std::string* out) {
  if (index >= info.Length() || !info[index].IsString()) {
    ThrowTypeError(info.Env(), std::string(what) + " must be a string");
    return false;
  }
  *out = info[index].As<Napi::String>().Utf8Value();
  if (!allowEmpty && out->empty()) {
    ThrowTypeError(info.Env(), std::string(what) + " must not be empty");
    return false;
  }
  if (out->find('\0') != std::string::npos) {
    ThrowTypeError(info.Env(), std::string(what) + " must not contain NUL characters");
    return false;
  }
  return true;
}

bool ReadInteger(const Napi::CallbackInfo& info, size_t index, const char* what, double min,
                 double max, double* out) {
  if (index >= info.Length() || !info[index].IsNumber()) {
    ThrowTypeError(info.Env(), std::string(what) + " must be a number");
    return false;
  }
  const double value = info[index].As<Napi::Number>().DoubleValue();
  // NaN fails both comparisons, so it lands here too.
  if (!(value >= min && value <= max) || std::floor(value) != value) {
    ThrowRangeError(info.Env(), std::string(what) + " must be an integer from " +
                                    std::to_string(static_cast<int64_t>(min)) + " to " +
                                    std::to_string(static_cast<int64_t>(max)));
    return false;
  }
  *out = value;
  return true;
}

Napi::Function PcapHandle::DefineClass(Napi::Env env) {
  return ObjectWrap<PcapHandle>::DefineClass(
      env, "PcapHandle",
      {
          InstanceMethod<&PcapHandle::SetFilter>("setFilter"),
          InstanceMethod<&PcapHandle::Datalink>("datalink"),
          InstanceMethod<&PcapHandle::Stats>("stats"),
          InstanceMethod<&PcapHandle::ReadBatch>("readBatch"),
          InstanceMethod<&PcapHandle::ReadBatchAsync>("readBatchAsync"),
          InstanceMethod<&PcapHandle::BreakLoop>("breakLoop"),
          InstanceMethod<&PcapHandle::Close>("close"),
          InstanceAccessor<&PcapHandle::GetLive>("live"),
          InstanceAccessor<&PcapHandle::GetWarning>("warning"),
          InstanceAccessor<&PcapHandle::GetTruncated>("truncatedPackets"),
      });
}

PcapHandle::PcapHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PcapHandle>(info) {}

// Runs from the GC finalizer or at environment teardown (a worker thread exiting). A read
// still on the pool owns the core too; waking it makes it finish and release it promptly.
PcapHandle::~PcapHandle() {
  if (core_) core_->RequestBreak();
}

void PcapHandle::Attach(std::shared_ptr<CaptureCore> core, std::string warning) {
  core_ = std::move(core);
  warning_ = std::move(warning);
}

bool PcapHandle::RequireOpen(Napi::Env env) {
  if (core_) return true;
  ThrowCoded(Napi::Error::New(env, "capture handle is closed"), kErrClosed);
  return false;
}

Napi::Value PcapHandle::SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expression;
  if (!RequireOpen(env) || !ReadCString(info, 0, "filter", true, &expression)) {
    return env.Undefined();
  }
  std::string error;
  if (!core_->SetFilter(expression, &error)) {
    return ThrowCoded(
        Napi::Error::New(env, "invalid capture filter \"" + expression + "\": " + error),
        kErrFilter);
  }
  return env.Undefined();
}

Napi::Value PcapHandle::Datalink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireOpen(env)) return env.Undefined();
  const DatalinkInfo& link = core_->datalink();
  Napi::Object result = Napi::Object::New(env);
  result.Set("type", Napi::Number::New(env, link.type));
  result.Set("name", Napi::String::New(env, link.name));
  result.Set("description", Napi::String::New(env, link.description));
  return result;
}

Napi::Value PcapHandle::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireOpen(env)) return env.Undefined();
  // A savefile has no kernel counters: null, not zeros that would read as "nothing lost".
  if (!core_->live()) return env.Null();
  CaptureCounters counters{};
  std::string error;
  if (!core_->Stats(&counters, &error)) {
    return ThrowCoded(Napi::Error::New(env, "capture statistics failed: " + error), kErrStats);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("received", Napi::Number::New(env, counters.received));
  result.Set("dropped", Napi::Number::New(env, counters.dropped));
  result.Set("ifDropped", Napi::Number::New(env, counters.ifDropped));
  return result;
}

bool PcapHandle::ReadArgs(const Napi::CallbackInfo& info, Napi::Uint8Array* buffer,
                          uint32_t* maxPackets) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, "buffer must be a Uint8Array");
    return false;
  }
  *buffer = info[0].As<Napi::Uint8Array>();
  // A detached ArrayBuffer reports length 0, so this also catches it.
  if (buffer->ByteLength() < kMinBatchBytes || buffer->Data() == nullptr) {
    ThrowRangeError(env, "buffer must hold at least " + std::to_string(kMinBatchBytes) +
                             " bytes");
    return false;
  }
  double max = 0;
  if (!ReadInteger(info, 1, "maxPackets", 1, kMaxPacketsLimit, &max)) return false;
  *maxPackets = static_cast<uint32_t>(max);
  return true;
}

Napi::Value PcapHandle::ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array buffer;
  uint32_t maxPackets = 0;
  if (!RequireOpen(env) || !ReadArgs(info, &buffer, &maxPackets)) return env.Undefined();
  if (readInFlight_) {
    return ThrowCoded(Napi::Error::New(env, "a read is already in flight on this handle"),
                      kErrBusy);
  }
  const BatchOutcome outcome = core_->FillBatch(buffer.Data(), buffer.ByteLength(), maxPackets);
  if (outcome.failed) {
    ReadError(env, outcome.error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return BatchResultObject(env, outcome);
}

Napi::Value PcapHandle::ReadBatchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array buffer;
  uint32_t maxPackets = 0;
  if (!RequireOpen(env) || !ReadArgs(info, &buffer, &maxPackets)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsFunction()) {
    return ThrowTypeError(env, "callback must be a function");
  }
  // One pcap_t, one reader: a second read would race for the same ring and pending packet.
  if (readInFlight_) {
    return ThrowCoded(Napi::Error::New(env, "a read is already in flight on this handle"),
                      kErrBusy);
  }
  ReadWorker* worker = new ReadWorker(info.This().As<Napi::Object>(), this, core_, buffer,
                                      maxPackets, info[2].As<Napi::Function>());
  readInFlight_ = true;
  worker->Queue();
  return env.Undefined();
}

Napi::Value PcapHandle::BreakLoop(const Napi::CallbackInfo& info) {
  if (core_) core_->RequestBreak();
  return info.Env().Undefined();
}

Napi::Value PcapHandle::Close(const Napi::CallbackInfo& info) {
  if (core_) {
    // Wake a read sleeping in poll() so it hands back its batch and lets go of the core.
    core_->RequestBreak();
    truncatedAtClose_ = core_->truncatedPackets();
    core_.reset();
  }
  return info.Env().Undefined();
}

Napi::Value PcapHandle::GetLive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_ && core_->live());
}

Napi::Value PcapHandle::GetWarning(const Napi::CallbackInfo& info) {
  if (warning_.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), warning_);
}

Napi::Value PcapHandle::GetTruncated(const Napi::CallbackInfo& info) {
  const uint64_t count = core_ ? core_->truncatedPackets() : truncatedAtClose_;
  return Napi::Number::New(info.Env(), static_cast<double>(count));
}

}  // namespace tunnelhound
