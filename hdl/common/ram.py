"""A simple dual-port RAM: one write port, one read port (combinational or registered)."""
from myhdl import block, always, always_comb, Signal, intbv


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
