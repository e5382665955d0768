#include "capture-core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace tunnelhound {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kNsecPerUsec = 1000;

// libpcap prefixes some messages with the path it was given ("/x.pcap: No such file or
// directory"); the caller names the file itself, so drop the repeat.
std::string StripPathPrefix(const std::string& text, const std::string& path) {
  const std::string prefix = path + ": ";
  if (text.compare(0, prefix.size(), prefix) == 0) return text.substr(prefix.size());
  return text;
}

// pcap_activate's status names the failure class and pcap_geterr usually has the detail
// (which ioctl, which device); PCAP_ERROR's class text is only "Generic error".
std::string ActivateMessage(pcap_t* pcap, int status) {
  const std::string detail = pcap_geterr(pcap);
  if (status == PCAP_ERROR && !detail.empty()) return detail;
  std::string text = pcap_statustostr(status);
  if (!detail.empty() && detail != text) text += ": " + detail;
  return text;
}

void PutLe32(uint8_t* at, uint32_t value) {
  at[0] = static_cast<uint8_t>(value);
  at[1] = static_cast<uint8_t>(value >> 8);
  at[2] = static_cast<uint8_t>(value >> 16);
  at[3] = static_cast<uint8_t>(value >> 24);
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

CaptureCore::CaptureCore(pcap_t* pcap, bool live) : pcap_(pcap), live_(live) {
  datalink_.type = pcap_datalink(pcap);
  // Both lookups return NULL for link types libpcap has no name for.
  const char* name = pcap_datalink_val_to_name(datalink_.type);
  const char* description = pcap_datalink_val_to_description(datalink_.type);
  datalink_.name = name ? name : "DLT_" + std::to_string(datalink_.type);
  datalink_.description = description ? description : datalink_.name;
}

CaptureCore::~CaptureCore() {
  if (pcap_) pcap_close(pcap_);
  std::free(pendingData_);
  CloseFd(&wakeRead_);
  CloseFd(&wakeWrite_);
}

std::shared_ptr<CaptureCore> CaptureCore::OpenFile(const std::string& path,
                                                   std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  // Asking for nanosecond precision makes libpcap scale microsecond files up, so classic
  // pcap, nanosecond pcap and pcapng all reach us in one unit.
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap == nullptr) {
    *error = StripPathPrefix(errbuf, path);
    return nullptr;
  }
  return std::shared_ptr<CaptureCore>(new CaptureCore(pcap, false));
}

std::shared_ptr<CaptureCore> CaptureCore::OpenLive(const LiveConfig& config,
                                                   std::string* error,
                                                   std::string* warning) {
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* pcap = pcap_create(config.device.c_str(), errbuf);
  if (pcap == nullptr) {
    *error = errbuf;
    return nullptr;
  }

  // The setters only fail on an already activated handle, which this one is not. Immediate
  // mode stays off: the kernel fills whole TPACKET_V3 blocks and wakes us once per block.
  pcap_set_snaplen(pcap, config.snaplen);
  pcap_set_promisc(pcap, config.promiscuous ? 1 : 0);
  pcap_set_buffer_size(pcap, config.bufferBytes);
  pcap_set_timeout(pcap, config.timeoutMs);
  // PCAP_ERROR_TSTAMP_PRECISION_NOTSUP is not fatal: we read the granted precision after
  // activation and scale microseconds to nanoseconds.
  pcap_set_tstamp_precision(pcap, PCAP_TSTAMP_PRECISION_NANO);

  const int status = pcap_activate(pcap);
  if (status < 0) {
    *error = ActivateMessage(pcap, status);
    pcap_close(pcap);
    return nullptr;
  }
  if (status > 0) *warning = ActivateMessage(pcap, status);

  std::shared_ptr<CaptureCore> core(new CaptureCore(pcap, true));
  if (!core->InitLive(config.timeoutMs, error)) return nullptr;
  return core;
}

bool CaptureCore::InitLive(int timeoutMs, std::string* error) {
  timeoutMs_ = timeoutMs;
  if (pcap_get_tstamp_precision(pcap_) != PCAP_TSTAMP_PRECISION_NANO) {
    nsecPerTick_ = kNsecPerUsec;
  }

  // The read timeout alone cannot bound a read: with TPACKET_V3 the kernel's block timer
  // does not fire while the ring is empty, so a blocking read on a quiet link never
  // returns. We read non-blocking and sleep in our own poll() with a deadline instead.
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  if (pcap_setnonblock(pcap_, 1, errbuf) != 0) {
    *error = errbuf;
    return false;
  }
  selectableFd_ = pcap_get_selectable_fd(pcap_);

  int fds[2];
  if (pipe(fds) != 0) {
    *error = std::string("cannot create wake-up pipe: ") + std::strerror(errno);
    return false;
  }
  wakeRead_ = fds[0];
  wakeWrite_ = fds[1];
  for (int fd : fds) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return true;
}

bool CaptureCore::SetFilter(const std::string& expression, std::string* error) {
  std::lock_guard<std::mutex> guard(mutex_);
  bpf_program program;
  // Optimiser on; the netmask only matters for "ip broadcast", which then fails to compile
  // with libpcap's own message rather than matching the wrong address.
  if (pcap_compile(pcap_, &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    *error = pcap_geterr(pcap_);
    return false;
  }
  const bool installed = pcap_setfilter(pcap_, &program) == 0;
  if (!installed) {
    *error = pcap_geterr(pcap_);
  } else if (hasPending_ &&
             pcap_offline_filter(&program, &pendingHeader_, pendingData_) == 0) {
    // The held packet passed the old filter; libpcap re-filters what is already buffered,
    // so do the same and do not deliver a packet the new filter rejects.
    hasPending_ = false;
  }
  pcap_freecode(&program);
  return installed;
}

bool CaptureCore::Stats(CaptureCounters* out, std::string* error) {
  if (!live_) return false;
  std::lock_guard<std::mutex> guard(mutex_);
  pcap_stat stat{};
  if (pcap_stats(pcap_, &stat) != 0) {
    *error = pcap_geterr(pcap_);
    return false;
  }
  out->received = stat.ps_recv;
  out->dropped = stat.ps_drop;
  out->ifDropped = stat.ps_ifdrop;
  return true;
}

void CaptureCore::RequestBreak() {
  breakRequested_.store(true, std::memory_order_release);
  if (wakeWrite_ >= 0) {
    const char byte = 1;
    // A full pipe already holds a wake-up, so EAGAIN is fine to ignore.
    ssize_t ignored = write(wakeWrite_, &byte, 1);
    (void)ignored;
  }
}

void CaptureCore::DrainWakePipe() {
  if (wakeRead_ < 0) return;
  char sink[64];
  while (read(wakeRead_, sink, sizeof sink) > 0) {
  }
}

int CaptureCore::NextPacket(const pcap_pkthdr** header, const u_char** data) {
  if (hasPending_) {
    *header = &pendingHeader_;
    *data = pendingData_;
    return 1;
  }
  pcap_pkthdr* next_header = nullptr;
  const u_char* next_data = nullptr;
  const int status = pcap_next_ex(pcap_, &next_header, &next_data);
  *header = next_header;
  *data = next_data;
  return status;
}

bool CaptureCore::HoldPending(const pcap_pkthdr* header, const u_char* data) {
  if (header->caplen > pendingCapacity_) {
    void* grown = std::realloc(pendingData_, header->caplen);
    if (grown == nullptr) return false;
    pendingData_ = static_cast<u_char*>(grown);
    pendingCapacity_ = header->caplen;
  }
  std::memcpy(pendingData_, data, header->caplen);
  pendingHeader_ = *header;
  hasPending_ = true;
  return true;
}

// Writes one record, or returns false when it does not fit in what is left of the batch.
// A packet bigger than the whole (empty) batch would never fit: it is cut to the largest
// aligned caplen that does, origlen keeps the wire length, and truncated_ counts it.
bool CaptureCore::Append(uint8_t* buffer, size_t capacity, BatchOutcome* out,
                         const pcap_pkthdr* header, const u_char* data) {
  uint32_t caplen = header->caplen;
  size_t size = RecordBytes(caplen);
  if (size > capacity - out->bytes) {
    if (out->bytes != 0) {
      if (data != pendingData_ && !HoldPending(header, data)) {
        deferredError_ = "out of memory holding a packet for the next batch";
      }
      return false;
    }
    caplen = static_cast<uint32_t>((capacity - kRecordHeaderBytes) & ~(kRecordAlign - 1));
    size = RecordBytes(caplen);
    truncated_.fetch_add(1, std::memory_order_relaxed);
  }

  uint8_t* record = buffer + out->bytes;
  PutLe32(record, caplen);
  PutLe32(record + 4, header->len);
  // u32 seconds, as batch-format.ts says: good until 2106.
  PutLe32(record + 8, static_cast<uint32_t>(header->ts.tv_sec));
  PutLe32(record + 12, static_cast<uint32_t>(header->ts.tv_usec) * nsecPerTick_);
  std::memcpy(record + kRecordHeaderBytes, data, caplen);
  const size_t used = kRecordHeaderBytes + caplen;
  std::memset(record + used, 0, size - used);

  out->bytes += size;
  out->packets += 1;
  hasPending_ = false;
  return true;
}

// Sleeps until the capture fd is readable, a break is requested, or the deadline passes.
// Returns false once the deadline has passed.
bool CaptureCore::WaitForPackets(std::unique_lock<std::mutex>* lock, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;

  pollfd fds[2] = {{wakeRead_, POLLIN, 0}, {selectableFd_, POLLIN, 0}};
  // Without a selectable fd (not on Linux) nap in short steps and retry the read.
  const nfds_t count = selectableFd_ >= 0 ? 2 : 1;
  const int waitMs = selectableFd_ >= 0 ? static_cast<int>(left.count())
                                        : static_cast<int>(std::min<long long>(left.count(), 10));
  lock->unlock();
  const int ready = poll(fds, count, waitMs);
  lock->lock();
  if (ready > 0 && (fds[0].revents & POLLIN)) DrainWakePipe();
  return true;
}

BatchOutcome CaptureCore::FillBatch(uint8_t* buffer, size_t capacity, uint32_t maxPackets) {
  BatchOutcome out;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!deferredError_.empty()) {
    out.failed = true;
    out.error.swap(deferredError_);
    return out;
  }
  if (eof_) {
    out.eof = true;
    return out;
  }

  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeoutMs_);
  while (out.packets < maxPackets) {
    if (breakRequested_.exchange(false, std::memory_order_acq_rel)) break;

    const pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int status = NextPacket(&header, &data);
    if (status == 1) {
      if (!Append(buffer, capacity, &out, header, data)) break;
      continue;
    }
    if (status == PCAP_ERROR_BREAK) {
      // Only a savefile ends this way: we never call pcap_breakloop on a live handle.
      eof_ = !live_;
      out.eof = eof_;
      break;
    }
    if (status < 0) {
      // Hand over the packets already copied; the error surfaces on the next call.
      std::string text = pcap_geterr(pcap_);
      if (out.packets > 0) {
        deferredError_ = text.empty() ? "read failed" : text;
      } else {
        out.failed = true;
        out.error = text.empty() ? "read failed" : text;
      }
      break;
    }
    // status 0: a live ring with no finished block. Deliver what we have, else wait.
    if (out.packets > 0 || !WaitForPackets(&lock, deadline)) break;
  }
  return out;
}

}  // namespace tunnelhound
