// A tier's memory as the Verilator benches attach it: TierMemory in sim/replay.py, line for
// line. Words read as zero until written; each direction accepts one word per `interval`
// cycles; each read is answered, and each write acknowledged, `latency` cycles after its
// request was accepted, in order, with the request's tag. A silent slot (2^slot_shift words) takes its requests and
// never answers: nothing written, nothing read, nothing acknowledged.
#ifndef KV1_TIER_MEMORY_H
#define KV1_TIER_MEMORY_H

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>

// Word: the type of a port word (uint64_t, or a wide one with == and a zero default)
template <class Word>
class TierMemory {
 public:
  uint64_t latency = 1, interval = 1, slot_shift = 0;
  std::unordered_set<uint64_t> silent;
  std::unordered_map<uint64_t, Word> words;

  void accept(uint64_t n, bool write, uint64_t waddr, const Word& wdata, uint64_t wtag, bool read, uint64_t raddr,
              uint64_t rtag) {
    if (write) {
      if (!silent.count(waddr >> slot_shift)) {
        words[waddr] = wdata;
        acks_.push_back({n + latency - 1, Word{}, wtag});
      }
      write_free_ = n + interval;
    }
    if (read) {
      if (!silent.count(raddr >> slot_shift)) {
        auto it = words.find(raddr);
        responses_.push_back({n + latency - 1, it == words.end() ? Word{} : it->second, rtag});
      }
      read_free_ = n + interval;
    }
  }
  // the cycle after edge n: write ready, read ready, response valid, tag and word, write
  // acknowledge and its tag
  void drive(uint64_t n, uint64_t& wr_ready, uint64_t& rd_ready, uint64_t& rsp_valid, uint64_t& rsp_tag,
             Word& rsp_data, uint64_t& ack, uint64_t& ack_tag) {
    rsp_valid = rsp_tag = ack = ack_tag = 0;
    rsp_data = Word{};
    if (!responses_.empty() && responses_.front().edge == n) {
      rsp_valid = 1;
      rsp_data = responses_.front().word;
      rsp_tag = responses_.front().tag;
      responses_.pop_front();
    }
    if (!acks_.empty() && acks_.front().edge == n) {
      ack = 1;
      ack_tag = acks_.front().tag;
      acks_.pop_front();
    }
    wr_ready = n + 1 >= write_free_;
    rd_ready = n + 1 >= read_free_;
  }

 private:
  struct Answer {
    uint64_t edge;  // the edge to drive it after
    Word word;      // the word (reads)
    uint64_t tag;   // the request's tag
  };
  std::deque<Answer> responses_, acks_;
  uint64_t write_free_ = 0, read_free_ = 0;               // first edge each direction accepts again
};

#endif  // KV1_TIER_MEMORY_H
