"""dma: the tiers' only master. Every word that goes to or comes from a tier memory goes through
it (docs/data_plane.md; golden/dma.py for the transfers, golden/data_plane.py for the rest).

    transfers   the FETCH, EVICT and PREFETCH channels and the three tier ports (hdl/dma/transfers.py)
    feeds       kvpath's fetches and hepc's moves become descriptors, each with its slot's length
                from the slot table; the moves' completions wait for hepc (hdl/dma/feeds.py)
    slot table  a slot's length in words per entry: the only copy. Written when kvpath has stored a
                block (stored_i), zeroed when hepc makes or deletes an entry (forget_i: the entry
                holds no image); one registered read port, one lookup a cycle, FETCH first, then
                EVICT and PREFETCH in turn
    STORE       kvpath's appends into the hot tier (tag KV_TAG). The hot write side is shared with
                the PREFETCH channel: they never run at once (commands run one at a time and a
                command's moves finish within it); a transfer's write goes first. store_ack_o: the
                acknowledges with KV_TAG (a KV_APPEND completes once all of its block's are in)
    prefetch hits  a bit per entry, set when a prefetch has brought the block hot (its completion
                taken), cleared when an eviction moves it out, when a fetch reads it, or when hepc
                makes or deletes the entry. A fetch that completes from the hot tier with the bit
                set is a hit (golden/data_plane.py: the prefetched set)
    events      for perf (DMA_EVENTS order): the FETCH channel's, its stall cycles told apart by
                the tier the fetch reads; per move channel a completed move and a timeout, and a
                prefetch hit; the words of each completed move (words_o, MOVE_WORDS order) in its
                completion cycle (a move that times out counts none)
"""
from pathlib import Path

from myhdl import block, always_comb, always_seq, Signal, intbv, concat

from golden.dma import KV_TAG, TAG_BITS, TIERS
from golden.kv1_regs import TIER, TIER_NAMES
from hdl.common.instance import port_signals
from hdl.common.ram import ram
from hdl.dma.feeds import fetch_feed, move_feed
from hdl.dma.transfers import (transfers, transfer_port_signals, entry_bits, words_bits, CHANNEL_EVENTS, EV_STALL,
                               EV_TIMEOUTS, LATE_BITS, WATCHDOG_BITS)
from golden.kvpath import tier_addr_bits

MOVE_CHANNELS = ("EVICT", "PREFETCH")
MOVE_EVENTS = tuple(f"{ch}_{e}" for ch in MOVE_CHANNELS for e in ("TRANSFERS", "TIMEOUTS")) + ("PREFETCH_HITS",)
MOVE_WORDS = tuple(f"{ch}_WORDS" for ch in MOVE_CHANNELS)
FETCH_EVENTS = tuple(f"FETCH_{e}" for e in CHANNEL_EVENTS if e != "STALL_CYCLES") + tuple(
    f"FETCH_STALL_{name}" for name in TIER_NAMES.values())
DMA_EVENTS = FETCH_EVENTS + MOVE_EVENTS
TIER_PORT_NAMES = ("wr_valid_o", "wr_ready_i", "wr_addr_o", "wr_data_o", "wr_tag_o", "wr_ack_i", "wr_ack_tag_i",
                   "rd_valid_o", "rd_ready_i", "rd_addr_o", "rd_tag_o", "rsp_valid_i", "rsp_tag_i", "rsp_data_i")


@block
def dma(params, clk_i, rst_ni, watchdog_i,
        fetch_valid_i, fetch_ready_o, fetch_entry_i, fetch_src_i,
        fetch_data_valid_o, fetch_data_ready_i, fetch_data_o, fetch_done_o, fetch_timeout_o,
        store_valid_i, store_ready_o, store_addr_i, store_data_i, store_ack_o,
        stored_i, stored_entry_i, stored_words_i,
        evq_valid_i, evq_entry_i, evq_src_i, evq_dst_i, evq_pop_o,
        pfq_valid_i, pfq_entry_i, pfq_src_i, pfq_dst_i, pfq_pop_o,
        cpl_valid_o, cpl_entry_o, cpl_tier_o, cpl_timeout_o, cpl_take_i, busy_o,
        forget_i, forget_entry_i, events_o, words_o, late_o,
        hot_wr_valid_o, hot_wr_ready_i, hot_wr_addr_o, hot_wr_data_o, hot_wr_tag_o, hot_wr_ack_i, hot_wr_ack_tag_i,
        hot_rd_valid_o, hot_rd_ready_i, hot_rd_addr_o, hot_rd_tag_o, hot_rsp_valid_i, hot_rsp_tag_i, hot_rsp_data_i,
        warm_wr_valid_o, warm_wr_ready_i, warm_wr_addr_o, warm_wr_data_o, warm_wr_tag_o, warm_wr_ack_i,
        warm_wr_ack_tag_i, warm_rd_valid_o, warm_rd_ready_i, warm_rd_addr_o, warm_rd_tag_o, warm_rsp_valid_i,
        warm_rsp_tag_i, warm_rsp_data_i,
        cold_wr_valid_o, cold_wr_ready_i, cold_wr_addr_o, cold_wr_data_o, cold_wr_tag_o, cold_wr_ack_i,
        cold_wr_ack_tag_i, cold_rd_valid_o, cold_rd_ready_i, cold_rd_addr_o, cold_rd_tag_o, cold_rsp_valid_i,
        cold_rsp_tag_i, cold_rsp_data_i):
    tier_side = {n: v for n, v in locals().items() if n.startswith(TIERS)}   # the tier ports by name
    EB, WB = entry_bits(params), words_bits(params)
    assert len(events_o) == len(DMA_EVENTS) and len(words_o) == len(MOVE_WORDS) * WB
    assert EV_STALL == len(CHANNEL_EVENTS) - 1      # the fetch events pass on below it
    assert len(fetch_entry_i) == len(stored_entry_i) == len(forget_entry_i) == EB
    t = transfer_port_signals(params)
    t.update(clk_i=clk_i, rst_ni=rst_ni, watchdog_i=watchdog_i, late_o=late_o,
             fetch_data_valid_o=fetch_data_valid_o, fetch_data_ready_i=fetch_data_ready_i, fetch_data_o=fetch_data_o,
             fetch_done_o=fetch_done_o, fetch_done_timeout_o=fetch_timeout_o)
    for tier in TIERS:                      # the warm and cold ports whole, the hot read side
        for name in TIER_PORT_NAMES:
            if tier != "hot" or name.startswith(("rd_", "rsp_")):
                t[f"{tier}_{name}"] = tier_side[f"{tier}_{name}"]
    u_transfers = transfers(params, **t)

    # the slot table
    len_we, len_waddr, len_wdata = Signal(bool(0)), Signal(intbv(0)[EB:]), Signal(intbv(0)[WB:])
    len_addr, len_data = Signal(intbv(0)[EB:]), Signal(intbv(0)[WB:])
    u_slots = ram(clk_i, len_we, len_waddr, len_wdata, len_addr, len_data, params.dir_entries, registered=True)

    @always_comb
    def slot_write():
        len_we.next = stored_i or forget_i
        len_waddr.next = forget_entry_i
        len_wdata.next = 0
        if stored_i:
            len_waddr.next = stored_entry_i
            len_wdata.next = stored_words_i

    # the feeds
    f_want, e_want, p_want, f_grant, e_grant, p_grant = (Signal(bool(0)) for _ in range(6))
    f_entry, f_src = Signal(intbv(0)[EB:]), Signal(intbv(0)[2:])      # the fetch in flight
    u_fetch = fetch_feed(clk_i, rst_ni, f_grant, len_data, fetch_valid_i, fetch_entry_i, fetch_src_i, fetch_ready_o,
                         f_want, t["fetch_valid_i"], t["fetch_ready_o"], t["fetch_entry_i"], t["fetch_src_i"],
                         t["fetch_words_i"],
                         f_entry, f_src)
    # each feed's oldest completion: valid, entry, tier, timeout (separate signals: a list of
    # signals would be a memory to MyHDL)
    e_cpl_valid, e_cpl_entry, e_cpl_tier, e_cpl_timeout = (Signal(bool(0)), Signal(intbv(0)[EB:]),
                                                           Signal(intbv(0)[2:]), Signal(bool(0)))
    p_cpl_valid, p_cpl_entry, p_cpl_tier, p_cpl_timeout = (Signal(bool(0)), Signal(intbv(0)[EB:]),
                                                           Signal(intbv(0)[2:]), Signal(bool(0)))
    e_take, p_take, e_busy, p_busy = (Signal(bool(0)) for _ in range(4))
    feeds = []
    for ch, q, grant, want, c, take, busy in (
            ("evict", (evq_valid_i, evq_entry_i, evq_src_i, evq_dst_i, evq_pop_o), e_grant, e_want,
             (e_cpl_valid, e_cpl_entry, e_cpl_tier, e_cpl_timeout), e_take, e_busy),
            ("prefetch", (pfq_valid_i, pfq_entry_i, pfq_src_i, pfq_dst_i, pfq_pop_o), p_grant, p_want,
             (p_cpl_valid, p_cpl_entry, p_cpl_tier, p_cpl_timeout), p_take, p_busy)):
        feeds.append(move_feed(clk_i, rst_ni, grant, len_data, *q,
                               t[f"{ch}_valid_i"], t[f"{ch}_ready_o"], t[f"{ch}_entry_i"], t[f"{ch}_src_i"],
                               t[f"{ch}_dst_i"], t[f"{ch}_words_i"], t[f"{ch}_done_o"], t[f"{ch}_done_entry_o"],
                               t[f"{ch}_done_tier_o"], t[f"{ch}_done_timeout_o"], *c, take, want, busy))
    last_evict = Signal(bool(0))              # the last move lookup was EVICT's: PREFETCH goes next

    @always_comb
    def lookup():
        fg = f_want
        eg = e_want and not fg and not (p_want and last_evict)
        f_grant.next = fg
        e_grant.next = eg
        p_grant.next = p_want and not fg and not eg
        if fg:
            len_addr.next = fetch_entry_i
        elif eg:
            len_addr.next = evq_entry_i
        else:
            len_addr.next = pfq_entry_i

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

    # prefetch hits: a one-port RAM whose writers never meet (a fetch, an append and a command's
    # moves never run at once); the fetch's bit is read through its entry, held while it runs
    pf_we, pf_bit, pf_read = Signal(bool(0)), Signal(intbv(0)[1:]), Signal(intbv(0)[1:])
    pf_waddr = Signal(intbv(0)[EB:])
    u_prefetched = ram(clk_i, pf_we, pf_waddr, pf_bit, f_entry, pf_read, params.dir_entries, registered=True)
    hit = Signal(bool(0))
    f_done, f_timeout, f_tier = t["fetch_done_o"], t["fetch_done_timeout_o"], t["fetch_done_tier_o"]

    @always_comb
    def prefetched():
        hit.next = f_done and not f_timeout and f_tier == TIER.HOT and pf_read == 1
        pf_we.next = False
        pf_bit.next = 0
        pf_waddr.next = f_entry
        if f_done and not f_timeout:
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

    # STORE: the hot write side; one process per output group: a writer's valid may depend on its
    # ready, and the PREFETCH channel's ready must not depend on the valids (no combinational loop)
    kv_tag = Signal(intbv(KV_TAG)[TAG_BITS:])   # constant
    tw_valid, tw_addr, tw_data, tw_tag = (t["hot_wr_valid_o"], t["hot_wr_addr_o"], t["hot_wr_data_o"],
                                          t["hot_wr_tag_o"])
    tw_ready, tw_ack, tw_ack_tag = t["hot_wr_ready_i"], t["hot_wr_ack_i"], t["hot_wr_ack_tag_i"]

    @always_comb
    def hot_readies():
        tw_ready.next = hot_wr_ready_i
        tw_ack.next = hot_wr_ack_i
        tw_ack_tag.next = hot_wr_ack_tag_i
        store_ack_o.next = hot_wr_ack_i and hot_wr_ack_tag_i == kv_tag

    @always_comb
    def store_ready():
        store_ready_o.next = hot_wr_ready_i and not tw_valid

    @always_comb
    def hot_request():
        if tw_valid:
            hot_wr_valid_o.next = True
            hot_wr_addr_o.next = tw_addr
            hot_wr_data_o.next = tw_data
            hot_wr_tag_o.next = tw_tag
        else:
            hot_wr_valid_o.next = store_valid_i
            hot_wr_addr_o.next = store_addr_i
            hot_wr_data_o.next = store_data_i
            hot_wr_tag_o.next = kv_tag

    ev_fetch, ev_evict, ev_prefetch = t["fetch_events_o"], t["evict_events_o"], t["prefetch_events_o"]
    e_done, e_timeout, e_words = t["evict_done_o"], t["evict_done_timeout_o"], t["evict_done_words_o"]
    p_done, p_timeout, p_words = t["prefetch_done_o"], t["prefetch_done_timeout_o"], t["prefetch_done_words_o"]

    @always_comb
    def events():
        ev = intbv(0)[len(MOVE_EVENTS):]
        ev[0] = ev_evict[TIER.HOT] or ev_evict[TIER.WARM] or ev_evict[TIER.COLD]
        ev[1] = ev_evict[EV_TIMEOUTS]
        ev[2] = ev_prefetch[TIER.HOT] or ev_prefetch[TIER.WARM] or ev_prefetch[TIER.COLD]
        ev[3] = ev_prefetch[EV_TIMEOUTS]
        ev[4] = hit
        stall = intbv(0)[len(TIER_NAMES):]
        if ev_fetch[EV_STALL]:
            stall[f_src] = 1
        events_o.next = concat(ev, stall, ev_fetch[EV_STALL:])
        ew = intbv(0)[WB:]
        pw = intbv(0)[WB:]
        if e_done and not e_timeout:
            ew[:] = e_words
        if p_done and not p_timeout:
            pw[:] = p_words
        words_o.next = concat(pw, ew)

    return (u_transfers, u_slots, slot_write, u_fetch, feeds, lookup, turns, completions, u_prefetched, prefetched,
            hot_readies, store_ready, hot_request, events)


def dma_port_signals(params):
    """Fresh signals for every dma port at the set's widths."""
    EB, WB = entry_bits(params), words_bits(params)
    AB, DW = tier_addr_bits(params), 8 * params.cq_lanes      # every tier: a slot per entry, as hot
    widths = {"watchdog_i": WATCHDOG_BITS, "fetch_entry_i": EB, "fetch_src_i": 2, "fetch_data_o": DW,
              "store_addr_i": AB, "store_data_i": DW, "stored_entry_i": EB, "stored_words_i": WB,
              "forget_entry_i": EB, "cpl_entry_o": EB, "cpl_tier_o": 2,
              "events_o": len(DMA_EVENTS), "words_o": len(MOVE_WORDS) * WB, "late_o": LATE_BITS}
    for q in ("evq", "pfq"):
        widths.update({f"{q}_entry_i": EB, f"{q}_src_i": 2, f"{q}_dst_i": 2})
    for tier in TIERS:
        widths.update({f"{tier}_wr_addr_o": AB, f"{tier}_wr_data_o": DW, f"{tier}_rd_addr_o": AB,
                       f"{tier}_rsp_data_i": DW, f"{tier}_wr_tag_o": TAG_BITS, f"{tier}_wr_ack_tag_i": TAG_BITS,
                       f"{tier}_rd_tag_o": TAG_BITS, f"{tier}_rsp_tag_i": TAG_BITS})
    return port_signals(dma, widths)


def convert(params, out_dir):
    """Write dma.v (the dma with its parts flattened in) for the parameter set into out_dir; ->
    its path (`python -m hdl.gen --block dma` pins the hash seed, as for the codec blocks)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dma(params, **dma_port_signals(params)).convert(hdl="Verilog", path=str(out_dir), name="dma",
                                                   no_myhdl_header=True, testbench=False)
    return out_dir / "dma.v"
