// Verilator bench for the KV-1 die: replays a workload file (golden/workload/format.py) and
// exits non-zero on the first mismatch. The per-edge state machine mirrors
// sim/replay.py line for line, so its log is identical to the MyHDL and Icarus runs.
//
//   Vkv1_die +workload=FILE [+log=FILE] [+trace=FILE.fst] [+max_cycles=N] [+quiet]
//
// The workload is read and checked once, by the project's one reader (golden/workload/format.py):
// this bench runs `python -m sim.replay` on it, which writes the checked operation stream this
// bench replays, or refuses the file with its one-line message (after "tb_kv1_die: ") and exit
// code 2. A log that cannot be written ends the run the same way. Beats and tier words are as wide
// as the set's ports (Bits below; Verilator's wide words beyond 64 bits).
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <verilated.h>
#if VM_TRACE
#include <verilated_fst_c.h>
#endif

#include "Vkv1_die.h"
#include "kv1_regs.h"
#include "kv1_set.h"
#include "tier_memory.h"

namespace {

// the replay's constants, generated from sim/replay.py into kv1_set.h
const uint64_t kResetCycles = KV1_RESET_CYCLES;
const uint64_t kOpTimeout = KV1_OP_TIMEOUT;
const uint64_t kMaxCycles = KV1_MAX_CYCLES;
const uint64_t kEndDrainLimit = KV1_END_DRAIN_LIMIT;
const char* kChecked = KV1_CHECKED;
// the die's tier ports (DIE_TIERS in golden/workload/format.py), each with a memory behind it
#define KV1_TIER_PORTS(X) X(0, hot) X(1, warm) X(2, cold)
#define KV1_TIER_NAME(i, t) #t,
const char* const kTiers[] = {KV1_TIER_PORTS(KV1_TIER_NAME)};
#undef KV1_TIER_NAME
constexpr size_t kNumTiers = sizeof kTiers / sizeof kTiers[0];

// A value of a port BITS wide, in 32-bit words, least significant first (Verilator's order).
template <size_t BITS>
struct Bits {
  static constexpr size_t kWords = (BITS + 31) / 32;
  std::array<uint32_t, kWords> w{};
  bool operator==(const Bits& o) const { return w == o.w; }
  bool operator!=(const Bits& o) const { return w != o.w; }
  std::string hex() const {  // as Python's f"{v:x}": no leading zeros
    std::string out;
    char buf[9];
    for (size_t i = kWords; i-- > 0;) {
      std::snprintf(buf, sizeof buf, out.empty() ? "%x" : "%08x", w[i]);
      if (!out.empty() || w[i] || i == 0) out += buf;
    }
    return out;
  }
  static Bits from_hex(const std::string& digits) {  // checked by sim/replay.py: fits, hex only
    Bits b;
    size_t bit = 0;
    for (size_t i = digits.size(); i-- > 0; bit += 4) {
      const char c = digits[i];
      const uint32_t v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      b.w[bit / 32] |= v << (bit % 32);
    }
    return b;
  }
};
using BeatBits = Bits<KV1_BEAT_BITS>;
using TierWord = Bits<KV1_TIER_BITS>;
// to and from Verilator's port types: up to 32 bits, 64 bits, wide (VlWide)
template <size_t B>
void put(IData& port, const Bits<B>& v) { port = v.w[0]; }
template <size_t B>
void put(QData& port, const Bits<B>& v) { port = (B > 32 ? static_cast<uint64_t>(v.w[B > 32 ? 1 : 0]) << 32 : 0) | v.w[0]; }
template <size_t B, size_t W>
void put(VlWide<W>& port, const Bits<B>& v) { for (size_t i = 0; i < W; ++i) port[i] = v.w[i]; }
template <size_t B>
Bits<B> get(IData port) { Bits<B> v; v.w[0] = port; return v; }
template <size_t B>
Bits<B> get(QData port) {
  Bits<B> v;
  v.w[0] = static_cast<uint32_t>(port);
  if (B > 32) v.w[B > 32 ? 1 : 0] = static_cast<uint32_t>(port >> 32);
  return v;
}
template <size_t B, size_t W>
Bits<B> get(const VlWide<W>& port) { Bits<B> v; for (size_t i = 0; i < W; ++i) v.w[i] = port[i]; return v; }

using Tiers = std::array<TierMemory<TierWord>, kNumTiers>;

struct Op {
  char kind;
  std::vector<uint64_t> a;   // the fields; S and E: last and delay (the beat is `beat`)
  int line;
  BeatBits beat = {};
};

struct Beat {
  BeatBits data;
  uint64_t last, delay, wait;
  uint64_t domain = 0;  // s_axis_tuser: the requester domain of the U line before the S line (E beats: none)
};

struct Drive {
  uint64_t rst_ni = 0, awvalid = 0, awaddr = 0, awuser = 0, wvalid = 0, wdata = 0, wstrb = 0, bready = 0;
  uint64_t arvalid = 0, araddr = 0, aruser = 0, rready = 0, s_tvalid = 0, s_tlast = 0, s_tuser = 0, m_tready = 0;
  BeatBits s_tdata = {};
  // per tier port, in kTiers order
  uint64_t wr_ready[kNumTiers] = {0}, rd_ready[kNumTiers] = {0}, rsp_valid[kNumTiers] = {0};
  uint64_t rsp_tag[kNumTiers] = {0}, wr_ack[kNumTiers] = {0}, ack_tag[kNumTiers] = {0};
  TierWord rsp_data[kNumTiers] = {};
};

struct Sample {
  uint64_t awready, wready, bvalid, bresp, arready, rvalid, rdata, rresp, s_tready;
  uint64_t m_tvalid, m_tlast, irq;
  BeatBits m_tdata;
  uint64_t wr_valid[kNumTiers], wr_addr[kNumTiers], wr_tag[kNumTiers];
  uint64_t rd_valid[kNumTiers], rd_addr[kNumTiers], rd_tag[kNumTiers];
  TierWord wr_data[kNumTiers];
};

[[noreturn]] void die_usage(const std::string& msg) {
  std::fprintf(stderr, "tb_kv1_die: %s\n", msg.c_str());
  std::exit(2);
}

// The checked operation stream of `path`: sim/replay.py reads and checks the workload (the one
// reader) and writes the stream into a temporary file; a refusal is its message and exit code 2.
std::vector<Op> checked(const std::string& path, std::string& set_name, Tiers& tiers) {
  char tmp[] = "/tmp/kv1-checked-XXXXXX";
  const int fd = mkstemp(tmp);
  if (fd < 0) die_usage(std::string("cannot make a temporary file: ") + std::strerror(errno));
  close(fd);
  const std::string root = KV1_ROOT, prog = KV1_PYTHON;
  const char* old = std::getenv("PYTHONPATH");
  setenv("PYTHONPATH", (root + (old && *old ? ":" + std::string(old) : "")).c_str(), 1);
  std::vector<std::string> args = {prog, "-m", "sim.replay", "--prog", "tb_kv1_die", "--model-set", KV1_SET,
                                   "--out", tmp, path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  pid_t pid;
  int status = 0;
  if (posix_spawn(&pid, prog.c_str(), nullptr, nullptr, argv.data(), environ) != 0 || waitpid(pid, &status, 0) < 0) {
    unlink(tmp);
    die_usage("cannot run " + prog + " to read the workload: " + std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    unlink(tmp);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) std::exit(2);  // refused: the message is out
    die_usage(prog + " -m sim.replay failed on " + path);
  }
  std::ifstream in(tmp);
  unlink(tmp);
  std::string line, word;
  if (!std::getline(in, line) || line != kChecked) die_usage("sim.replay wrote no checked stream for " + path);
  std::vector<Op> ops;
  while (std::getline(in, line)) {
    word = line.substr(0, line.find(' '));
    std::istringstream words(word == "set" || word == "tier" || word == "silent" ? line.substr(word.size()) : "");
    if (word == "set") {
      words >> set_name;
    } else if (word == "tier") {
      size_t t;
      words >> t >> std::hex >> tiers[t].latency >> tiers[t].interval;
    } else if (word == "silent") {
      size_t t;
      uint64_t addr;
      words >> t >> std::hex >> addr;
      tiers[t].silent.insert(addr);
    } else if (word == "end") {
      return ops;
    } else {
      // an operation's hex words, parsed without a stream per line (streams cost ~4% of the main job)
      Op op{word[0], {}, 0};
      const char* p = line.c_str() + word.size();
      char* end;
      op.line = std::strtoull(p, &end, 16);
      p = end;
      if (op.kind == 'S' || op.kind == 'E') {
        while (*p == ' ') ++p;
        const char* q = p;
        while (*q && *q != ' ') ++q;
        op.beat = BeatBits::from_hex(std::string(p, q));
        p = q;
      }
      for (uint64_t v = std::strtoull(p, &end, 16); end != p; v = std::strtoull(p, &end, 16)) {
        op.a.push_back(v);
        p = end;
      }
      ops.push_back(std::move(op));
    }
  }
  die_usage("the checked stream of " + path + " is cut short");
}

class Replayer {
 public:
  Replayer(std::vector<Op> ops, const Tiers& tiers, uint64_t max_cycles)
      : ops_(std::move(ops)), tiers_(tiers), max_cycles_(max_cycles) {}
  Drive d;
  bool keep_log = false;
  std::vector<std::string> log;
  std::string error;
  bool done = false;
  uint64_t cycle = 0;
  size_t pc = 0;
  // last value read at each perf counter offset: the main job's report
  uint64_t perf_read[KV1_BAR0_SIZE / 4] = {0};
  bool perf_seen[KV1_BAR0_SIZE / 4] = {false};

  void edge(const Sample& s) {
    const uint64_t n = cycle;
    if (n >= max_cycles_) return fail(fmt("the replay reached its limit of %" PRIu64 " cycles", max_cycles_));
    if (n < kResetCycles) {
      d.rst_ni = (n == kResetCycles - 1);
      ++cycle;
      return;
    }
    const bool aw = d.awvalid && s.awready, w = d.wvalid && s.wready, b = s.bvalid && d.bready;
    const bool ar = d.arvalid && s.arready, r = s.rvalid && d.rready;
    const bool si = d.s_tvalid && s.s_tready, mo = s.m_tvalid && d.m_tready;

    if (si) {
      emit("%" PRIu64 " in %" PRIu64, n, beats_in_++);
      in_q_.pop_front();
    } else if (!in_q_.empty()) {
      in_q_.front().wait++;
    }
    if (mo) {
      Beat exp = out_q_.front();
      out_q_.pop_front();
      emit("%" PRIu64 " out %" PRIu64 " %s %" PRIu64, n, beats_out_++, s.m_tdata.hex().c_str(), s.m_tlast);
      if (s.m_tdata != exp.data || s.m_tlast != exp.last)
        return fail(fmt("m_axis beat %" PRIu64 ": got %s/%" PRIu64 ", expected %s/%" PRIu64, beats_out_ - 1,
                        s.m_tdata.hex().c_str(), s.m_tlast, exp.data.hex().c_str(), exp.last));
    } else if (!out_q_.empty()) {
      out_q_.front().wait++;
    }
    for (size_t t = 0; t < kNumTiers; ++t)
      tiers_[t].accept(n, s.wr_valid[t] && d.wr_ready[t], s.wr_addr[t], s.wr_data[t], s.wr_tag[t],
                       s.rd_valid[t] && d.rd_ready[t], s.rd_addr[t], s.rd_tag[t]);

    if (op_) {
      step(s, aw, w, b, ar, r);
      if (!error.empty()) return;
    }
    while (!op_ && pc < ops_.size()) {
      const Op& op = ops_[pc++];
      if (op.kind == 'S') {
        in_q_.push_back(Beat{op.beat, op.a[0], op.a[1], 0, domain_});
      } else if (op.kind == 'E') {
        out_q_.push_back(Beat{op.beat, op.a[0], op.a[1], 0});
      } else if (op.kind == 'F') {
        tiers_[op.a[0]].silent.insert(op.a[1]);
      } else if (op.kind == 'U') {
        domain_ = op.a[0];
      } else {
        op_ = &op;
        k_ = 0;
        a_done_ = w_done_ = false;
        reads_ = 0;
      }
    }
    if (!op_ && pc >= ops_.size()) {
      if (s.m_tvalid && out_q_.empty()) return fail("m_axis offers a beat that no E line expects");
      if (in_q_.empty() && out_q_.empty()) {
        emit("%" PRIu64 " end %zu", n, ops_.size());
        done = true;
      } else if (drain_ == kEndDrainLimit) {
        return fail(fmt("the workload ended, and in %" PRIu64 " cycles %zu expected m_axis beats did not come and "
                        "%zu s_axis beats were not taken", kEndDrainLimit, out_q_.size(), in_q_.size()));
      } else {
        ++drain_;
      }
    }
    drive();
    ++cycle;
  }

 private:
  std::vector<Op> ops_;
  const Op* op_ = nullptr;
  uint64_t k_ = 0, reads_ = 0, beats_in_ = 0, beats_out_ = 0;
  uint64_t domain_ = 0;  // the requester domain W, R and P lines carry (U lines)
  uint64_t max_cycles_, drain_ = 0;  // the replay's cycle limit; cycles waited for the streams at the end
  bool a_done_ = false, w_done_ = false;
  std::deque<Beat> in_q_, out_q_;
  Tiers tiers_;

  template <typename... Args>
  static std::string fmt(const char* f, Args... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
  }
  template <typename... Args>
  void emit(const char* f, Args... args) {  // formatted only when a log was asked for (+log)
    if (keep_log) log.push_back(fmt(f, args...));
  }
  void fail(const std::string& msg) {
    error = "cycle " + std::to_string(cycle) + ": " + (op_ ? "line " + std::to_string(op_->line) + ": " : "") + msg;
    done = true;
  }
  void complete(uint64_t a = 0, uint64_t b = 0) {
    emit("%" PRIu64 " op %zu %c %" PRIx64 " %" PRIx64, cycle, pc - 1, op_->kind, a, b);
    op_ = nullptr;
  }

  void step(const Sample& s, bool aw, bool w, bool b, bool ar, bool r) {
    const std::vector<uint64_t>& a = op_->a;
    switch (op_->kind) {
      case 'W':
        a_done_ |= aw;
        w_done_ |= w;
        if (b) {
          if (!(a_done_ && w_done_)) return fail("write response before address and data were accepted");
          if (s.bresp != a[3])
            return fail(fmt("write %" PRIx64 ": bresp %" PRIu64 ", expected %" PRIu64, a[0], s.bresp, a[3]));
          return complete(s.bresp);
        }
        if (k_ >= kOpTimeout) return fail(fmt("write %" PRIx64 ": no response", a[0]));
        break;
      case 'R':
        a_done_ |= ar;
        if (r) {
          if ((s.rdata & a[2]) != a[1] || s.rresp != a[3])
            return fail(fmt("read %" PRIx64 ": got %" PRIx64 "/resp %" PRIu64 ", expected %" PRIx64
                            " (mask %" PRIx64 ")/resp %" PRIu64, a[0], s.rdata, s.rresp, a[1], a[2], a[3]));
          if (a[0] / 4 < KV1_BAR0_SIZE / 4) {
            perf_read[a[0] / 4] = s.rdata;
            perf_seen[a[0] / 4] = true;
          }
          return complete(s.rdata, s.rresp);
        }
        if (k_ >= kOpTimeout) return fail(fmt("read %" PRIx64 ": no response", a[0]));
        break;
      case 'P':
        a_done_ |= ar;
        if (r) {
          ++reads_;
          if (s.rresp == 0 && (s.rdata & a[2]) == a[1]) return complete(s.rdata, reads_);
          if (reads_ >= a[3])
            return fail(fmt("poll %" PRIx64 ": %" PRIu64 " reads, last %" PRIx64 ", waiting for %" PRIx64,
                            a[0], reads_, s.rdata, a[1]));
          a_done_ = false;
          k_ = 0;
          return;
        }
        if (k_ >= kOpTimeout) return fail(fmt("poll %" PRIx64 ": no response", a[0]));
        break;
      case 'Q':
        if (in_q_.empty() && out_q_.empty()) return complete();
        if (k_ >= a[0])
          return fail(fmt("streams did not drain: %zu beats unsent, %zu expected beats missing",
                          in_q_.size(), out_q_.size()));
        break;
      case 'I':
        if (s.irq != a[0]) return fail(fmt("irq_o is %" PRIu64 ", expected %" PRIu64, s.irq, a[0]));
        return complete(s.irq);
      case 'C':
        if (k_ + 1 >= a[0]) return complete();
        break;
    }
    ++k_;
  }

  void drive() {
    // zero what is driven below only sometimes (the tier ports are driven every cycle): cheaper
    // than a fresh Drive, at the main job's every cycle
    d.awvalid = d.awaddr = d.awuser = d.wvalid = d.wdata = d.wstrb = d.bready = 0;
    d.arvalid = d.araddr = d.aruser = d.rready = 0;
    d.s_tvalid = d.s_tlast = d.s_tuser = d.m_tready = 0;
    d.s_tdata = BeatBits{};
    if (op_) {
      const std::vector<uint64_t>& a = op_->a;
      if (op_->kind == 'W') {
        d.awvalid = !a_done_ && k_ >= a[4];
        d.awaddr = a[0];
        d.awuser = domain_;
        d.wvalid = !w_done_ && k_ >= a[5];
        d.wdata = a[1];
        d.wstrb = a[2];
        d.bready = k_ >= a[6];
      } else if (op_->kind == 'R') {
        d.arvalid = !a_done_ && k_ >= a[4];
        d.araddr = a[0];
        d.aruser = domain_;
        d.rready = k_ >= a[5];
      } else if (op_->kind == 'P') {
        d.arvalid = !a_done_;
        d.araddr = a[0];
        d.aruser = domain_;
        d.rready = 1;
      }
    }
    if (!in_q_.empty()) {
      const Beat& h = in_q_.front();
      d.s_tvalid = h.wait >= h.delay;
      d.s_tdata = h.data;
      d.s_tlast = h.last;
      d.s_tuser = h.domain;
    }
    if (!out_q_.empty()) {
      const Beat& h = out_q_.front();
      d.m_tready = h.wait >= h.delay;
    }
    for (size_t t = 0; t < kNumTiers; ++t)
      tiers_[t].drive(cycle, d.wr_ready[t], d.rd_ready[t], d.rsp_valid[t], d.rsp_tag[t], d.rsp_data[t], d.wr_ack[t],
                      d.ack_tag[t]);
  }
};

void apply(Vkv1_die* top, const Drive& d) {
  top->rst_ni = d.rst_ni;
  top->s_axil_awvalid = d.awvalid;
  top->s_axil_awaddr = d.awaddr;
  top->s_axil_awuser = d.awuser;
  top->s_axil_wvalid = d.wvalid;
  top->s_axil_wdata = d.wdata;
  top->s_axil_wstrb = d.wstrb;
  top->s_axil_bready = d.bready;
  top->s_axil_arvalid = d.arvalid;
  top->s_axil_aruser = d.aruser;
  top->s_axil_araddr = d.araddr;
  top->s_axil_rready = d.rready;
  top->s_axis_tvalid = d.s_tvalid;
  put(top->s_axis_tdata, d.s_tdata);
  top->s_axis_tlast = d.s_tlast;
  top->s_axis_tuser = d.s_tuser;
  top->m_axis_tready = d.m_tready;
  // each tier port
#define KV1_DRIVE_TIER(i, t)                  \
  top->t##_wr_ready_i = d.wr_ready[i];        \
  top->t##_rd_ready_i = d.rd_ready[i];        \
  top->t##_rsp_valid_i = d.rsp_valid[i];      \
  top->t##_rsp_tag_i = d.rsp_tag[i];          \
  put(top->t##_rsp_data_i, d.rsp_data[i]);    \
  top->t##_wr_ack_i = d.wr_ack[i];            \
  top->t##_wr_ack_tag_i = d.ack_tag[i];
  KV1_TIER_PORTS(KV1_DRIVE_TIER)
#undef KV1_DRIVE_TIER
}

// The die's outputs before the edge, into `s`: a payload only while its valid is up, as the
// replayer reads it only then (a cycle's cost in the main job).
void sample(const Vkv1_die* top, Sample& s) {
  s.awready = top->s_axil_awready;
  s.wready = top->s_axil_wready;
  s.bvalid = top->s_axil_bvalid;
  s.bresp = top->s_axil_bresp;
  s.arready = top->s_axil_arready;
  s.rvalid = top->s_axil_rvalid;
  s.rdata = top->s_axil_rdata;
  s.rresp = top->s_axil_rresp;
  s.s_tready = top->s_axis_tready;
  s.irq = top->irq_o;
  s.m_tvalid = top->m_axis_tvalid;
  if (s.m_tvalid) {
    s.m_tlast = top->m_axis_tlast;
    s.m_tdata = get<KV1_BEAT_BITS>(top->m_axis_tdata);
  }
#define KV1_SAMPLE_TIER(i, t)                                \
  s.wr_valid[i] = top->t##_wr_valid_o;                       \
  if (s.wr_valid[i]) {                                       \
    s.wr_addr[i] = top->t##_wr_addr_o;                       \
    s.wr_data[i] = get<KV1_TIER_BITS>(top->t##_wr_data_o);   \
    s.wr_tag[i] = top->t##_wr_tag_o;                         \
  }                                                          \
  s.rd_valid[i] = top->t##_rd_valid_o;                       \
  if (s.rd_valid[i]) {                                       \
    s.rd_addr[i] = top->t##_rd_addr_o;                       \
    s.rd_tag[i] = top->t##_rd_tag_o;                         \
  }
  KV1_TIER_PORTS(KV1_SAMPLE_TIER)
#undef KV1_SAMPLE_TIER
}

// Prefetch accuracy and coverage (docs/data_plane.md) from the counters the workload read last.
void print_prefetch_ratios(const Replayer& rp) {
  const uint32_t used[] = {KV1_PERF_PREFETCH_HITS, KV1_PERF_PREFETCH_TRANSFERS, KV1_PERF_FETCH_WARM,
                           KV1_PERF_FETCH_COLD};
  for (uint32_t offset : used)
    if (!rp.perf_seen[offset / 4]) return;
  const uint64_t hits = rp.perf_read[KV1_PERF_PREFETCH_HITS / 4];
  const uint64_t prefetches = rp.perf_read[KV1_PERF_PREFETCH_TRANSFERS / 4];
  const uint64_t misses = rp.perf_read[KV1_PERF_FETCH_WARM / 4] + rp.perf_read[KV1_PERF_FETCH_COLD / 4];
  const auto ratio = [](uint64_t n, uint64_t d) { return d ? static_cast<double>(n) / d : 0.0; };
  std::printf("prefetch accuracy %.3f (%" PRIu64 " hits / %" PRIu64 " prefetches), coverage %.3f (%" PRIu64
              " hits / %" PRIu64 ": hits + warm and cold fetches)\n",
              ratio(hits, prefetches), hits, prefetches, ratio(hits, hits + misses), hits, hits + misses);
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  const char* arg = ctx->commandArgsPlusMatch("workload=");
  if (!*arg) die_usage("no workload: pass +workload=FILE");
  std::string workload = std::string(arg).substr(std::string("+workload=").size());
  std::string log_path, trace_path;
  if (*(arg = ctx->commandArgsPlusMatch("log="))) log_path = std::string(arg).substr(5);
  if (*(arg = ctx->commandArgsPlusMatch("trace="))) trace_path = std::string(arg).substr(7);
  uint64_t max_cycles = kMaxCycles;
  if (*(arg = ctx->commandArgsPlusMatch("max_cycles="))) {
    const std::string v = std::string(arg).substr(12);
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos || std::stoull(v) == 0)
      die_usage("+max_cycles takes a whole number of cycles, got '" + v + "'");
    max_cycles = std::stoull(v);
  }
  const bool quiet = *ctx->commandArgsPlusMatch("quiet");
  std::ofstream log_out;  // opened before the run: a log that cannot be written loses nothing
  if (!log_path.empty()) {
    log_out.open(log_path);
    if (!log_out) die_usage("cannot write log " + log_path + ": " + std::strerror(errno));
  }

  std::string set_name;
  Tiers tiers;
  std::vector<Op> ops = checked(workload, set_name, tiers);
  auto top = std::make_unique<Vkv1_die>(ctx.get());
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> tfp;
  if (!trace_path.empty()) {
    ctx->traceEverOn(true);
    tfp = std::make_unique<VerilatedFstC>();
    top->trace(tfp.get(), 99);
    tfp->open(trace_path.c_str());
  }
#else
  if (!trace_path.empty()) die_usage("+trace needs a model built with --trace-fst (make sim WAVES=1)");
#endif
  if (!quiet) {
    std::printf("tb_kv1_die: %zu operations from %s (set %s", ops.size(), workload.c_str(), set_name.c_str());
    for (size_t t = 0; t < kNumTiers; ++t)
      std::printf("; %s tier: latency %" PRIu64 ", interval %" PRIu64, kTiers[t], tiers[t].latency, tiers[t].interval);
    std::printf(")\n");
  }

  Replayer rp(std::move(ops), tiers, max_cycles);
  rp.keep_log = log_out.is_open();
  // waveform time in the model's precision units (the converted RTL's `timescale 1ns/10ps), a
  // half period of the set's clock per edge
  uint64_t precision_ps = 1;
  for (int p = ctx->timeprecision(); p > -12; --p) precision_ps *= 10;
  const uint64_t half_period = KV1_HALF_PERIOD_PS / precision_ps;
  uint64_t now = 0;
  const auto t0 = std::chrono::steady_clock::now();
  top->clk_i = 0;
  Sample s{};
  while (!rp.done) {
    apply(top.get(), rp.d);
    top->clk_i = 0;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(now);
#endif
    sample(top.get(), s);
    top->clk_i = 1;
    top->eval();
    now += half_period;
#if VM_TRACE
    if (tfp) tfp->dump(now);
#endif
    now += half_period;
    rp.edge(s);
    if (!quiet && rp.cycle % 2000000 == 0)
      std::fprintf(stderr, "  cycle %" PRIu64 ", operation %zu\n", rp.cycle, rp.pc);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#if VM_TRACE
  if (tfp) tfp->close();
#endif
  top->final();
  if (log_out.is_open()) {
    for (const auto& line : rp.log) log_out << line << '\n';
    log_out.close();
    if (!log_out) die_usage("cannot write log " + log_path + ": " + std::strerror(errno));
  }
  if (!rp.error.empty()) {
    std::printf("MISMATCH %s\n", rp.error.c_str());
    return 1;
  }
  if (!quiet) {
    std::printf("perf counters at the workload's last snapshot, read over BAR0:\n");
#define KV1_PRINT_COUNTER(name, offset)                                                  \
    if (rp.perf_seen[(offset) / 4])                                                      \
      std::printf("  %-18s %" PRIu64 "\n", #name, rp.perf_read[(offset) / 4]);
    KV1_PERF_EVENT_LIST(KV1_PRINT_COUNTER)
#undef KV1_PRINT_COUNTER
    print_prefetch_ratios(rp);
  }
  std::printf("PASS golden parity: %zu operations, %" PRIu64 " cycles, %.2f M cycles/s\n", rp.pc, rp.cycle,
              secs > 0 ? rp.cycle / secs / 1e6 : 0.0);
  return 0;
}
