"""hepc's completion writer: what a finished move writes into its directory entry (golden:
DataPlane.complete_move), and what the moves of a command change in the hot occupancy once it ends."""
from myhdl import block, always_comb, always_seq, Signal, intbv

from golden.kv1_regs import TIER
from golden.kvpath import slot_shift
from hdl.common.unroll import one_hot
from hdl.rtbd.rtbd import bounds


@block
def completion(params, clk_i, rst_ni, cpl_entry_i, cpl_tier_i, cpl_timeout_i, way_tiers, we_o, addr_o,
               take_i, settle_i, failed_o, hot_back_o, hot_gone_o):
    """What the completion of a move of entry cpl_entry_i writes into it, in the way we_o enables
    (the scan lanes place it in the word, their COMPLETE pass): the tier the move ended in
    (cpl_tier_i); a move that arrived records its slot's address (addr_o), one that timed out
    (cpl_timeout_i: back in its source tier) is quarantined instead. way_tiers: the tier of each
    way of the entry's set as read. take_i: the write happens at this edge. Until settle_i,
    the command's timed-out moves are counted: failed_o (one timed out), hot_back_o (evictions:
    blocks still hot), hot_gone_o (prefetches: blocks not hot after all)."""
    WAYS = len(way_tiers)
    assert len(we_o) == WAYS
    WB = (WAYS - 1).bit_length()
    IB = len(cpl_entry_i)
    ADDR_SHIFT = slot_shift(params) + (params.cq_lanes - 1).bit_length()   # a slot's byte address
    AD_H, AD_L = bounds("addr")
    assert len(addr_o) == AD_H - AD_L
    way = Signal(intbv(0)[WB:])
    u_way = one_hot(way, we_o)
    was_hot = Signal(bool(0))
    failed = Signal(bool(0))
    hot_back = Signal(intbv(0)[len(hot_back_o):])
    hot_gone = Signal(intbv(0)[len(hot_gone_o):])

    @always_comb
    def fields():
        way.next = cpl_entry_i[WB:]
        a = intbv(0)[AD_H - AD_L:]
        a[ADDR_SHIFT + IB:ADDR_SHIFT] = cpl_entry_i
        addr_o.next = a
        failed_o.next = failed
        hot_back_o.next = hot_back
        hot_gone_o.next = hot_gone

    @always_comb
    def old_tier():
        hot = False
        for w in range(WAYS):
            if we_o[w] and way_tiers[w] == TIER.HOT:
                hot = True
        was_hot.next = hot

    @always_seq(clk_i.posedge, reset=rst_ni)
    def account():
        if settle_i:
            failed.next = False
            hot_back.next = 0
            hot_gone.next = 0
        elif take_i and cpl_timeout_i:
            failed.next = True
            if cpl_tier_i == TIER.HOT and not was_hot:
                hot_back.next = hot_back + 1
            if cpl_tier_i != TIER.HOT and was_hot:
                hot_gone.next = hot_gone + 1

    return u_way, fields, old_tier, account
