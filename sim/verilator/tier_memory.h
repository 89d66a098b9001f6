// A tier's memory as the Verilator benches attach it: TierMemory in sim/replay.py, line for
// line. Words read as zero until written; each direction accepts one word per `interval`
// cycles; each read is answered, and each write acknowledged, `latency` cycles after its
// request was accepted, in order. A silent slot (2^slot_shift words) takes its requests and
// never answers: nothing written, nothing read, nothing acknowledged.
#ifndef KV1_TIER_MEMORY_H
#define KV1_TIER_MEMORY_H

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <utility>

class TierMemory {
 public:
  uint64_t latency = 1, interval = 1, slot_shift = 0;
  std::unordered_set<uint64_t> silent;
  std::unordered_map<uint64_t, uint64_t> words;

  void accept(uint64_t n, bool write, uint64_t waddr, uint64_t wdata, bool read, uint64_t raddr) {
    if (write) {
      if (!silent.count(waddr >> slot_shift)) {
        words[waddr] = wdata;
        acks_.push_back(n + latency - 1);
      }
      write_free_ = n + interval;
    }
    if (read) {
      if (!silent.count(raddr >> slot_shift)) {
        auto it = words.find(raddr);
        responses_.emplace_back(n + latency - 1, it == words.end() ? 0 : it->second);
      }
      read_free_ = n + interval;
    }
  }
  // the cycle after edge n: write ready, read ready, response valid and word, write acknowledge
  void drive(uint64_t n, uint64_t& wr_ready, uint64_t& rd_ready, uint64_t& rsp_valid, uint64_t& rsp_data,
             uint64_t& ack) {
    rsp_valid = rsp_data = ack = 0;
    if (!responses_.empty() && responses_.front().first == n) {
      rsp_valid = 1;
      rsp_data = responses_.front().second;
      responses_.pop_front();
    }
    if (!acks_.empty() && acks_.front() == n) {
      ack = 1;
      acks_.pop_front();
    }
    wr_ready = n + 1 >= write_free_;
    rd_ready = n + 1 >= read_free_;
  }

 private:
  std::deque<std::pair<uint64_t, uint64_t>> responses_;  // (edge to drive it after, word)
  std::deque<uint64_t> acks_;                             // edges to drive an acknowledge after
  uint64_t write_free_ = 0, read_free_ = 0;               // first edge each direction accepts again
};

#endif  // KV1_TIER_MEMORY_H
