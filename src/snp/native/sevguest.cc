// The SEV-SNP guest ioctls as a Node-API addon: open/close the device and ask it for a report
// through /dev/sev-guest (SNP_GET_REPORT, SNP_GET_EXT_REPORT) or the Azure 5.15 /dev/sev
// (SEV_SNP_GUEST_MSG_REPORT). The request structs hold user-space pointers, which JavaScript
// cannot produce, so they are built here. Every call runs on the libuv pool (an ioctl that
// reaches the PSP takes milliseconds and must not stall the event loop) and resolves with the
// raw outcome — rc, errno, firmware and VMM error, MSG_REPORT_RSP status — for the TypeScript
// layer to judge; nothing is thrown for a device failure.
#include <napi.h>

#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

// The kernel ABI is fixed; a header that disagrees would make every request garbage.
static_assert(SNP_GET_REPORT == 0xC0205300UL, "SNP_GET_REPORT ioctl number");
static_assert(SNP_GET_EXT_REPORT == 0xC0205302UL, "SNP_GET_EXT_REPORT ioctl number");
static_assert(sizeof(snp_guest_request_ioctl) == 32, "snp_guest_request_ioctl size");
static_assert(offsetof(snp_guest_request_ioctl, req_data) == 0x08, "req_data offset");
static_assert(offsetof(snp_guest_request_ioctl, resp_data) == 0x10, "resp_data offset");
static_assert(offsetof(snp_guest_request_ioctl, exitinfo2) == 0x18, "exitinfo2 offset");
static_assert(sizeof(snp_report_req) == 96, "snp_report_req size");
static_assert(offsetof(snp_report_req, vmpl) == 0x40, "snp_report_req.vmpl offset");
static_assert(sizeof(snp_report_resp) == 4000, "snp_report_resp size");
static_assert(offsetof(snp_ext_report_req, certs_address) == 0x60, "certs_address offset");
static_assert(offsetof(snp_ext_report_req, certs_len) == 0x68, "certs_len offset");

// The pre-upstream 5.15 driver (Azure Container Instances) is absent from the uapi headers;
// its request layout is declared here and pinned by the asserts below.
struct LegacyGuestRequest {
  uint8_t req_msg_type;
  uint8_t rsp_msg_type;
  uint8_t msg_version;
  uint16_t request_len;
  uint64_t request_uaddr;
  uint16_t response_len;
  uint64_t response_uaddr;
  uint32_t error;
};
static_assert(sizeof(LegacyGuestRequest) == 40, "legacy request size");
static_assert(offsetof(LegacyGuestRequest, msg_version) == 2, "legacy msg_version offset");
static_assert(offsetof(LegacyGuestRequest, request_len) == 4, "legacy request_len offset");
static_assert(offsetof(LegacyGuestRequest, request_uaddr) == 8, "legacy request_uaddr offset");
static_assert(offsetof(LegacyGuestRequest, response_len) == 16, "legacy response_len offset");
static_assert(offsetof(LegacyGuestRequest, response_uaddr) == 24, "legacy response_uaddr offset");
static_assert(offsetof(LegacyGuestRequest, error) == 32, "legacy error offset");

constexpr unsigned long kLegacyMsgReport = _IOWR('S', 0x1, LegacyGuestRequest);
static_assert(kLegacyMsgReport == 0xC0285301UL, "SEV_SNP_GUEST_MSG_REPORT ioctl number");

constexpr uint8_t kMsgReportReq = 5;
constexpr uint8_t kMsgReportRsp = 6;
constexpr uint8_t kMsgVersion = 1;
constexpr size_t kUserDataSize = sizeof(snp_report_req::user_data);
static_assert(kUserDataSize == 64, "REPORT_DATA size");

// MSG_REPORT_RSP: u32 status, u32 report_size, 24 reserved bytes, then the report.
constexpr size_t kReportOffset = 0x20;
constexpr size_t kReportSize = 0x4A0;
// The legacy driver's response buffer, as the Azure sidecar sizes it: header, report, padding.
constexpr size_t kLegacyResponseLen = 1280;
static_assert(kReportOffset + kReportSize <= kLegacyResponseLen, "legacy response holds a report");
static_assert(kReportOffset + kReportSize <= sizeof(snp_report_resp), "response holds a report");

constexpr size_t kPage = 4096;
// Mainline caps the certificate blob at 16 KiB and some patch sets at 20 KiB; a host asking for
// more than this is broken or hostile, and the caller gets its answer instead of an allocation.
constexpr uint32_t kMaxCertsLen = 64 * 1024;

uint32_t ReadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

int IoctlRetrying(int fd, unsigned long request, void* arg, int* err) {
  int rc;
  do {
    rc = ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  *err = rc == -1 ? errno : 0;
  return rc;
}

// A worker whose outcome always resolves its promise; subclasses fill the result object.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env, "sevguest"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Fill(Napi::Env env, Napi::Object result) = 0;

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    Fill(env, result);
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string path) : PromiseWorker(env), path_(std::move(path)) {}

  void Execute() override {
    do {
      fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    } while (fd_ == -1 && errno == EINTR);
    errno_ = fd_ == -1 ? errno : 0;
  }

 protected:
  void Fill(Napi::Env env, Napi::Object result) override {
    result.Set("fd", Napi::Number::New(env, fd_));
    result.Set("errno", Napi::Number::New(env, errno_));
  }

 private:
  std::string path_;
  int fd_ = -1;
  int errno_ = 0;
};

class CloseWorker : public PromiseWorker {
 public:
  CloseWorker(Napi::Env env, int fd) : PromiseWorker(env), fd_(fd) {}

  // Not retried on EINTR: Linux releases the descriptor before close() can be interrupted.
  void Execute() override {
    rc_ = close(fd_);
    errno_ = rc_ == -1 ? errno : 0;
  }

 protected:
  void Fill(Napi::Env env, Napi::Object result) override {
    result.Set("rc", Napi::Number::New(env, rc_));
    result.Set("errno", Napi::Number::New(env, errno_));
  }

 private:
  int fd_;
  int rc_ = 0;
  int errno_ = 0;
};

// What every report request brings back; the report is copied out only when the call and the
// firmware both succeeded, so JavaScript never sees a half-written buffer.
class ReportWorker : public PromiseWorker {
 public:
  ReportWorker(Napi::Env env, int fd, const uint8_t* user_data, uint32_t vmpl) : PromiseWorker(env), fd_(fd) {
    std::memcpy(request_.user_data, user_data, kUserDataSize);
    request_.vmpl = vmpl;
  }

 protected:
  void Fill(Napi::Env env, Napi::Object result) override {
    const uint8_t* resp = response_.data();
    const uint32_t status = ReadU32(resp);
    result.Set("rc", Napi::Number::New(env, rc_));
    result.Set("errno", Napi::Number::New(env, errno_));
    result.Set("fwError", Napi::Number::New(env, fw_error_));
    result.Set("vmmError", Napi::Number::New(env, vmm_error_));
    result.Set("status", Napi::Number::New(env, status));
    result.Set("reportSize", Napi::Number::New(env, ReadU32(resp + 4)));
    if (rc_ == 0 && status == 0) result.Set("report", Napi::Buffer<uint8_t>::Copy(env, resp + kReportOffset, kReportSize));
  }

  int fd_;
  snp_report_req request_{};
  std::vector<uint8_t> response_ = std::vector<uint8_t>(sizeof(snp_report_resp));
  int rc_ = 0;
  int errno_ = 0;
  uint32_t fw_error_ = 0;
  uint32_t vmm_error_ = 0;
};

class GetReportWorker : public ReportWorker {
 public:
  using ReportWorker::ReportWorker;

  void Execute() override {
    snp_guest_request_ioctl io{};
    io.msg_version = kMsgVersion;
    io.req_data = reinterpret_cast<uintptr_t>(&request_);
    io.resp_data = reinterpret_cast<uintptr_t>(response_.data());
    rc_ = IoctlRetrying(fd_, SNP_GET_REPORT, &io, &errno_);
    fw_error_ = io.fw_error;
    vmm_error_ = io.vmm_error;
  }
};

class GetExtReportWorker : public ReportWorker {
 public:
  GetExtReportWorker(Napi::Env env, int fd, const uint8_t* user_data, uint32_t vmpl, uint32_t certs_len)
      : ReportWorker(env, fd, user_data, vmpl), certs_(certs_len) {}

  void Execute() override {
    Call();
    // The host rewrote certs_len to the size its table needs: one retry with that many pages.
    if (rc_ == -1 && vmm_error_ == SNP_GUEST_VMM_ERR_INVALID_LEN) {
      const uint64_t needed = (uint64_t{needed_len_} + kPage - 1) / kPage * kPage;
      if (needed > certs_.size() && needed <= kMaxCertsLen) {
        certs_.assign(needed, 0);
        std::fill(response_.begin(), response_.end(), 0);
        Call();
      }
    }
  }

 protected:
  void Fill(Napi::Env env, Napi::Object result) override {
    ReportWorker::Fill(env, result);
    result.Set("certsLen", Napi::Number::New(env, needed_len_));
    if (rc_ == 0) result.Set("certs", Napi::Buffer<uint8_t>::Copy(env, certs_.data(), certs_.size()));
  }

 private:
  void Call() {
    snp_ext_report_req ext{};
    ext.data = request_;
    ext.certs_address = reinterpret_cast<uintptr_t>(certs_.data());
    ext.certs_len = static_cast<uint32_t>(certs_.size());
    snp_guest_request_ioctl io{};
    io.msg_version = kMsgVersion;
    io.req_data = reinterpret_cast<uintptr_t>(&ext);
    io.resp_data = reinterpret_cast<uintptr_t>(response_.data());
    rc_ = IoctlRetrying(fd_, SNP_GET_EXT_REPORT, &io, &errno_);
    fw_error_ = io.fw_error;
    vmm_error_ = io.vmm_error;
    needed_len_ = ext.certs_len;
  }

  std::vector<uint8_t> certs_;
  uint32_t needed_len_ = 0;
};

class GetLegacyReportWorker : public ReportWorker {
 public:
  using ReportWorker::ReportWorker;

  // The 5.15 driver reports only a firmware error; there is no VMM error to carry.
  void Execute() override {
    LegacyGuestRequest io{};
    io.req_msg_type = kMsgReportReq;
    io.rsp_msg_type = kMsgReportRsp;
    io.msg_version = kMsgVersion;
    io.request_len = sizeof(request_);
    io.request_uaddr = reinterpret_cast<uintptr_t>(&request_);
    io.response_len = kLegacyResponseLen;
    io.response_uaddr = reinterpret_cast<uintptr_t>(response_.data());
    rc_ = IoctlRetrying(fd_, kLegacyMsgReport, &io, &errno_);
    fw_error_ = io.error;
  }
};

Napi::Value Fail(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool IsFd(const Napi::Value& v) { return v.IsNumber() && v.As<Napi::Number>().Int32Value() >= 0; }

bool IsUint32(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= UINT32_MAX && d == static_cast<double>(static_cast<uint32_t>(d));
}

const uint8_t* UserData(const Napi::Value& v) {
  if (!v.IsTypedArray()) return nullptr;
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array || array.ElementLength() != kUserDataSize) return nullptr;
  Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
  return bytes.Data();
}

template <typename Worker, typename... Args>
Napi::Value Queue(Napi::Env env, Args&&... args) {
  auto* worker = new Worker(env, std::forward<Args>(args)...);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsString()) return Fail(info.Env(), "open(path: string)");
  return Queue<OpenWorker>(info.Env(), info[0].As<Napi::String>().Utf8Value());
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !IsFd(info[0])) return Fail(info.Env(), "close(fd: number)");
  return Queue<CloseWorker>(info.Env(), info[0].As<Napi::Number>().Int32Value());
}

Napi::Value GetReport(const Napi::CallbackInfo& info) {
  const uint8_t* user_data = info.Length() == 3 ? UserData(info[1]) : nullptr;
  if (!user_data || !IsFd(info[0]) || !IsUint32(info[2])) return Fail(info.Env(), "getReport(fd, userData: 64-byte Uint8Array, vmpl: u32)");
  return Queue<GetReportWorker>(info.Env(), info[0].As<Napi::Number>().Int32Value(), user_data, info[2].As<Napi::Number>().Uint32Value());
}

Napi::Value GetExtReport(const Napi::CallbackInfo& info) {
  const uint8_t* user_data = info.Length() == 4 ? UserData(info[1]) : nullptr;
  if (!user_data || !IsFd(info[0]) || !IsUint32(info[2]) || !IsUint32(info[3]) || info[3].As<Napi::Number>().Uint32Value() > kMaxCertsLen) {
    return Fail(info.Env(), "getExtReport(fd, userData: 64-byte Uint8Array, vmpl: u32, certsLen: u32 <= 64 KiB)");
  }
  return Queue<GetExtReportWorker>(info.Env(), info[0].As<Napi::Number>().Int32Value(), user_data, info[2].As<Napi::Number>().Uint32Value(),
                                   info[3].As<Napi::Number>().Uint32Value());
}

Napi::Value GetLegacyReport(const Napi::CallbackInfo& info) {
  const uint8_t* user_data = info.Length() == 3 ? UserData(info[1]) : nullptr;
  if (!user_data || !IsFd(info[0]) || !IsUint32(info[2])) return Fail(info.Env(), "getLegacyReport(fd, userData: 64-byte Uint8Array, vmpl: u32)");
  return Queue<GetLegacyReportWorker>(info.Env(), info[0].As<Napi::Number>().Int32Value(), user_data, info[2].As<Napi::Number>().Uint32Value());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("getReport", Napi::Function::New(env, GetReport, "getReport"));
  exports.Set("getExtReport", Napi::Function::New(env, GetExtReport, "getExtReport"));
  exports.Set("getLegacyReport", Napi::Function::New(env, GetLegacyReport, "getLegacyReport"));
  exports.Set("maxCertsLen", Napi::Number::New(env, kMaxCertsLen));
  return exports;
}

}  // namespace

NODE_API_MODULE(sevguest, Init)
