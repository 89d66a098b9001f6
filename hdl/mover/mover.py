"""mover: the policy engine's moves into the dma's EVICT and PREFETCH channels, and back.

hepc decides a move (the scan, EVICT) and queues (entry, source tier, destination tier). The
mover turns each into a dma descriptor: it looks the slot's length up in its copy of kvpath's
length table (kvpath writes both copies when it stores a block, after hepc has made the entry;
hepc's forget_i zeroes it when it makes an entry, which then holds no image, or deletes one; one
read port, shared by the two channels a lookup at a time) and hands it to the channel. Each completion the dma pulses
waits in a per-channel buffer until hepc has written it into the directory (cpl_* / cpl_take_i,
evict completions first).

Nothing is lost and nothing deadlocks: a channel takes a move from hepc's queue only while it
has a credit, and it has CREDITS of them, each held from the queue pop until hepc takes the
completion, so a completion buffer (CREDITS deep) never overflows. hepc takes completions
whenever it stalls on a full queue (hdl/hepc), so held credits always come back. busy_o: a credit
is out (a move between its pop and its directory write).

The hot tier's write side is shared: kvpath writes blocks into hot during KV_APPEND (with
KV_TAG), the PREFETCH channel during a move (with its transfer's tag). They never run at once
(commands run one at a time and a command's moves finish within it). An append waits for its
own acknowledges (kv_wr_ack_o: those with KV_TAG); every acknowledge also passes to the dma with
its tag, and a channel takes only its own (golden/dma.py: tags), so neither counts the other's.

Prefetch hits: a bit per entry, set when a prefetch has brought the block hot (its completion
written), cleared when an eviction moves it out, when a fetch reads it, or when hepc makes or
deletes the entry. A fetch that completes from the hot tier with the bit set is a hit
(golden/data_plane.py: the prefetched set). The bit array is a one-port RAM: its writers never
meet (a fetch, an append and a command's moves never run at once), and the fetch's bit is read
through the descriptor's entry, which holds still while the fetch runs.

Events (DMA_EVENTS order): the FETCH channel's, with its stall cycles told apart by the tier the
fetch reads (fetch_src_i); per move channel a completed move and a timeout, and a prefetch hit;
and per
channel the words of each completed move (words_o, MOVE_WORDS order), as an amount in its
completion cycle: a move that times out counts none, whatever its destination acknowledged
before.
"""
from myhdl import block, always_comb, always_seq, Signal, intbv, concat

from golden.dma import KV_TAG
from golden.kv1_regs import TIER, TIER_NAMES
from hdl.common.fifo import fifo
from hdl.common.ram import ram
from hdl.dma.dma import CHANNEL_EVENTS, EV_STALL, EV_TIMEOUTS

MOVE_CHANNELS = ("EVICT", "PREFETCH")
MOVE_EVENTS = tuple(f"{ch}_{e}" for ch in MOVE_CHANNELS for e in ("TRANSFERS", "TIMEOUTS")) + ("PREFETCH_HITS",)
MOVE_WORDS = tuple(f"{ch}_WORDS" for ch in MOVE_CHANNELS)
FETCH_EVENTS = tuple(f"FETCH_{e}" for e in CHANNEL_EVENTS if e != "STALL_CYCLES") + tuple(
    f"FETCH_STALL_{name}" for name in TIER_NAMES.values())
DMA_EVENTS = FETCH_EVENTS + MOVE_EVENTS
CREDITS = 4          # moves a channel holds between queue pop and directory write


@block
def _channel_feed(clk_i, rst_ni, grant_i, len_data_i,
                  q_valid_i, q_entry_i, q_src_i, q_dst_i, q_pop_o,
                  d_valid_o, d_ready_i, d_entry_o, d_src_o, d_dst_o, d_words_o,
                  done_i, done_entry_i, done_tier_i, done_timeout_i,
                  c_valid_o, c_entry_o, c_tier_o, c_timeout_o, c_take_i, want_o, busy_o):
    """One move channel: pop hepc's queue (when granted the length lookup), present the
    descriptor, buffer the completion. The lookup address is q_entry_i itself in the grant
    cycle; the length shows on len_data_i the cycle after."""
    EB = len(q_entry_i)
    CB = CREDITS.bit_length()
    held = Signal(intbv(0)[CB + 1:])          # credits out
    looking = Signal(bool(0))                 # the length shows on len_data_i this cycle
    staged = Signal(bool(0))                  # a descriptor waits for the channel
    entry, src, dst = Signal(intbv(0)[EB:]), Signal(intbv(0)[2:]), Signal(intbv(0)[2:])
    words = Signal(intbv(0)[len(d_words_o):])
    take = Signal(bool(0))

    c_in = Signal(intbv(0)[EB + 3:])
    c_out = Signal(intbv(0)[EB + 3:])
    c_full, c_empty = Signal(bool(0)), Signal(bool(0))
    c_level = Signal(intbv(0)[CB:])
    u_done = fifo(clk_i, rst_ni, done_i, c_in, c_full, c_take_i, c_out, c_empty, c_level, CREDITS)

    # want and take in separate processes: the grant between them depends on want
    @always_comb
    def ask():
        want_o.next = q_valid_i and not looking and not staged and held != CREDITS

    @always_comb
    def pop():
        take.next = want_o and grant_i
        q_pop_o.next = want_o and grant_i

    @always_comb
    def wires():
        d_valid_o.next = staged
        d_entry_o.next = entry
        d_src_o.next = src
        d_dst_o.next = dst
        d_words_o.next = words
        c_in.next = concat(done_timeout_i, done_tier_i, done_entry_i)
        c_valid_o.next = not c_empty
        c_entry_o.next = c_out[EB:]
        c_tier_o.next = c_out[EB + 2:EB]
        c_timeout_o.next = c_out[EB + 2]
        busy_o.next = held != 0

    @always_seq(clk_i.posedge, reset=rst_ni)
    def stages():
        if take:
            entry.next = q_entry_i
            src.next = q_src_i
            dst.next = q_dst_i
        looking.next = take
        if looking:
            words.next = len_data_i
            staged.next = True
        elif staged and d_ready_i:
            staged.next = False
        if take and not c_take_i:
            held.next = held + 1
        elif c_take_i and not take:
            held.next = held - 1

    return u_done, ask, pop, wires, stages


@block
def mover(params, clk_i, rst_ni,
          evq_valid_i, evq_entry_i, evq_src_i, evq_dst_i, evq_pop_o,
          pfq_valid_i, pfq_entry_i, pfq_src_i, pfq_dst_i, pfq_pop_o,
          len_we_i, len_entry_i, len_words_i, forget_i, forget_entry_i,
          evict_valid_o, evict_ready_i, evict_entry_o, evict_src_o, evict_dst_o, evict_words_o,
          evict_done_i, evict_done_entry_i, evict_done_tier_i, evict_done_words_i, evict_done_timeout_i,
          prefetch_valid_o, prefetch_ready_i, prefetch_entry_o, prefetch_src_o, prefetch_dst_o, prefetch_words_o,
          prefetch_done_i, prefetch_done_entry_i, prefetch_done_tier_i, prefetch_done_words_i,
          prefetch_done_timeout_i, cpl_valid_o, cpl_entry_o, cpl_tier_o, cpl_timeout_o, cpl_take_i, busy_o,
          kv_wr_valid_i, kv_wr_ready_o, kv_wr_addr_i, kv_wr_data_i, kv_wr_ack_o,
          dma_wr_valid_i, dma_wr_ready_o, dma_wr_addr_i, dma_wr_data_i, dma_wr_tag_i, dma_wr_ack_o,
          dma_wr_ack_tag_o, hot_wr_valid_o, hot_wr_ready_i, hot_wr_addr_o, hot_wr_data_o, hot_wr_tag_o,
          hot_wr_ack_i, hot_wr_ack_tag_i,
          fetch_entry_i, fetch_src_i, fetch_done_i, fetch_done_tier_i, fetch_done_timeout_i,
          fetch_events_i, evict_events_i, prefetch_events_i, events_o, words_o):
    EB = len(evq_entry_i)
    WB = len(evict_done_words_i)
    assert len(events_o) == len(DMA_EVENTS) and len(fetch_events_i) == len(evict_events_i) == len(CHANNEL_EVENTS)
    assert EV_STALL == len(CHANNEL_EVENTS) - 1      # the fetch events pass on below it
    assert len(words_o) == len(MOVE_WORDS) * WB
    assert EB == len(len_entry_i) and 1 << EB >= params.dir_entries

    len_addr, len_data = Signal(intbv(0)[EB:]), Signal(intbv(0)[len(len_words_i):])
    len_we, len_waddr, len_wdata = Signal(bool(0)), Signal(intbv(0)[EB:]), Signal(intbv(0)[len(len_words_i):])
    u_lengths = ram(clk_i, len_we, len_waddr, len_wdata, len_addr, len_data, params.dir_entries, registered=True)

    @always_comb
    def length_write():
        len_we.next = len_we_i or forget_i
        len_waddr.next = forget_entry_i
        len_wdata.next = 0
        if len_we_i:
            len_waddr.next = len_entry_i
            len_wdata.next = len_words_i

    e_want, p_want, e_grant, p_grant = (Signal(bool(0)) for _ in range(4))
    # each channel's oldest completion: valid, entry, tier, timeout (separate signals: a list
    # of signals would be a memory to MyHDL)
    e_cpl_valid, e_cpl_entry, e_cpl_tier, e_cpl_timeout = (Signal(bool(0)), Signal(intbv(0)[EB:]),
                                                           Signal(intbv(0)[2:]), Signal(bool(0)))
    p_cpl_valid, p_cpl_entry, p_cpl_tier, p_cpl_timeout = (Signal(bool(0)), Signal(intbv(0)[EB:]),
                                                           Signal(intbv(0)[2:]), Signal(bool(0)))
    e_take, p_take, e_busy, p_busy = (Signal(bool(0)) for _ in range(4))
    u_evict = _channel_feed(clk_i, rst_ni, e_grant, len_data,
                            evq_valid_i, evq_entry_i, evq_src_i, evq_dst_i, evq_pop_o,
                            evict_valid_o, evict_ready_i, evict_entry_o, evict_src_o, evict_dst_o, evict_words_o,
                            evict_done_i, evict_done_entry_i, evict_done_tier_i, evict_done_timeout_i,
                            e_cpl_valid, e_cpl_entry, e_cpl_tier, e_cpl_timeout, e_take, e_want, e_busy)
    u_prefetch = _channel_feed(clk_i, rst_ni, p_grant, len_data,
                               pfq_valid_i, pfq_entry_i, pfq_src_i, pfq_dst_i, pfq_pop_o,
                               prefetch_valid_o, prefetch_ready_i, prefetch_entry_o, prefetch_src_o,
                               prefetch_dst_o, prefetch_words_o,
                               prefetch_done_i, prefetch_done_entry_i, prefetch_done_tier_i,
                               prefetch_done_timeout_i, p_cpl_valid, p_cpl_entry, p_cpl_tier, p_cpl_timeout,
                               p_take, p_want, p_busy)

    last_evict = Signal(bool(0))              # the last lookup was EVICT's: PREFETCH goes next

    # prefetch hits
    pf_we, pf_bit, pf_read = Signal(bool(0)), Signal(intbv(0)[1:]), Signal(intbv(0)[1:])
    pf_waddr = Signal(intbv(0)[EB:])
    u_prefetched = ram(clk_i, pf_we, pf_waddr, pf_bit, fetch_entry_i, pf_read, params.dir_entries,
                       registered=True)
    hit = Signal(bool(0))

    @always_comb
    def prefetched():
        hit.next = fetch_done_i and not fetch_done_timeout_i and fetch_done_tier_i == TIER.HOT and pf_read == 1
        pf_we.next = False
        pf_bit.next = 0
        pf_waddr.next = fetch_entry_i
        if fetch_done_i and not fetch_done_timeout_i:
            pf_we.next = True
        elif p_take and not p_cpl_timeout:
            pf_we.next = True
            pf_bit.next = 1
            pf_waddr.next = p_cpl_entry
        elif e_take and not e_cpl_timeout:
            pf_we.next = True
            pf_waddr.next = e_cpl_entry
        elif forget_i:
            pf_we.next = True
            pf_waddr.next = forget_entry_i

    @always_comb
    def lookup():
        eg = e_want and not (p_want and last_evict)
        e_grant.next = eg
        p_grant.next = p_want and not eg
        len_addr.next = pfq_entry_i
        if eg:
            len_addr.next = evq_entry_i

    @always_seq(clk_i.posedge, reset=rst_ni)
    def turns():
        if e_grant:
            last_evict.next = True
        elif p_grant:
            last_evict.next = False

    @always_comb
    def completions():
        busy_o.next = e_busy or p_busy
        e_take.next = cpl_take_i and e_cpl_valid
        p_take.next = cpl_take_i and not e_cpl_valid
        if e_cpl_valid:
            cpl_valid_o.next = True
            cpl_entry_o.next = e_cpl_entry
            cpl_tier_o.next = e_cpl_tier
            cpl_timeout_o.next = e_cpl_timeout
        else:
            cpl_valid_o.next = p_cpl_valid
            cpl_entry_o.next = p_cpl_entry
            cpl_tier_o.next = p_cpl_tier
            cpl_timeout_o.next = p_cpl_timeout

    # the hot write side; one process per output group: a writer's valid may depend on its
    # ready, and the PREFETCH channel's ready must not depend on the valids (no combinational loop)
    kv_tag = Signal(intbv(KV_TAG)[len(hot_wr_tag_o):])   # constant

    @always_comb
    def hot_readies():
        dma_wr_ready_o.next = hot_wr_ready_i
        dma_wr_ack_o.next = hot_wr_ack_i
        dma_wr_ack_tag_o.next = hot_wr_ack_tag_i
        kv_wr_ack_o.next = hot_wr_ack_i and hot_wr_ack_tag_i == kv_tag

    @always_comb
    def kv_ready():
        kv_wr_ready_o.next = hot_wr_ready_i and not dma_wr_valid_i

    @always_comb
    def hot_request():
        if dma_wr_valid_i:
            hot_wr_valid_o.next = True
            hot_wr_addr_o.next = dma_wr_addr_i
            hot_wr_data_o.next = dma_wr_data_i
            hot_wr_tag_o.next = dma_wr_tag_i
        else:
            hot_wr_valid_o.next = kv_wr_valid_i
            hot_wr_addr_o.next = kv_wr_addr_i
            hot_wr_data_o.next = kv_wr_data_i
            hot_wr_tag_o.next = kv_tag

    @always_comb
    def events():
        ev = intbv(0)[len(MOVE_EVENTS):]
        ev[0] = evict_events_i[TIER.HOT] or evict_events_i[TIER.WARM] or evict_events_i[TIER.COLD]
        ev[1] = evict_events_i[EV_TIMEOUTS]
        ev[2] = prefetch_events_i[TIER.HOT] or prefetch_events_i[TIER.WARM] or prefetch_events_i[TIER.COLD]
        ev[3] = prefetch_events_i[EV_TIMEOUTS]
        ev[4] = hit
        stall = intbv(0)[len(TIER_NAMES):]
        if fetch_events_i[EV_STALL]:
            stall[fetch_src_i] = 1
        events_o.next = concat(ev, stall, fetch_events_i[EV_STALL:])
        e_words = intbv(0)[WB:]
        p_words = intbv(0)[WB:]
        if evict_done_i and not evict_done_timeout_i:
            e_words[:] = evict_done_words_i
        if prefetch_done_i and not prefetch_done_timeout_i:
            p_words[:] = prefetch_done_words_i
        words_o.next = concat(p_words, e_words)

    return (u_lengths, length_write, u_evict, u_prefetch, lookup, turns, u_prefetched, prefetched, completions,
            hot_readies, kv_ready, hot_request, events)
