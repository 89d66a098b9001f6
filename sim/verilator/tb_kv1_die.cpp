// Verilator bench for the KV-1 die: replays a workload file (golden/workload/format.py) and
// exits non-zero on the first mismatch. The per-edge state machine mirrors
// sim/replay.py line for line, so its log is identical to the MyHDL and Icarus runs.
//
//   Vkv1_die +workload=FILE [+log=FILE] [+trace=FILE.fst] [+max_cycles=N] [+quiet]
//
// A workload the parser refuses, or a log that cannot be written, ends the run at once with
// the one-line message sim/replay.py gives (after "tb_kv1_die: ") and exit code 2.
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

#include <verilated.h>
#if VM_TRACE
#include <verilated_fst_c.h>
#endif

#include "Vkv1_die.h"
#include "kv1_regs.h"
#include "kv1_set.h"
#include "tier_memory.h"

namespace {

const uint64_t kResetCycles = 4;  // RESET_CYCLES in sim/replay.py
const uint64_t kOpTimeout = 1000;  // OP_TIMEOUT
const uint64_t kMaxTierCycles = 1000000000;  // MAX_TIER_CYCLES
const uint64_t kMaxDelay = 65535;            // MAX_DELAY
const uint64_t kMaxWait = 1000000000;        // MAX_WAIT
const uint64_t kMaxCycles = 1000000000;      // MAX_CYCLES
const uint64_t kEndDrainLimit = 4096;        // END_DRAIN_LIMIT
const char* kMagic = "kv1-workload 1";
// the die's tier ports (DIE_TIERS in golden/workload/format.py), each with a memory behind it
#define KV1_TIER_PORTS(X) X(0, hot) X(1, warm) X(2, cold)
#define KV1_TIER_NAME(i, t) #t,
const char* const kTiers[] = {KV1_TIER_PORTS(KV1_TIER_NAME)};
#undef KV1_TIER_NAME
constexpr size_t kNumTiers = sizeof kTiers / sizeof kTiers[0];
using Tiers = std::array<TierMemory, kNumTiers>;

struct Op {
  char kind;
  std::vector<uint64_t> a;
  int line;
  std::vector<size_t> overflow = {};  // fields beyond 64 bits (always out of range)
};

std::string fmt_hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%" PRIx64, v);
  return buf;
}

struct Beat {
  uint64_t data, last, delay, wait;
};

struct Drive {
  uint64_t rst_ni = 0, awvalid = 0, awaddr = 0, wvalid = 0, wdata = 0, wstrb = 0, bready = 0;
  uint64_t arvalid = 0, araddr = 0, rready = 0, s_tvalid = 0, s_tdata = 0, s_tlast = 0, m_tready = 0;
  // per tier port, in kTiers order
  uint64_t wr_ready[kNumTiers] = {0}, rd_ready[kNumTiers] = {0}, rsp_valid[kNumTiers] = {0};
  uint64_t rsp_tag[kNumTiers] = {0}, rsp_data[kNumTiers] = {0}, wr_ack[kNumTiers] = {0}, ack_tag[kNumTiers] = {0};
};

struct Sample {
  uint64_t awready, wready, bvalid, bresp, arready, rvalid, rdata, rresp, s_tready;
  uint64_t m_tvalid, m_tdata, m_tlast, irq;
  uint64_t wr_valid[kNumTiers], wr_addr[kNumTiers], wr_data[kNumTiers], wr_tag[kNumTiers];
  uint64_t rd_valid[kNumTiers], rd_addr[kNumTiers], rd_tag[kNumTiers];
};

[[noreturn]] void die_usage(const std::string& msg) {
  std::fprintf(stderr, "tb_kv1_die: %s\n", msg.c_str());
  std::exit(2);
}

// CRC-32 (zlib's), the end line's checksum: a byte at a time through a table
uint32_t crc32(uint32_t crc, const char* bytes, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ static_cast<unsigned char>(bytes[i])) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// sim/replay.py: _NAMES and field_ranges, in the same order
struct FieldRange {
  const char* name;
  uint64_t lo, hi;
};
const std::vector<FieldRange>& field_ranges(char kind) {
  static const uint64_t word = 0xFFFFFFFFull, addr = (1ull << 12) - 1;  // golden/kv1_regs.py: DATA_WIDTH, ADDR_WIDTH
  static const uint64_t beat = KV1_BEAT_BITS >= 64 ? ~0ull : (1ull << KV1_BEAT_BITS) - 1;
  static const std::vector<FieldRange> w = {{"addr", 0, addr}, {"data", 0, word}, {"strb", 0, 15}, {"resp", 0, 3},
                                            {"aw_delay", 0, kMaxDelay}, {"w_delay", 0, kMaxDelay},
                                            {"b_delay", 0, kMaxDelay}};
  static const std::vector<FieldRange> r = {{"addr", 0, addr}, {"data", 0, word}, {"mask", 0, word}, {"resp", 0, 3},
                                            {"ar_delay", 0, kMaxDelay}, {"r_delay", 0, kMaxDelay}};
  static const std::vector<FieldRange> p = {{"addr", 0, addr}, {"data", 0, word}, {"mask", 0, word},
                                            {"max_reads", 1, kMaxWait}};
  static const std::vector<FieldRange> beats = {{"data", 0, beat}, {"last", 0, 1}, {"delay", 0, kMaxDelay}};
  static const std::vector<FieldRange> q = {{"max_cycles", 1, kMaxWait}}, i = {{"level", 0, 1}};
  static const std::vector<FieldRange> c = {{"cycles", 0, kMaxWait}};
  static const std::vector<FieldRange> f = {{"tier", 0, kNumTiers - 1}, {"addr", 0, 0xFFFFFFFFull}};
  switch (kind) {
    case 'W': return w;
    case 'R': return r;
    case 'P': return p;
    case 'S':
    case 'E': return beats;
    case 'Q': return q;
    case 'I': return i;
    case 'C': return c;
    default: return f;
  }
}

std::vector<Op> parse(const std::string& path, std::string& set_name, Tiers& tiers) {
  std::ifstream in(path);
  if (!in) die_usage("cannot read workload " + path + ": " + std::strerror(errno));
  std::vector<Op> ops;
  std::string raw;
  int no = 0, ended = 0;
  uint32_t crc = 0;  // of the bytes before the line at hand
  bool seen[kNumTiers] = {false};
  auto fail = [&](const std::string& why) { die_usage(path + ": line " + std::to_string(no) + ": " + why); };
  // the checks every header line naming a tier port shares (sim/replay.py: _header_tier)
  auto header_tier = [&](std::istringstream& words, const std::string& kind,
                         const std::vector<std::string>& usage) {
    std::vector<std::string> f;
    for (std::string w; words >> w;) f.push_back(w);
    if (f.size() != usage.size()) {
      std::string text = usage[0];
      for (size_t i = 1; i < usage.size(); ++i) text += (i + 1 == usage.size() ? " and " : ", ") + usage[i];
      fail("'" + kind + "' takes " + text);
    }
    size_t t = 0;
    while (t < kNumTiers && f[0] != kTiers[t]) ++t;
    if (t == kNumTiers) {
      std::string names = kTiers[0];
      for (size_t i = 1; i < kNumTiers; ++i) names += std::string(", ") + kTiers[i];
      fail("the die has no '" + f[0] + "' tier port (it has " + names + ")");
    }
    if (!ops.empty()) fail("'" + kind + "' lines come before the operations");
    return std::make_pair(f, t);
  };
  for (uint32_t line_crc = 0; std::getline(in, raw); line_crc = crc32(crc32(crc, raw.data(), raw.size()), "\n", 1)) {
    crc = line_crc;
    ++no;
    if (no == 1) {
      if (raw != kMagic) fail(std::string("expected '") + kMagic + "'");
      continue;
    }
    std::string text = raw.substr(0, raw.find('#'));
    std::istringstream words(text);
    std::string kind;
    if (!(words >> kind)) continue;
    if (ended) fail("nothing may follow the 'end' line (line " + std::to_string(ended) + ")");
    if (kind == "end") {  // the same checks as sim/replay.py: _end_line
      std::vector<std::string> f;
      for (std::string w; words >> w;) f.push_back(w);
      if (f.size() != 2 || f[0].empty() || f[0].size() > 18 || f[0].find_first_not_of("0123456789") != std::string::npos ||
          f[1].size() != 8 || f[1].find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        fail("'end' takes the operation count and an 8-digit hex checksum");
      if (std::stoull(f[0]) != ops.size())
        fail("'end' counts " + std::to_string(std::stoull(f[0])) + " operations, the file has " + std::to_string(ops.size()));
      char got[9];
      std::snprintf(got, sizeof got, "%08x", crc);
      if (std::stoul(f[1], nullptr, 16) != crc) fail(std::string("checksum ") + got + ", 'end' says " + f[1] + ": the file was changed");
      ended = no;
      continue;
    }
    if (kind == "set") {
      std::vector<std::string> f;
      for (std::string w; words >> w;) f.push_back(w);
      if (f.size() != 1) fail("'set' takes one name");
      if (!set_name.empty() || !ops.empty()) fail("one 'set' line, before the operations");
      bool known = false;
      for (const char* name : kSets) known |= f[0] == name;
      if (!known) fail("no parameter set '" + f[0] + "' (the sets are " + KV1_SET_NAMES + ")");
      if (f[0] != KV1_SET) fail("set " + f[0] + ": this model is built for set " + KV1_SET);
      set_name = f[0];
      continue;
    }
    if (kind == "tier") {  // the same checks as sim/replay.py, in the same order
      auto [f, t] = header_tier(words, kind, {"a name", "a latency", "an interval"});
      if (seen[t]) fail("tier " + f[0] + " given twice");
      auto cycles = [](const std::string& w) {
        return !w.empty() && w.size() <= 10 && w.find_first_not_of("0123456789") == std::string::npos &&
               std::stoull(w) >= 1 && std::stoull(w) <= kMaxTierCycles;
      };
      if (!cycles(f[1]) || !cycles(f[2])) fail("tier latency and interval are whole cycles, 1 to 1000000000");
      tiers[t].latency = std::stoull(f[1]);
      tiers[t].interval = std::stoull(f[2]);
      seen[t] = true;
      continue;
    }
    if (kind == "silent") {  // the same checks as sim/replay.py, in the same order
      auto [f, t] = header_tier(words, kind, {"a tier name", "a word address"});
      if (f[1].find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        fail("bad word address '" + f[1] + "'");
      if (f[1].find_first_not_of('0') != std::string::npos && f[1].size() - f[1].find_first_not_of('0') > 8)
        fail("word address " + f[1] + " beyond 32 bits");
      tiers[t].silent.insert(std::stoull(f[1], nullptr, 16));
      continue;
    }
    static const std::string kinds = "WRPSEQICF";
    static const int nfields[] = {7, 6, 4, 3, 3, 1, 1, 1, 2};
    static const int nhex[] = {3, 3, 3, 1, 1, 0, 0, 0, 2};
    size_t k = kind.size() == 1 ? kinds.find(kind[0]) : std::string::npos;
    if (k == std::string::npos) fail("unknown operation '" + kind + "'");
    if (set_name.empty()) fail("the 'set' line comes before the operations");
    Op op{kind[0], {}, no};
    op.a.reserve(nfields[k]);
    static std::vector<std::string> f;  // the line's fields (kept: no allocation per line)
    f.clear();
    for (std::string w; words >> w;) f.push_back(w);
    if (static_cast<int>(f.size()) != nfields[k])
      fail(kind + " takes " + std::to_string(nfields[k]) + " fields, got " + std::to_string(f.size()));
    for (const auto& w : f)
      if (w[0] == '-') fail("negative field");
    for (const auto& w : f) {
      const bool hex = static_cast<int>(op.a.size()) < nhex[k];
      // a number too big for 64 bits is out of range below, as in Python
      if (w.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") != std::string::npos)
        fail("bad number in '" + text.substr(text.find_first_not_of(" \t"), text.find_last_not_of(" \t\r") + 1 -
                                                 text.find_first_not_of(" \t")) + "'");
      errno = 0;
      uint64_t v = std::strtoull(w.c_str(), nullptr, hex ? 16 : 10);
      op.a.push_back(errno == ERANGE ? ~0ull : v);
      if (errno == ERANGE) op.overflow.push_back(op.a.size() - 1);
    }
    const std::vector<FieldRange>& ranges = field_ranges(op.kind);
    for (size_t i = 0; i < op.a.size(); ++i) {
      const bool hex = static_cast<int>(i) < nhex[k];
      const bool over = std::find(op.overflow.begin(), op.overflow.end(), i) != op.overflow.end();
      if (over || op.a[i] < ranges[i].lo || op.a[i] > ranges[i].hi) {
        auto show = [&](uint64_t v) { return hex ? fmt_hex(v) : std::to_string(v); };
        fail(kind + " " + ranges[i].name + " " + f[i] + " out of range (" + show(ranges[i].lo) + " to " +
             show(ranges[i].hi) + ")");
      }
    }
    ops.push_back(op);
  }
  if (set_name.empty()) die_usage(path + ": no 'set' line");
  if (!ended) die_usage(path + ": no 'end' line: the file is cut short");
  return ops;
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
      emit("%" PRIu64 " out %" PRIu64 " %" PRIx64 " %" PRIu64, n, beats_out_++, s.m_tdata, s.m_tlast);
      if (s.m_tdata != exp.data || s.m_tlast != exp.last)
        return fail(fmt("m_axis beat %" PRIu64 ": got %" PRIx64 "/%" PRIu64 ", expected %" PRIx64 "/%" PRIu64,
                        beats_out_ - 1, s.m_tdata, s.m_tlast, exp.data, exp.last));
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
        in_q_.push_back(Beat{op.a[0], op.a[1], op.a[2], 0});
      } else if (op.kind == 'E') {
        out_q_.push_back(Beat{op.a[0], op.a[1], op.a[2], 0});
      } else if (op.kind == 'F') {
        tiers_[op.a[0]].silent.insert(op.a[1]);
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
    d = Drive{d.rst_ni};
    if (op_) {
      const std::vector<uint64_t>& a = op_->a;
      if (op_->kind == 'W') {
        d.awvalid = !a_done_ && k_ >= a[4];
        d.awaddr = a[0];
        d.wvalid = !w_done_ && k_ >= a[5];
        d.wdata = a[1];
        d.wstrb = a[2];
        d.bready = k_ >= a[6];
      } else if (op_->kind == 'R') {
        d.arvalid = !a_done_ && k_ >= a[4];
        d.araddr = a[0];
        d.rready = k_ >= a[5];
      } else if (op_->kind == 'P') {
        d.arvalid = !a_done_;
        d.araddr = a[0];
        d.rready = 1;
      }
    }
    if (!in_q_.empty()) {
      const Beat& h = in_q_.front();
      d.s_tvalid = h.wait >= h.delay;
      d.s_tdata = h.data;
      d.s_tlast = h.last;
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
  top->s_axil_wvalid = d.wvalid;
  top->s_axil_wdata = d.wdata;
  top->s_axil_wstrb = d.wstrb;
  top->s_axil_bready = d.bready;
  top->s_axil_arvalid = d.arvalid;
  top->s_axil_araddr = d.araddr;
  top->s_axil_rready = d.rready;
  top->s_axis_tvalid = d.s_tvalid;
  top->s_axis_tdata = d.s_tdata;  // the sim set's 64-bit beat; wider sets need VlWide here
  top->s_axis_tlast = d.s_tlast;
  top->m_axis_tready = d.m_tready;
  // each tier port; the sim set's 64-bit word (8 codec lanes)
#define KV1_DRIVE_TIER(i, t)                  \
  top->t##_wr_ready_i = d.wr_ready[i];        \
  top->t##_rd_ready_i = d.rd_ready[i];        \
  top->t##_rsp_valid_i = d.rsp_valid[i];      \
  top->t##_rsp_tag_i = d.rsp_tag[i];          \
  top->t##_rsp_data_i = d.rsp_data[i];        \
  top->t##_wr_ack_i = d.wr_ack[i];            \
  top->t##_wr_ack_tag_i = d.ack_tag[i];
  KV1_TIER_PORTS(KV1_DRIVE_TIER)
#undef KV1_DRIVE_TIER
}

Sample sample(const Vkv1_die* top) {
  Sample s{top->s_axil_awready, top->s_axil_wready, top->s_axil_bvalid, top->s_axil_bresp,
           top->s_axil_arready, top->s_axil_rvalid, top->s_axil_rdata, top->s_axil_rresp,
           top->s_axis_tready, top->m_axis_tvalid, top->m_axis_tdata, top->m_axis_tlast,
           top->irq_o, {}, {}, {}, {}, {}, {}, {}};
#define KV1_SAMPLE_TIER(i, t)            \
  s.wr_valid[i] = top->t##_wr_valid_o;   \
  s.wr_addr[i] = top->t##_wr_addr_o;     \
  s.wr_data[i] = top->t##_wr_data_o;     \
  s.wr_tag[i] = top->t##_wr_tag_o;       \
  s.rd_valid[i] = top->t##_rd_valid_o;   \
  s.rd_addr[i] = top->t##_rd_addr_o;     \
  s.rd_tag[i] = top->t##_rd_tag_o;
  KV1_TIER_PORTS(KV1_SAMPLE_TIER)
#undef KV1_SAMPLE_TIER
  return s;
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
  std::vector<Op> ops = parse(workload, set_name, tiers);
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
  while (!rp.done) {
    apply(top.get(), rp.d);
    top->clk_i = 0;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(now);
#endif
    const Sample s = sample(top.get());
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
