"""Memories without a reset (they map to block RAM): one or two read ports, and the sweep that clears
them after reset."""
from myhdl import block, always, always_comb, always_seq, Signal, intbv


@block
def ram(clk_i, we_i, waddr_i, wdata_i, raddr_i, rdata_o, depth, registered=False):
    """`depth` words of len(wdata_i) bits, no reset (so that it maps to memory). With
    `registered`, rdata_o shows the word raddr_i named at the last rising edge (block RAM);
    otherwise the word raddr_i names now (distributed RAM or flops)."""
    if depth < 2 or 1 << len(waddr_i) < depth or 1 << len(raddr_i) < depth:
        raise ValueError(f"ram: {depth} words need {(depth - 1).bit_length()} address bits")
    mem = [Signal(intbv(0)[len(wdata_i):]) for _ in range(depth)]

    @always(clk_i.posedge)
    def write():
        if we_i:
            mem[waddr_i].next = wdata_i

    if registered:
        @always(clk_i.posedge)
        def read():
            rdata_o.next = mem[raddr_i]
    else:
        @always_comb
        def read():
            rdata_o.next = mem[raddr_i]

    return write, read


@block
def ram_two_reads(clk_i, we_i, waddr_i, wdata_i, raddr_i, rdata_o, raddr2_i, rdata2_o, depth,
                  ren2_i=None, ren3_i=None, raddr3_i=None, rdata3_o=None):
    """`depth` words, one write port and two synchronous read ports (a table's engine and its
    software window: block RAM in true dual-port mode). rdata2_o may be narrower than a word:
    it shows the word's low bits. With ren2_i, the second port reads only while it is high (a
    window read again only when its address or the memory may have changed: a simulator then
    copies nothing on the other cycles). A third read port, read only while ren3_i is high, serves
    another such window. No reset: the owner clears the words after reset."""
    if depth < 2 or 1 << len(waddr_i) < depth:
        raise ValueError(f"ram_two_reads: {depth} words need {(depth - 1).bit_length()} address bits")
    mem = [Signal(intbv(0)[len(wdata_i):]) for _ in range(depth)]
    WIDTH2 = len(rdata2_o)

    if ren2_i is None:
        @always(clk_i.posedge)
        def ports():
            if we_i:
                mem[waddr_i].next = wdata_i
            rdata_o.next = mem[raddr_i]
            rdata2_o.next = mem[raddr2_i][WIDTH2:]
    else:
        @always(clk_i.posedge)
        def ports():
            if we_i:
                mem[waddr_i].next = wdata_i
            rdata_o.next = mem[raddr_i]
            if ren2_i:
                rdata2_o.next = mem[raddr2_i][WIDTH2:]

    if ren3_i is None:
        return ports

    @always(clk_i.posedge)
    def third():
        if ren3_i:
            rdata3_o.next = mem[raddr3_i]

    return ports, third


@block
def reset_sweep(clk_i, rst_ni, clearing_o, index_o, depth):
    """After reset, index_o counts 0 .. depth - 1, one word per cycle, with clearing_o high (its
    signal starts high): the owner writes zeros there, so memories without a reset start clear."""
    LAST = depth - 1

    @always_seq(clk_i.posedge, reset=rst_ni)
    def sweep():
        if clearing_o:
            if index_o == LAST:
                clearing_o.next = False
                index_o.next = 0
            else:
                index_o.next = index_o + 1

    return sweep
