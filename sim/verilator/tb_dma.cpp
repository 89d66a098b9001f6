// Verilator bench for the stand-alone dma: sim/dma_bench.py writes the case (descriptors,
// memories, silent slots, timing, gap pattern) and reads the trace back. The per-edge machine
// is sim/dma_bench.py's Driver, line for line, so the trace equals the MyHDL run's.
//
//   Vtransfers +case=FILE +out=FILE
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <verilated.h>

#include "Vtransfers.h"
#include "tier_memory.h"

namespace {

const uint64_t kResetCycles = 4;  // RESET_CYCLES in sim/replay.py
const char* kChannels[3] = {"FETCH", "EVICT", "PREFETCH"};
const char* kTiers[3] = {"hot", "warm", "cold"};

struct Descriptor {
  uint64_t entry, source, dest, words;
};

struct Sampled {  // the dma's outputs and the inputs that were driven, before an edge
  uint64_t ready[3], done[3], done_entry[3], done_tier[3], done_words[3], done_timeout[3], events[3];
  uint64_t data_valid, data, data_last;
  uint64_t wr_valid[3], wr_addr[3], wr_data[3], wr_tag[3], rd_valid[3], rd_addr[3], rd_tag[3];
  uint64_t valid_in[3], data_ready_in, wr_ready_in[3], rd_ready_in[3];
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tb_dma: %s\n", why.c_str());
  std::exit(2);
}

void sample(const Vtransfers* t, Sampled& s) {
  s.ready[0] = t->fetch_ready_o, s.ready[1] = t->evict_ready_o, s.ready[2] = t->prefetch_ready_o;
  s.done[0] = t->fetch_done_o, s.done[1] = t->evict_done_o, s.done[2] = t->prefetch_done_o;
  s.done_entry[0] = t->fetch_done_entry_o, s.done_entry[1] = t->evict_done_entry_o;
  s.done_entry[2] = t->prefetch_done_entry_o;
  s.done_tier[0] = t->fetch_done_tier_o, s.done_tier[1] = t->evict_done_tier_o;
  s.done_tier[2] = t->prefetch_done_tier_o;
  s.done_words[0] = t->fetch_done_words_o, s.done_words[1] = t->evict_done_words_o;
  s.done_words[2] = t->prefetch_done_words_o;
  s.done_timeout[0] = t->fetch_done_timeout_o, s.done_timeout[1] = t->evict_done_timeout_o;
  s.done_timeout[2] = t->prefetch_done_timeout_o;
  s.events[0] = t->fetch_events_o, s.events[1] = t->evict_events_o, s.events[2] = t->prefetch_events_o;
  s.data_valid = t->fetch_data_valid_o, s.data = t->fetch_data_o, s.data_last = t->fetch_data_last_o;
  s.wr_valid[0] = t->hot_wr_valid_o, s.wr_valid[1] = t->warm_wr_valid_o, s.wr_valid[2] = t->cold_wr_valid_o;
  s.wr_addr[0] = t->hot_wr_addr_o, s.wr_addr[1] = t->warm_wr_addr_o, s.wr_addr[2] = t->cold_wr_addr_o;
  s.wr_data[0] = t->hot_wr_data_o, s.wr_data[1] = t->warm_wr_data_o, s.wr_data[2] = t->cold_wr_data_o;
  s.rd_valid[0] = t->hot_rd_valid_o, s.rd_valid[1] = t->warm_rd_valid_o, s.rd_valid[2] = t->cold_rd_valid_o;
  s.rd_addr[0] = t->hot_rd_addr_o, s.rd_addr[1] = t->warm_rd_addr_o, s.rd_addr[2] = t->cold_rd_addr_o;
  s.wr_tag[0] = t->hot_wr_tag_o, s.wr_tag[1] = t->warm_wr_tag_o, s.wr_tag[2] = t->cold_wr_tag_o;
  s.rd_tag[0] = t->hot_rd_tag_o, s.rd_tag[1] = t->warm_rd_tag_o, s.rd_tag[2] = t->cold_rd_tag_o;
  s.valid_in[0] = t->fetch_valid_i, s.valid_in[1] = t->evict_valid_i, s.valid_in[2] = t->prefetch_valid_i;
  s.data_ready_in = t->fetch_data_ready_i;
  s.wr_ready_in[0] = t->hot_wr_ready_i, s.wr_ready_in[1] = t->warm_wr_ready_i;
  s.wr_ready_in[2] = t->cold_wr_ready_i;
  s.rd_ready_in[0] = t->hot_rd_ready_i, s.rd_ready_in[1] = t->warm_rd_ready_i;
  s.rd_ready_in[2] = t->cold_rd_ready_i;
}

class Driver {
 public:
  TierMemory<uint64_t> mem[3];
  std::vector<Descriptor> queues[3];
  std::vector<uint64_t> pattern;
  uint64_t watchdog = 0, max_cycles = 0, cycles = 0;
  bool finished = false, failed = false;

  void edge(const Sampled& s, Vtransfers* t, FILE* out) {
    uint64_t n = cycles++;
    t->rst_ni = n >= kResetCycles - 1;
    t->watchdog_i = watchdog;
    if (n < kResetCycles) return;
    for (int c = 0; c < 3; ++c) {
      if (s.valid_in[c] && s.ready[c]) ++next_[c];
      if (s.done[c]) {
        std::fprintf(out, "%" PRIu64 " %s done %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", n, kChannels[c],
                     s.done_entry[c], s.done_tier[c], s.done_words[c], s.done_timeout[c]);
        ++completed_;
      }
      if (s.events[c]) std::fprintf(out, "%" PRIu64 " %s events %" PRIx64 "\n", n, kChannels[c], s.events[c]);
    }
    if (s.data_valid && s.data_ready_in)
      std::fprintf(out, "%" PRIu64 " fetch word %" PRIx64 " %" PRIu64 "\n", n, s.data, s.data_last);
    for (int m = 0; m < 3; ++m) {
      bool wr = s.wr_valid[m] && s.wr_ready_in[m];
      bool rd = s.rd_valid[m] && s.rd_ready_in[m];
      if (wr) std::fprintf(out, "%" PRIu64 " %s write %" PRIx64 " %" PRIx64 "\n", n, kTiers[m], s.wr_addr[m], s.wr_data[m]);
      if (rd) std::fprintf(out, "%" PRIu64 " %s read %" PRIx64 "\n", n, kTiers[m], s.rd_addr[m]);
      mem[m].accept(n, wr, s.wr_addr[m], s.wr_data[m], s.wr_tag[m], rd, s.rd_addr[m], s.rd_tag[m]);
    }
    size_t total = queues[0].size() + queues[1].size() + queues[2].size();
    if (completed_ == total) {
      finished = true;
    } else if (n >= max_cycles) {
      failed = finished = true;
    }
    uint64_t bits = pattern[n % pattern.size()];
    for (int c = 0; c < 3; ++c) {
      const std::vector<Descriptor>& q = queues[c];
      size_t i = next_[c];
      Descriptor d = q.empty() ? Descriptor{0, 0, 0, 0} : q[i < q.size() ? i : q.size() - 1];
      uint64_t valid = i < q.size() && (bits >> c & 1);
      if (c == 0) {
        t->fetch_valid_i = valid, t->fetch_entry_i = d.entry, t->fetch_src_i = d.source, t->fetch_words_i = d.words;
      } else if (c == 1) {
        t->evict_valid_i = valid, t->evict_entry_i = d.entry, t->evict_src_i = d.source;
        t->evict_dst_i = d.dest, t->evict_words_i = d.words;
      } else {
        t->prefetch_valid_i = valid, t->prefetch_entry_i = d.entry, t->prefetch_src_i = d.source;
        t->prefetch_dst_i = d.dest, t->prefetch_words_i = d.words;
      }
    }
    t->fetch_data_ready_i = bits >> 3 & 1;
    uint64_t wr_ready, rd_ready, rsp_valid, rsp_tag, rsp_data, ack, ack_tag;
    mem[0].drive(n, wr_ready, rd_ready, rsp_valid, rsp_tag, rsp_data, ack, ack_tag);
    t->hot_wr_ready_i = wr_ready, t->hot_rd_ready_i = rd_ready, t->hot_rsp_valid_i = rsp_valid;
    t->hot_rsp_tag_i = rsp_tag, t->hot_rsp_data_i = rsp_data, t->hot_wr_ack_i = ack, t->hot_wr_ack_tag_i = ack_tag;
    mem[1].drive(n, wr_ready, rd_ready, rsp_valid, rsp_tag, rsp_data, ack, ack_tag);
    t->warm_wr_ready_i = wr_ready, t->warm_rd_ready_i = rd_ready, t->warm_rsp_valid_i = rsp_valid;
    t->warm_rsp_tag_i = rsp_tag, t->warm_rsp_data_i = rsp_data, t->warm_wr_ack_i = ack, t->warm_wr_ack_tag_i = ack_tag;
    mem[2].drive(n, wr_ready, rd_ready, rsp_valid, rsp_tag, rsp_data, ack, ack_tag);
    t->cold_wr_ready_i = wr_ready, t->cold_rd_ready_i = rd_ready, t->cold_rsp_valid_i = rsp_valid;
    t->cold_rsp_tag_i = rsp_tag, t->cold_rsp_data_i = rsp_data, t->cold_wr_ack_i = ack, t->cold_wr_ack_tag_i = ack_tag;
  }

 private:
  size_t next_[3] = {0, 0, 0}, completed_ = 0;
};

// The case file, one item a line: timing TIER LATENCY INTERVAL, slot_shift S, watchdog N,
// max_cycles N, silent TIER ENTRY, mem TIER ADDR WORD (hex), desc CHANNEL ENTRY SRC DST WORDS,
// pattern BITS (one line a cycle).
void read_case(const std::string& path, Driver& drv) {
  std::ifstream in(path);
  if (!in) fail("cannot open case " + path);
  std::string raw;
  int no = 0;
  while (std::getline(in, raw)) {
    ++no;
    std::istringstream w(raw);
    std::string kind;
    if (!(w >> kind)) continue;
    uint64_t a = 0, b = 0, c = 0, d = 0, e = 0;
    bool ok = true;
    if (kind == "timing") {
      ok = static_cast<bool>(w >> a >> b >> c) && a < 3;
      if (ok) drv.mem[a].latency = b, drv.mem[a].interval = c;
    } else if (kind == "slot_shift") {
      ok = static_cast<bool>(w >> a);
      for (TierMemory<uint64_t>& m : drv.mem) m.slot_shift = a;
    } else if (kind == "watchdog") {
      ok = static_cast<bool>(w >> drv.watchdog);
    } else if (kind == "max_cycles") {
      ok = static_cast<bool>(w >> drv.max_cycles);
    } else if (kind == "silent") {
      ok = static_cast<bool>(w >> a >> b) && a < 3;
      if (ok) drv.mem[a].silent.insert(b);
    } else if (kind == "mem") {
      ok = static_cast<bool>(w >> a >> std::hex >> b >> c) && a < 3;
      if (ok) drv.mem[a].words[b] = c;
    } else if (kind == "desc") {
      ok = static_cast<bool>(w >> a >> b >> c >> d >> e) && a < 3;
      if (ok) drv.queues[a].push_back({b, c, d, e});
    } else if (kind == "pattern") {
      ok = static_cast<bool>(w >> a);
      drv.pattern.push_back(a);
    } else {
      ok = false;
    }
    if (!ok) fail(path + ":" + std::to_string(no) + ": cannot read '" + raw + "'");
  }
  if (drv.pattern.empty()) fail(path + ": no pattern lines");
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  const char* arg = ctx->commandArgsPlusMatch("case=");
  std::string case_path = *arg ? std::string(arg).substr(6) : "";
  arg = ctx->commandArgsPlusMatch("out=");
  std::string out_path = *arg ? std::string(arg).substr(5) : "";
  if (case_path.empty() || out_path.empty()) fail("usage: Vtransfers +case=FILE +out=FILE");
  Driver drv;
  read_case(case_path, drv);
  FILE* out = std::fopen(out_path.c_str(), "w");
  if (!out) fail("cannot write " + out_path);
  auto top = std::make_unique<Vtransfers>(ctx.get());
  top->clk_i = 0;
  top->rst_ni = 0;
  top->eval();
  Sampled s{};
  while (!drv.finished) {
    sample(top.get(), s);
    top->clk_i = 1;
    top->eval();
    drv.edge(s, top.get(), out);
    top->clk_i = 0;
    top->eval();
  }
  std::fprintf(out, "end %" PRIu64 " %d\n", drv.cycles, drv.failed ? 1 : 0);
  for (int m = 0; m < 3; ++m) {
    std::map<uint64_t, uint64_t> sorted(drv.mem[m].words.begin(), drv.mem[m].words.end());
    for (const auto& kv : sorted) std::fprintf(out, "mem %d %" PRIx64 " %" PRIx64 "\n", m, kv.first, kv.second);
  }
  std::fclose(out);
  top->final();
  return 0;
}
