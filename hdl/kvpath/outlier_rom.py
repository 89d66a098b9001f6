"""The outlier ROM (DESIGN §5): CQ-4+'s outlier channels per (layer, kv_head), written and read by
software through CQ_ROM_INDEX / CQ_ROM_WRITE / CQ_ROM_DATA, read by KV_APPEND. Two copies, so the
register's read port and the append's never wait for each other (golden: KvPath.rom)."""
from myhdl import block, always_comb, Signal, intbv, concat

from hdl.common.ram import ram


@block
def outlier_rom(params, clk_i, index_i, we_i, ch0_i, ch1_i, ch2_i, ch3_i, data_o, busy_o, append_index_i,
                entry_o):
    """index_i: the register's entry (busy_o, no write and data 0 beyond the ROM); we_i writes the
    four channels there. entry_o: the entry at append_index_i (both reads combinational: a ROM of
    cq_rom_entries words is distributed RAM)."""
    ROMS = params.cq_rom_entries
    RB = (ROMS - 1).bit_length() if ROMS > 1 else 1
    raddr, waddr = Signal(intbv(0)[RB:]), Signal(intbv(0)[RB:])
    write, wdata, reg_data = Signal(bool(0)), Signal(intbv(0)[32:]), Signal(intbv(0)[32:])
    u_append = ram(clk_i, write, waddr, wdata, raddr, entry_o, depth=max(ROMS, 2))
    u_register = ram(clk_i, write, waddr, wdata, waddr, reg_data, depth=max(ROMS, 2))

    @always_comb
    def ports():
        wdata.next = concat(ch3_i, ch2_i, ch1_i, ch0_i)
        waddr.next = index_i[RB:]
        write.next = we_i and index_i < ROMS
        busy_o.next = index_i >= ROMS
        if index_i < ROMS:
            data_o.next = reg_data
        else:
            data_o.next = 0
        raddr.next = append_index_i[RB:]

    return u_append, u_register, ports
