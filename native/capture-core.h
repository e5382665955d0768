// The libpcap side of the capture addon: one open pcap_t, read into caller-owned batch
// buffers. Plain C++ with no Node-API types, so a read can run on a libuv pool thread while
// the JavaScript wrapper (pcap-handle.cc) stays on the main thread.
#ifndef TUNNELHOUND_NATIVE_CAPTURE_CORE_H_
#define TUNNELHOUND_NATIVE_CAPTURE_CORE_H_

#include <pcap/pcap.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace tunnelhound {

// Batch record layout, defined in src/capture/batch-format.ts: a 16-byte header of
// little-endian u32 {caplen, origlen, tsSec, tsNsec}, the data, zero padding to 8 bytes.
constexpr size_t kRecordHeaderBytes = 16;
constexpr size_t kRecordAlign = 8;
// The smallest batch buffer accepted: one header plus one aligned data word, so that even
// a packet truncated to fit (see FillBatch) carries some bytes and the reader moves on.
constexpr size_t kMinBatchBytes = kRecordHeaderBytes + kRecordAlign;

inline size_t RecordBytes(uint32_t caplen) {
  return kRecordHeaderBytes + ((static_cast<size_t>(caplen) + kRecordAlign - 1) &
                               ~(kRecordAlign - 1));
}

struct LiveConfig {
  std::string device;
  int snaplen;
  bool promiscuous;
  int bufferBytes;
  int timeoutMs;
};

struct DatalinkInfo {
  int type;
  std::string name;
  std::string description;
};

// pcap_stat fields are u_int in libpcap, so these wrap at 2^32 on a long-running capture.
struct CaptureCounters {
  uint32_t received;
  uint32_t dropped;
  uint32_t ifDropped;
};

struct BatchOutcome {
  uint32_t packets = 0;
  size_t bytes = 0;
  bool eof = false;
  bool failed = false;
  std::string error;
};

class CaptureCore {
 public:
  // Both return nullptr and set *error (libpcap's text) when the capture cannot be opened.
  static std::shared_ptr<CaptureCore> OpenFile(const std::string& path, std::string* error);
  static std::shared_ptr<CaptureCore> OpenLive(const LiveConfig& config, std::string* error,
                                               std::string* warning);

  CaptureCore(const CaptureCore&) = delete;
  CaptureCore& operator=(const CaptureCore&) = delete;
  ~CaptureCore();

  bool SetFilter(const std::string& expression, std::string* error);
  // Files have no counters (pcap_stats fails on a savefile): false with an empty error.
  bool Stats(CaptureCounters* out, std::string* error);
  BatchOutcome FillBatch(uint8_t* buffer, size_t capacity, uint32_t maxPackets);
  // Safe from any thread: ends the read in flight, or the next one if none is running.
  void RequestBreak();

  bool live() const { return live_; }
  const DatalinkInfo& datalink() const { return datalink_; }
  uint64_t truncatedPackets() const { return truncated_.load(std::memory_order_relaxed); }

 private:
  CaptureCore(pcap_t* pcap, bool live);

  bool InitLive(int timeoutMs, std::string* error);
  int NextPacket(const pcap_pkthdr** header, const u_char** data);
  bool Append(uint8_t* buffer, size_t capacity, BatchOutcome* out,
              const pcap_pkthdr* header, const u_char* data);
  bool HoldPending(const pcap_pkthdr* header, const u_char* data);
  bool WaitForPackets(std::unique_lock<std::mutex>* lock,
                      std::chrono::steady_clock::time_point deadline);
  void DrainWakePipe();

  pcap_t* pcap_;
  const bool live_;
  DatalinkInfo datalink_;
  // tv_usec carries nanoseconds when libpcap granted nano precision; else scale micro by 1000.
  uint32_t nsecPerTick_ = 1;
  int timeoutMs_ = 0;

  // Serialises every libpcap call on this handle: a pcap_t is not thread-safe, and stats()
  // or setFilter() on the main thread may meet a read on a pool thread. The reader drops
  // the lock while it sleeps in poll(), so those calls wait at most for one batch copy.
  std::mutex mutex_;
  bool eof_ = false;
  std::string deferredError_;

  // A packet that did not fit in the last batch. pcap_next_ex's data is only valid until the
  // next call on the handle, so it is copied here and delivered first by the next batch.
  bool hasPending_ = false;
  pcap_pkthdr pendingHeader_{};
  u_char* pendingData_ = nullptr;
  size_t pendingCapacity_ = 0;

  // Live reads sleep in poll() on the capture fd and on this pipe; RequestBreak writes a
  // byte so the sleep ends at once (we do not use pcap_breakloop: on a savefile it turns
  // the next read into a false end of file).
  int selectableFd_ = -1;
  int wakeRead_ = -1;
  int wakeWrite_ = -1;
  std::atomic<bool> breakRequested_{false};
  std::atomic<uint64_t> truncated_{0};
};

}  // namespace tunnelhound

#endif  // TUNNELHOUND_NATIVE_CAPTURE_CORE_H_
