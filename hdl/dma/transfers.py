"""transfers: the dma's fetch, evict and prefetch channels between the tier ports (golden/dma.py).

Each channel takes descriptors (entry, source tier, destination tier for a move, slot words, at
most 2^slot_shift) into its own queue and carries them out in order, one at a time. A transfer
starts when the ports it needs are free: the source tier's read side and, for a move, the
destination tier's write side. It holds them to its end (its answers are its own by their tags,
below); channels that need different ports run side by side. When two want one port in the same cycle, FETCH goes first, then
PREFETCH, then EVICT.

A channel reads the whole slot into its slot buffer, a block RAM (all reads issued as fast as the
port takes them: the buffer holds any number in flight). A move writes each word on as soon as
it arrives and completes once the destination has acknowledged every word; a fetch streams the words out
once the last has arrived, so a fetch that times out streams nothing. A completion pulses
*_done_o with the entry, the tier the block now lives in (the destination of a completed move,
else the source: the directory write the die makes from it), the words moved and TIMEOUT.

Events (events_o per channel, CHANNEL_EVENTS order, for the perf counters): a transfer
completed OK leaving the block in hot / warm / cold, a word delivered (streamed by a fetch,
acknowledged by the destination of a move), a TIMEOUT, and a cycle the channel holds a
descriptor without streaming it yet (for a fetch: the cycles its consumer waits).

Watchdog: a transfer that makes no progress (no read accepted, own answer received, write
accepted or acknowledged) for watchdog_i cycles completes with TIMEOUT and words 0; 0 disables it.
The limit is compared every cycle (quiet >= watchdog_i), so a new value applies to the transfer in
flight at once.

Tier ports (hot, warm, cold; one word = 8 x cq_lanes bits at word address entry << slot_shift
| offset): a write (valid/ready, address, data, tag) acknowledged by one wr_ack pulse per word,
with the write's tag; a read request (valid/ready, address, tag) answered by one rsp_valid word
per request, with its tag. Any latency. A transfer's tag is its channel's code (golden/dma.py:
CHANNEL_CODE) under a count of the channel's transfers; the channel takes only answers with its
tag, so an answer that comes after its transfer timed out is discarded, and counted (late_o: the
late answers of this cycle), never taken for a later transfer's. Acknowledges with KV_TAG are
the STORE channel's (hdl/dma/dma.py shares the hot write side with it), not the transfers'.
"""
from pathlib import Path

from myhdl import block, always_comb, always_seq, Signal, intbv, modbv, enum, concat

from golden.dma import TIERS, TAG_BITS, TAG_CHANNEL_BITS, KV_TAG, CHANNEL_CODE, FETCH, EVICT, PREFETCH
from golden.kvpath import slot_shift, tier_addr_bits
from hdl.common.fifo import fifo
from hdl.common.instance import port_signals, signal
from hdl.common.ram import ram
from hdl.common.unroll import one_hot

CHANNEL_EVENTS = ("HOT", "WARM", "COLD", "WORDS", "TIMEOUTS", "STALL_CYCLES")   # HOT..COLD = TIER codes
assert CHANNEL_EVENTS[:len(TIERS)] == tuple(t.upper() for t in TIERS), "a tier's event bit is its code"
EV_WORDS, EV_TIMEOUTS, EV_STALL = (CHANNEL_EVENTS.index(e) for e in ("WORDS", "TIMEOUTS", "STALL_CYCLES"))
WATCHDOG_BITS = 24                       # cold tier latency at the asic clock is ~1e5 cycles
LATE_BITS = 3                            # late answers in one cycle: a read answer and an acknowledge per tier


def entry_bits(params):
    return (params.dir_entries - 1).bit_length()


def words_bits(params):
    return slot_shift(params) + 1


@block
def _channel(params, is_move, code, clk_i, rst_ni, watchdog_i,
             q_valid_i, q_ready_o, q_entry_i, q_src_i, q_dst_i, q_words_i,
             want_o, src_o, dst_o, grant_i, hold_o, tag_o, rsp_take_o, ack_take_o,
             rd_valid_o, rd_ready_i, rd_addr_o, rsp_valid_i, rsp_tag_i, rsp_data_i,
             wr_valid_o, wr_ready_i, wr_addr_o, wr_data_o, ack_i, ack_tag_i,
             out_valid_o, out_ready_i, out_data_o, out_last_o,
             done_o, done_entry_o, done_tier_o, done_words_o, done_timeout_o, events_o):
    """One channel: descriptor queue, slot buffer, transfer state machine, watchdog, events. A
    fetch channel (is_move False) drives out_*; a move channel drives wr_* and counts ack_i. Its
    requests carry tag_o (`code` under the count of its finished transfers); it takes only the
    answers with that tag (rsp_take_o, ack_take_o)."""
    SS, NT = slot_shift(params), len(TIERS)
    EB, WB, DW = len(q_entry_i), len(q_words_i), len(rsp_data_i)
    State = enum("IDLE", "ASK", "RUN", "STREAM")
    state = Signal(State.IDLE)

    desc_bits = EB + 4 + WB
    q_in, q_out = Signal(intbv(0)[desc_bits:]), Signal(intbv(0)[desc_bits:])
    q_full, q_empty, q_pop = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    q_level = Signal(intbv(0)[params.policy_queue_depth.bit_length():])
    u_queue = fifo(clk_i, rst_ni, q_valid_i, q_in, q_full, q_pop, q_out, q_empty, q_level,
                   params.policy_queue_depth)

    entry = Signal(intbv(0)[EB:])
    src, dst = Signal(intbv(0)[2:]), Signal(intbv(0)[2:])
    words = Signal(intbv(0)[WB:])
    issued, arrived, sent, acked = (Signal(intbv(0)[WB:]) for _ in range(4))
    quiet = Signal(intbv(0)[WATCHDOG_BITS:])       # cycles without progress (saturates)
    count = Signal(intbv(0)[TAG_BITS - TAG_CHANNEL_BITS:])   # transfers finished: the tag's upper bits
    rsp_take, ack_take = Signal(bool(0)), Signal(bool(0))
    tag = Signal(intbv(0)[TAG_BITS:])
    channel_code = Signal(intbv(code)[TAG_CHANNEL_BITS:])   # constant: the tag's low bits

    # block RAM: the word at buf_raddr shows on buf_data a cycle later, so reads look one word
    # ahead (the next value of sent) and drain only words written an edge ago (arrived_d)
    buf_data, buf_raddr = Signal(intbv(0)[DW:]), Signal(modbv(0)[SS:])   # wraps: the look-ahead past the last word
    buf_we, buf_waddr = Signal(bool(0)), Signal(intbv(0)[SS:])
    arrived_d = Signal(intbv(0)[WB:])
    u_buf = ram(clk_i, buf_we, buf_waddr, rsp_data_i, buf_raddr, buf_data, 1 << SS, registered=True)

    rd_go, wr_go, out_go = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    streams = Signal(bool(not is_move))            # constant: a fetch streams, a move writes
    final_tier = Signal(intbv(0)[2:])              # where a completed transfer leaves the block
    final_tier_bit = Signal(intbv(0)[NT:])      # ... as its event bit (HOT..COLD lead CHANNEL_EVENTS)
    u_final_tier = one_hot(final_tier, final_tier_bit)

    @always_comb
    def queue_side():
        q_in.next = concat(q_entry_i, q_src_i, q_dst_i, q_words_i)
        q_ready_o.next = not q_full
        q_pop.next = state == State.IDLE and not q_empty

    @always_comb
    def tags():
        tag.next = concat(count, channel_code)

    @always_comb
    def answers():
        running = state == State.RUN
        rt = running and rsp_valid_i and rsp_tag_i == tag
        at = running and ack_i and ack_tag_i == tag
        rsp_take.next = rt
        ack_take.next = at
        rsp_take_o.next = rt
        ack_take_o.next = at
        tag_o.next = tag

    @always_comb
    def requests():
        running = state == State.RUN
        want_o.next = state == State.ASK and words != 0
        hold_o.next = running
        src_o.next = src
        dst_o.next = dst
        rd_valid_o.next = running and issued != words
        rd_go.next = running and issued != words and rd_ready_i
        rd_addr_o.next = concat(entry, issued[SS:])
        buf_we.next = rsp_take
        buf_waddr.next = arrived[SS:]
        if streams:
            final_tier.next = src
        else:
            final_tier.next = dst
        if wr_go or out_go:
            buf_raddr.next = sent[SS:] + 1
        else:
            buf_raddr.next = sent[SS:]

    if is_move:
        @always_comb
        def drain():
            wv = state == State.RUN and sent != arrived_d
            wr_valid_o.next = wv
            wr_go.next = wv and wr_ready_i
            wr_addr_o.next = concat(entry, sent[SS:])
            wr_data_o.next = buf_data
    else:
        @always_comb
        def drain():
            ov = state == State.STREAM and sent != arrived_d
            out_valid_o.next = ov
            out_go.next = ov and out_ready_i
            out_data_o.next = buf_data
            out_last_o.next = sent == words - 1

    @always_seq(clk_i.posedge, reset=rst_ni)
    def run():
        finish = False                           # the transfer completes now
        timed_out = False
        arrived_d.next = arrived
        if state == State.IDLE:
            if not q_empty:
                entry.next = q_out[desc_bits:4 + WB]
                src.next = q_out[4 + WB:2 + WB]
                dst.next = q_out[2 + WB:WB]
                words.next = q_out[WB:]
                state.next = State.ASK
        elif state == State.ASK:
            issued.next = 0
            arrived.next = 0
            arrived_d.next = 0
            sent.next = 0
            acked.next = 0
            quiet.next = 0
            if words == 0:                       # no image: nothing to move
                finish = True
            elif grant_i:
                state.next = State.RUN
        elif state == State.RUN:
            if rd_go:
                issued.next = issued + 1
            if rsp_take:
                arrived.next = arrived + 1
            if wr_go:
                sent.next = sent + 1
            if ack_take:
                acked.next = acked + 1
            if rd_go or rsp_take or wr_go or ack_take:
                quiet.next = 0
            elif quiet != (1 << WATCHDOG_BITS) - 1:
                quiet.next = quiet + 1
            if watchdog_i != 0 and quiet >= watchdog_i:
                finish = True
                timed_out = True
            elif ack_take and acked == words - 1:
                finish = True
            elif streams and rsp_take and arrived == words - 1:
                state.next = State.STREAM
        elif state == State.STREAM:
            if out_go:
                sent.next = sent + 1
                if sent == words - 1:
                    finish = True
        done_o.next = finish
        ev = intbv(0)[len(CHANNEL_EVENTS):]
        if finish and not timed_out:
            ev[NT:] = final_tier_bit
        if out_go or ack_take:
            ev[EV_WORDS] = 1
        ev[EV_TIMEOUTS] = timed_out
        if state == State.ASK or state == State.RUN or (state == State.IDLE and not q_empty):
            ev[EV_STALL] = 1
        events_o.next = ev
        if finish:
            done_entry_o.next = entry
            done_timeout_o.next = timed_out
            if timed_out:
                done_tier_o.next = src
                done_words_o.next = 0
            else:
                done_tier_o.next = final_tier
                done_words_o.next = words
            count.next = count + 1
            state.next = State.IDLE

    return u_queue, u_buf, u_final_tier, queue_side, tags, answers, requests, drain, run


@block
def _pick(sel_i, hot_i, warm_i, cold_i, out_o):
    """The signal of the tier sel_i names."""
    @always_comb
    def mux():
        if sel_i == 0:
            out_o.next = hot_i
        elif sel_i == 1:
            out_o.next = warm_i
        else:
            out_o.next = cold_i

    return mux


@block
def _to_tier(tier, f_hold_i, f_src_i, f_tag_i, f_rd_valid_i, f_rd_addr_i,
             e_hold_i, e_src_i, e_dst_i, e_tag_i, e_rd_valid_i, e_rd_addr_i, e_wr_valid_i, e_wr_addr_i, e_wr_data_i,
             p_hold_i, p_src_i, p_dst_i, p_tag_i, p_rd_valid_i, p_rd_addr_i, p_wr_valid_i, p_wr_addr_i, p_wr_data_i,
             rd_valid_o, rd_addr_o, rd_tag_o, wr_valid_o, wr_addr_o, wr_data_o, wr_tag_o):
    """Tier `tier`'s port: the requests of the channel that holds its read side and of the one
    that holds its write side (at most one each)."""
    @always_comb
    def reads():
        if f_hold_i and f_src_i == tier:
            rd_valid_o.next = f_rd_valid_i
            rd_addr_o.next = f_rd_addr_i
            rd_tag_o.next = f_tag_i
        elif e_hold_i and e_src_i == tier:
            rd_valid_o.next = e_rd_valid_i
            rd_addr_o.next = e_rd_addr_i
            rd_tag_o.next = e_tag_i
        elif p_hold_i and p_src_i == tier:
            rd_valid_o.next = p_rd_valid_i
            rd_addr_o.next = p_rd_addr_i
            rd_tag_o.next = p_tag_i
        else:
            rd_valid_o.next = False
            rd_addr_o.next = 0
            rd_tag_o.next = 0

    @always_comb
    def writes():
        if e_hold_i and e_dst_i == tier:
            wr_valid_o.next = e_wr_valid_i
            wr_addr_o.next = e_wr_addr_i
            wr_data_o.next = e_wr_data_i
            wr_tag_o.next = e_tag_i
        elif p_hold_i and p_dst_i == tier:
            wr_valid_o.next = p_wr_valid_i
            wr_addr_o.next = p_wr_addr_i
            wr_data_o.next = p_wr_data_i
            wr_tag_o.next = p_tag_i
        else:
            wr_valid_o.next = False
            wr_addr_o.next = 0
            wr_data_o.next = 0
            wr_tag_o.next = 0

    return reads, writes


@block
def _arbiter(f_want_i, f_src_i, f_hold_i, e_want_i, e_src_i, e_dst_i, e_hold_i,
             p_want_i, p_src_i, p_dst_i, p_hold_i, f_grant_o, e_grant_o, p_grant_o):
    """Grant each asking channel whose ports are free, FETCH first, then PREFETCH, then EVICT."""
    @always_comb
    def grant():
        rd_busy = intbv(0)[4:]
        wr_busy = intbv(0)[4:]
        if f_hold_i:
            rd_busy[f_src_i] = 1
        if e_hold_i:
            rd_busy[e_src_i] = 1
            wr_busy[e_dst_i] = 1
        if p_hold_i:
            rd_busy[p_src_i] = 1
            wr_busy[p_dst_i] = 1
        gf = f_want_i and not rd_busy[f_src_i]
        if gf:
            rd_busy[f_src_i] = 1
        gp = p_want_i and not rd_busy[p_src_i] and not wr_busy[p_dst_i]
        if gp:
            rd_busy[p_src_i] = 1
            wr_busy[p_dst_i] = 1
        ge = e_want_i and not rd_busy[e_src_i] and not wr_busy[e_dst_i]
        f_grant_o.next = gf
        p_grant_o.next = gp
        e_grant_o.next = ge

    return grant


@block
def transfers(params, clk_i, rst_ni, watchdog_i,
        fetch_valid_i, fetch_ready_o, fetch_entry_i, fetch_src_i, fetch_words_i,
        fetch_done_o, fetch_done_entry_o, fetch_done_tier_o, fetch_done_words_o, fetch_done_timeout_o,
        fetch_events_o, fetch_data_valid_o, fetch_data_ready_i, fetch_data_o, fetch_data_last_o,
        evict_valid_i, evict_ready_o, evict_entry_i, evict_src_i, evict_dst_i, evict_words_i,
        evict_done_o, evict_done_entry_o, evict_done_tier_o, evict_done_words_o, evict_done_timeout_o,
        evict_events_o, prefetch_valid_i, prefetch_ready_o, prefetch_entry_i, prefetch_src_i, prefetch_dst_i, prefetch_words_i,
        prefetch_done_o, prefetch_done_entry_o, prefetch_done_tier_o, prefetch_done_words_o,
        prefetch_done_timeout_o, prefetch_events_o, late_o,
        hot_wr_valid_o, hot_wr_ready_i, hot_wr_addr_o, hot_wr_data_o, hot_wr_tag_o, hot_wr_ack_i, hot_wr_ack_tag_i,
        hot_rd_valid_o, hot_rd_ready_i, hot_rd_addr_o, hot_rd_tag_o, hot_rsp_valid_i, hot_rsp_tag_i, hot_rsp_data_i,
        warm_wr_valid_o, warm_wr_ready_i, warm_wr_addr_o, warm_wr_data_o, warm_wr_tag_o, warm_wr_ack_i,
        warm_wr_ack_tag_i, warm_rd_valid_o, warm_rd_ready_i, warm_rd_addr_o, warm_rd_tag_o, warm_rsp_valid_i,
        warm_rsp_tag_i, warm_rsp_data_i,
        cold_wr_valid_o, cold_wr_ready_i, cold_wr_addr_o, cold_wr_data_o, cold_wr_tag_o, cold_wr_ack_i,
        cold_wr_ack_tag_i, cold_rd_valid_o, cold_rd_ready_i, cold_rd_addr_o, cold_rd_tag_o, cold_rsp_valid_i,
        cold_rsp_tag_i, cold_rsp_data_i):
    AB, DW = len(hot_rd_addr_o), len(hot_rsp_data_i)

    class Side:
        """The signals between one channel and the ports."""
        def __init__(self):
            self.want, self.grant, self.hold = signal(1), signal(1), signal(1)
            self.src, self.dst = signal(2), signal(2)
            self.tag, self.rsp_take, self.ack_take = signal(TAG_BITS), signal(1), signal(1)
            self.rd_valid, self.rd_ready, self.rd_addr = signal(1), signal(1), signal(AB)
            self.rsp_valid, self.rsp_tag, self.rsp_data = signal(1), signal(TAG_BITS), signal(DW)
            self.wr_valid, self.wr_ready, self.wr_addr, self.wr_data, self.ack, self.ack_tag = (
                signal(1), signal(1), signal(AB), signal(DW), signal(1), signal(TAG_BITS))

        def links(self):
            return (self.want, self.src, self.dst, self.grant, self.hold, self.tag, self.rsp_take, self.ack_take,
                    self.rd_valid, self.rd_ready, self.rd_addr, self.rsp_valid, self.rsp_tag, self.rsp_data,
                    self.wr_valid, self.wr_ready, self.wr_addr, self.wr_data, self.ack, self.ack_tag)

    def open_stream():
        """A move channel's stream ports: left open."""
        return signal(1), signal(1), signal(DW), signal(1)

    f, e, p = Side(), Side(), Side()
    no_dst = signal(2)                     # constant: a fetch has no destination
    u_fetch = _channel(params, False, CHANNEL_CODE[FETCH], clk_i, rst_ni, watchdog_i,
                       fetch_valid_i, fetch_ready_o, fetch_entry_i, fetch_src_i, no_dst, fetch_words_i,
                       *f.links(), fetch_data_valid_o, fetch_data_ready_i, fetch_data_o, fetch_data_last_o,
                       fetch_done_o, fetch_done_entry_o, fetch_done_tier_o, fetch_done_words_o,
                       fetch_done_timeout_o, fetch_events_o)
    u_evict = _channel(params, True, CHANNEL_CODE[EVICT], clk_i, rst_ni, watchdog_i,
                       evict_valid_i, evict_ready_o, evict_entry_i, evict_src_i, evict_dst_i, evict_words_i,
                       *e.links(), *open_stream(),
                       evict_done_o, evict_done_entry_o, evict_done_tier_o, evict_done_words_o,
                       evict_done_timeout_o, evict_events_o)
    u_prefetch = _channel(params, True, CHANNEL_CODE[PREFETCH], clk_i, rst_ni, watchdog_i,
                          prefetch_valid_i, prefetch_ready_o, prefetch_entry_i, prefetch_src_i, prefetch_dst_i,
                          prefetch_words_i, *p.links(), *open_stream(),
                          prefetch_done_o, prefetch_done_entry_o, prefetch_done_tier_o, prefetch_done_words_o,
                          prefetch_done_timeout_o, prefetch_events_o)
    u_arbiter = _arbiter(f.want, f.src, f.hold, e.want, e.src, e.dst, e.hold,
                         p.want, p.src, p.dst, p.hold, f.grant, e.grant, p.grant)

    ports = {"hot": (hot_rd_valid_o, hot_rd_addr_o, hot_rd_tag_o, hot_wr_valid_o, hot_wr_addr_o, hot_wr_data_o,
                     hot_wr_tag_o),
             "warm": (warm_rd_valid_o, warm_rd_addr_o, warm_rd_tag_o, warm_wr_valid_o, warm_wr_addr_o,
                      warm_wr_data_o, warm_wr_tag_o),
             "cold": (cold_rd_valid_o, cold_rd_addr_o, cold_rd_tag_o, cold_wr_valid_o, cold_wr_addr_o,
                      cold_wr_data_o, cold_wr_tag_o)}
    u_tiers = [_to_tier(code, f.hold, f.src, f.tag, f.rd_valid, f.rd_addr,
                        e.hold, e.src, e.dst, e.tag, e.rd_valid, e.rd_addr, e.wr_valid, e.wr_addr, e.wr_data,
                        p.hold, p.src, p.dst, p.tag, p.rd_valid, p.rd_addr, p.wr_valid, p.wr_addr, p.wr_data,
                        *ports[name])
               for code, name in enumerate(TIERS)]
    u_back = []
    for side in (f, e, p):
        u_back += [_pick(side.src, hot_rd_ready_i, warm_rd_ready_i, cold_rd_ready_i, side.rd_ready),
                   _pick(side.src, hot_rsp_valid_i, warm_rsp_valid_i, cold_rsp_valid_i, side.rsp_valid),
                   _pick(side.src, hot_rsp_tag_i, warm_rsp_tag_i, cold_rsp_tag_i, side.rsp_tag),
                   _pick(side.src, hot_rsp_data_i, warm_rsp_data_i, cold_rsp_data_i, side.rsp_data)]
    for side in (e, p):
        u_back += [_pick(side.dst, hot_wr_ready_i, warm_wr_ready_i, cold_wr_ready_i, side.wr_ready),
                   _pick(side.dst, hot_wr_ack_i, warm_wr_ack_i, cold_wr_ack_i, side.ack),
                   _pick(side.dst, hot_wr_ack_tag_i, warm_wr_ack_tag_i, cold_wr_ack_tag_i, side.ack_tag)]
    u_late = _late(f.src, f.rsp_take, e.src, e.dst, e.rsp_take, e.ack_take, p.src, p.dst, p.rsp_take, p.ack_take,
                   hot_rsp_valid_i, warm_rsp_valid_i, cold_rsp_valid_i, hot_wr_ack_i, hot_wr_ack_tag_i,
                   warm_wr_ack_i, warm_wr_ack_tag_i, cold_wr_ack_i, cold_wr_ack_tag_i, late_o)
    return u_fetch, u_evict, u_prefetch, u_arbiter, u_tiers, u_back, u_late


@block
def _late(f_src_i, f_rsp_take_i, e_src_i, e_dst_i, e_rsp_take_i, e_ack_take_i, p_src_i, p_dst_i, p_rsp_take_i,
          p_ack_take_i, hot_rsp_valid_i, warm_rsp_valid_i, cold_rsp_valid_i, hot_ack_i, hot_ack_tag_i,
          warm_ack_i, warm_ack_tag_i, cold_ack_i, cold_ack_tag_i, late_o):
    """The answers no channel took this cycle: a tier's read answer that the channel holding its
    read side did not take, a write acknowledge (not kvpath's, KV_TAG) that the channel holding
    its write side did not. A channel takes only from the tier it holds, so the tier of a take
    is its source (reads) or destination (acknowledges)."""
    @always_comb
    def count():
        rsp = intbv(0)[3:]
        rsp[0] = hot_rsp_valid_i
        rsp[1] = warm_rsp_valid_i
        rsp[2] = cold_rsp_valid_i
        ack = intbv(0)[3:]
        ack[0] = hot_ack_i and hot_ack_tag_i != KV_TAG
        ack[1] = warm_ack_i and warm_ack_tag_i != KV_TAG
        ack[2] = cold_ack_i and cold_ack_tag_i != KV_TAG
        if f_rsp_take_i:
            rsp[f_src_i] = 0
        if e_rsp_take_i:
            rsp[e_src_i] = 0
        if p_rsp_take_i:
            rsp[p_src_i] = 0
        if e_ack_take_i:
            ack[e_dst_i] = 0
        if p_ack_take_i:
            ack[p_dst_i] = 0
        n = intbv(0)[LATE_BITS:]
        for t in range(3):
            if rsp[t]:
                n[:] = n + 1
            if ack[t]:
                n[:] = n + 1
        late_o.next = n

    return count


def transfer_port_signals(params):
    """Fresh signals for every port of the transfer engine at the set's widths."""
    EB, WB = entry_bits(params), words_bits(params)
    AB, DW = tier_addr_bits(params), 8 * params.cq_lanes      # every tier: a slot per entry, as hot
    widths = {"watchdog_i": WATCHDOG_BITS, "fetch_data_o": DW, "late_o": LATE_BITS}
    for ch in ("fetch", "evict", "prefetch"):
        widths.update({f"{ch}_entry_i": EB, f"{ch}_src_i": 2, f"{ch}_dst_i": 2, f"{ch}_words_i": WB,
                       f"{ch}_done_entry_o": EB, f"{ch}_done_tier_o": 2, f"{ch}_done_words_o": WB,
                       f"{ch}_events_o": len(CHANNEL_EVENTS)})
    for t in TIERS:
        widths.update({f"{t}_wr_addr_o": AB, f"{t}_wr_data_o": DW, f"{t}_rd_addr_o": AB, f"{t}_rsp_data_i": DW,
                       f"{t}_wr_tag_o": TAG_BITS, f"{t}_wr_ack_tag_i": TAG_BITS, f"{t}_rd_tag_o": TAG_BITS,
                       f"{t}_rsp_tag_i": TAG_BITS})
    return port_signals(transfers, widths)


def convert(params, out_dir):
    """Write transfers.v for the parameter set into out_dir; -> its path (`python -m hdl.gen
    --block transfers` pins the hash seed, as for the codec blocks)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    transfers(params, **transfer_port_signals(params)).convert(hdl="Verilog", path=str(out_dir), name="transfers",
                                                               no_myhdl_header=True, testbench=False)
    return out_dir / "transfers.v"
