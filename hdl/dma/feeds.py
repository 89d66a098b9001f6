"""The dma's feeds: each request becomes a descriptor once its slot's length is looked up in the
slot table (hdl/dma/dma.py), one lookup a cycle for the three of them.

fetch_feed  kvpath's fetch (entry, the tier hepc answered): taken in its grant cycle while the
            FETCH channel's queue has room, its descriptor pushed into the queue the cycle after,
            when the length shows.
move_feed   hepc's moves (entry, source, destination) for EVICT or PREFETCH: popped from hepc's
            queue in the grant cycle, staged until the channel takes it; each completion waits in
            a buffer until hepc has written it into the directory (c_take_i). Nothing is lost and
            nothing deadlocks: a feed pops a move only while it has a credit, and it has CREDITS,
            each held from the pop until hepc takes the completion, so the buffer (CREDITS deep)
            never overflows. hepc takes completions whenever it stalls on a full queue
            (hdl/hepc), so held credits always come back. busy_o: a credit is out.
"""
from myhdl import block, always_comb, always_seq, Signal, intbv, concat

from hdl.common.fifo import fifo

CREDITS = 4          # moves a feed holds between queue pop and directory write


@block
def fetch_feed(clk_i, rst_ni, grant_i, len_data_i, valid_i, entry_i, src_i, ready_o, want_o,
               d_valid_o, d_ready_i, d_entry_o, d_src_o, d_words_o, entry_o, src_o):
    """entry_o, src_o: the last fetch's entry and tier, held while it runs (the prefetch-hit bit
    and the stall events read them)."""
    looking = Signal(bool(0))                 # the length shows on len_data_i this cycle
    entry, src = Signal(intbv(0)[len(entry_i):]), Signal(intbv(0)[2:])

    @always_comb
    def ask():
        want_o.next = valid_i and not looking and d_ready_i

    @always_comb
    def wires():
        ready_o.next = valid_i and not looking and d_ready_i and grant_i
        d_valid_o.next = looking
        d_entry_o.next = entry
        d_src_o.next = src
        d_words_o.next = len_data_i
        entry_o.next = entry
        src_o.next = src

    @always_seq(clk_i.posedge, reset=rst_ni)
    def take():
        looking.next = want_o and grant_i
        if want_o and grant_i:
            entry.next = entry_i
            src.next = src_i

    return ask, wires, take


@block
def move_feed(clk_i, rst_ni, grant_i, len_data_i,
              q_valid_i, q_entry_i, q_src_i, q_dst_i, q_pop_o,
              d_valid_o, d_ready_i, d_entry_o, d_src_o, d_dst_o, d_words_o,
              done_i, done_entry_i, done_tier_i, done_timeout_i,
              c_valid_o, c_entry_o, c_tier_o, c_timeout_o, c_take_i, want_o, busy_o):
    """One move channel's feed. The lookup address is q_entry_i itself in the grant cycle; the
    length shows on len_data_i the cycle after."""
    EB = len(q_entry_i)
    CB = CREDITS.bit_length()
    held = Signal(intbv(0)[CB + 1:])          # credits out
    looking = Signal(bool(0))
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
