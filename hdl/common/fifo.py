"""Synchronous first-word-fall-through FIFO, the queue under every host_if channel."""
from myhdl import block, always, always_seq, always_comb, Signal, intbv


@block
def fifo(clk_i, rst_ni, push_i, din_i, full_o, pop_i, dout_o, empty_o, level_o, depth):
    """`depth` entries of len(din_i) bits. dout_o shows the oldest entry while not empty.

    A push while full or a pop while empty is ignored: producers and consumers
    look at full_o / empty_o first, and the register map turns such attempts
    into SLVERR before they get here.
    """
    if depth < 2:
        raise ValueError(f"fifo depth must be at least 2, got {depth}")
    if len(level_o) < depth.bit_length():
        raise ValueError(f"level_o needs {depth.bit_length()} bits for depth {depth}")
    mem = [Signal(intbv(0)[len(din_i):]) for _ in range(depth)]
    ptr_bits = (depth - 1).bit_length()
    wr_ptr = Signal(intbv(0)[ptr_bits:])
    rd_ptr = Signal(intbv(0)[ptr_bits:])
    count = Signal(intbv(0)[len(level_o):])
    do_push = Signal(bool(0))
    do_pop = Signal(bool(0))
    LAST = depth - 1

    @always_comb
    def handshake():
        do_push.next = push_i and count != depth
        do_pop.next = pop_i and count != 0

    @always(clk_i.posedge)
    def write():
        # storage without reset so that it can map to RAM
        if do_push:
            mem[wr_ptr].next = din_i

    @always_seq(clk_i.posedge, reset=rst_ni)
    def pointers():
        if do_push:
            if wr_ptr == LAST:
                wr_ptr.next = 0
            else:
                wr_ptr.next = wr_ptr + 1
        if do_pop:
            if rd_ptr == LAST:
                rd_ptr.next = 0
            else:
                rd_ptr.next = rd_ptr + 1
        if do_push and not do_pop:
            count.next = count + 1
        elif do_pop and not do_push:
            count.next = count - 1

    @always_comb
    def outputs():
        dout_o.next = mem[rd_ptr]
        full_o.next = count == depth
        empty_o.next = count == 0
        level_o.next = count

    return handshake, write, pointers, outputs
