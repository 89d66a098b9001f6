"""host_if: the die's host interface (DESIGN §1).

AXI4-Lite slave onto the register bus, the command queue behind the doorbell, the
completion queue, the interrupt line and the AXI4-Stream ingress/egress queues.
"""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, modbv, concat

from golden.kv1_regs import ADDR_WIDTH, DATA_WIDTH, OPCODE, STATUS
from golden.session import MANAGEMENT_DOMAIN
from hdl.common.fifo import fifo

RESP_OKAY = 0
RESP_SLVERR = 2
# the perf events host_if raises, in PERF_EVENTS order (hepc raises the others)
HOST_IF_EVENTS = ("CMD_SUBMITTED", "CMD_COMPLETED", "CMD_ERRORS", "BUS_WRITES", "BUS_READS",
                  "BUS_ERRORS", "AXIS_IN_BEATS", "AXIS_OUT_BEATS")


@block
def host_if(params, clk_i, rst_ni,
            s_axil_awvalid, s_axil_awready, s_axil_awaddr, s_axil_awuser,
            s_axil_wvalid, s_axil_wready, s_axil_wdata, s_axil_wstrb,
            s_axil_bvalid, s_axil_bready, s_axil_bresp,
            s_axil_arvalid, s_axil_arready, s_axil_araddr, s_axil_aruser,
            s_axil_rvalid, s_axil_rready, s_axil_rdata, s_axil_rresp,
            s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tlast, s_axis_tuser,
            m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tlast,
            irq_o,
            reg_req_o, reg_we_o, reg_addr_o, reg_wdata_o, reg_wstrb_o, reg_mgmt_o, reg_rdata_i, reg_err_i, rd_domain_o,
            doorbell_we_i, doorbell_opcode_i, doorbell_session_i, arg0_i, arg1_layer_i,
            arg1_head_i, arg1_heads_i, arg2_i,
            step_we_i, step_i,
            cmdq_full_o, cmdq_level_o, next_fence_o,
            cmd_valid_o, cmd_pop_i, cmd_opcode_o, cmd_session_o, cmd_domain_o, cmd_fence_o, cmd_arg0_o,
            cmd_arg1_o, cmd_arg2_o, cmd_stamp_o, cmd_now_o,
            cpl_push_i, cpl_full_o, cpl_fence_i, cpl_status_i, cpl_opcode_i, cpl_session_i, cpl_bytes_i,
            cpl_pop_i, cpl_empty_o, cpl_count_o,
            cpl_head_fence_o, cpl_head_status_o, cpl_head_opcode_o, cpl_head_session_o, cpl_head_bytes_o,
            irq_status_cpl_i, irq_status_err_i, irq_enable_cpl_i, irq_enable_err_i,
            irq_test_cpl_i, irq_test_err_i, irq_set_cpl_o, irq_set_err_o,
            rx_valid_o, rx_pop_i, rx_data_o, rx_last_o, rx_domain_o,
            tx_push_i, tx_full_o, tx_data_i, tx_last_i, rx_level_o, tx_level_o,
            events_o):
    """One register access at a time: AW and W are accepted independently (one of
    each may wait while a write response is pending), a write is issued once both
    are held, and a write wins over a read that is ready in the same cycle. B and R
    stay valid until accepted. s_axil_awuser, held with the address, is the requester domain a
    doorbell queues with its command, and a write of the management domain (0) may change a
    privileged register (reg_mgmt_o); s_axil_aruser, held with the read's address, is the read's
    (rd_domain_o, for the directory window's guard). s_axis_tuser is a stream beat's requester
    domain: it queues with the beat (rx_domain_o), and only a command of that domain takes it."""
    assert len(s_axil_awaddr) == ADDR_WIDTH and len(s_axil_wdata) == DATA_WIDTH
    beat_bits = 8 * params.axis_bytes
    assert len(s_axis_tdata) == beat_bits and len(m_axis_tdata) == beat_bits
    assert len(s_axis_tuser) == len(rx_domain_o) == len(s_axil_awuser)

    # ---------------------------------------------------------------- AXI4-Lite
    aw_held = Signal(bool(0))
    aw_addr = Signal(intbv(0)[ADDR_WIDTH:])
    aw_user = Signal(intbv(0)[len(s_axil_awuser):])
    w_held = Signal(bool(0))
    w_data = Signal(intbv(0)[DATA_WIDTH:])
    w_strb = Signal(intbv(0)[DATA_WIDTH // 8:])
    ar_held = Signal(bool(0))
    ar_addr = Signal(intbv(0)[ADDR_WIDTH:])
    ar_user = Signal(intbv(0)[len(s_axil_aruser):])
    b_valid = Signal(bool(0))
    b_resp = Signal(intbv(0)[2:])
    r_valid = Signal(bool(0))
    r_data = Signal(intbv(0)[DATA_WIDTH:])
    r_resp = Signal(intbv(0)[2:])
    wr_go = Signal(bool(0))
    rd_go = Signal(bool(0))

    @always_comb
    def axil_issue():
        wr_go.next = aw_held and w_held and not b_valid
        rd_go.next = ar_held and not r_valid and not (aw_held and w_held and not b_valid)

    @always_comb
    def axil_outputs():
        s_axil_awready.next = not aw_held
        s_axil_wready.next = not w_held
        s_axil_arready.next = not ar_held
        s_axil_bvalid.next = b_valid
        s_axil_bresp.next = b_resp
        s_axil_rvalid.next = r_valid
        s_axil_rdata.next = r_data
        s_axil_rresp.next = r_resp
        reg_req_o.next = wr_go or rd_go
        reg_we_o.next = wr_go
        if wr_go:
            reg_addr_o.next = aw_addr
        else:
            reg_addr_o.next = ar_addr
        reg_wdata_o.next = w_data
        reg_wstrb_o.next = w_strb
        reg_mgmt_o.next = aw_user == MANAGEMENT_DOMAIN
        rd_domain_o.next = ar_user

    @always_seq(clk_i.posedge, reset=rst_ni)
    def axil_state():
        if s_axil_awvalid and not aw_held:
            aw_held.next = True
            aw_addr.next = s_axil_awaddr
            aw_user.next = s_axil_awuser
        if s_axil_wvalid and not w_held:
            w_held.next = True
            w_data.next = s_axil_wdata
            w_strb.next = s_axil_wstrb
        if s_axil_arvalid and not ar_held:
            ar_held.next = True
            ar_addr.next = s_axil_araddr
            ar_user.next = s_axil_aruser
        if wr_go:
            aw_held.next = False
            w_held.next = False
            b_valid.next = True
            b_resp.next = RESP_SLVERR if reg_err_i else RESP_OKAY
        elif b_valid and s_axil_bready:
            b_valid.next = False
        if rd_go:
            ar_held.next = False
            r_valid.next = True
            r_resp.next = RESP_SLVERR if reg_err_i else RESP_OKAY
            r_data.next = 0 if reg_err_i else reg_rdata_i
        elif r_valid and s_axil_rready:
            r_valid.next = False

    # ------------------------------------------------------------ command queue
    # a doorbell, or a STEP_ADVANCE register write (the step in ARG0, session 0), with the write's domain
    DOM = len(s_axil_awuser)
    fence = Signal(modbv(0)[16:])
    # and the cycle it came (cmd_now_o counts cycles): how long it waited, for cmdproc
    now = Signal(modbv(0)[len(cmd_now_o):])
    STAMP = len(cmd_now_o)
    cmd_in = Signal(intbv(0)[8 + 16 + 16 + 32 + 24 + 32 + DOM + STAMP:])
    cmd_out = Signal(intbv(0)[len(cmd_in):])
    cmd_empty = Signal(bool(0))
    cmd_push = Signal(bool(0))
    u_cmdq = fifo(clk_i, rst_ni, cmd_push, cmd_in, cmdq_full_o, cmd_pop_i, cmd_out, cmd_empty,
                  cmdq_level_o, depth=params.cmdq_depth)

    @always_comb
    def cmd_pack():
        cmd_push.next = doorbell_we_i or step_we_i
        if step_we_i:
            cmd_in.next = concat(now, aw_user, intbv(0)[56:], step_i, fence, intbv(0)[16:],
                                 intbv(OPCODE.STEP_ADVANCE)[8:])
        else:
            cmd_in.next = concat(now, aw_user, arg2_i, arg1_heads_i, arg1_head_i, arg1_layer_i, arg0_i, fence,
                                 doorbell_session_i, doorbell_opcode_i)

    @always_comb
    def cmd_unpack():
        cmd_valid_o.next = not cmd_empty
        cmd_opcode_o.next = cmd_out[8:0]
        cmd_session_o.next = cmd_out[24:8]
        cmd_fence_o.next = cmd_out[40:24]
        cmd_arg0_o.next = cmd_out[72:40]
        cmd_arg1_o.next = cmd_out[96:72]
        cmd_arg2_o.next = cmd_out[128:96]
        cmd_domain_o.next = cmd_out[128 + DOM:128]
        cmd_stamp_o.next = cmd_out[128 + DOM + STAMP:128 + DOM]
        next_fence_o.next = fence

    @always_seq(clk_i.posedge, reset=rst_ni)
    def fence_counter():
        if cmd_push:
            fence.next = fence + 1

    @always_seq(clk_i.posedge, reset=rst_ni)
    def cycles():
        now.next = now + 1

    @always_comb
    def cycle_out():
        cmd_now_o.next = now

    # --------------------------------------------------------- completion queue
    cpl_in = Signal(intbv(0)[16 + 8 + 8 + 16 + 32:])
    cpl_out = Signal(intbv(0)[len(cpl_in):])
    cpl_head = Signal(intbv(0)[len(cpl_in):])
    u_cplq = fifo(clk_i, rst_ni, cpl_push_i, cpl_in, cpl_full_o, cpl_pop_i, cpl_out, cpl_empty_o,
                  cpl_count_o, depth=params.cplq_depth)

    @always_comb
    def cpl_pack():
        cpl_in.next = concat(cpl_bytes_i, cpl_session_i, cpl_opcode_i, cpl_status_i, cpl_fence_i)

    @always_comb
    def cpl_unpack():
        # an empty queue reads as all zero, not as a stale entry
        if cpl_empty_o:
            cpl_head.next = 0
        else:
            cpl_head.next = cpl_out
        cpl_head_fence_o.next = cpl_head[16:0]
        cpl_head_status_o.next = cpl_head[24:16]
        cpl_head_opcode_o.next = cpl_head[32:24]
        cpl_head_session_o.next = cpl_head[48:32]
        cpl_head_bytes_o.next = cpl_head[80:48]

    # ------------------------------------------------------------------- IRQ
    cpl_posted = Signal(bool(0))

    @always_comb
    def cpl_accept():
        cpl_posted.next = cpl_push_i and not cpl_full_o

    @always_comb
    def irq_sources():
        irq_set_cpl_o.next = cpl_posted or irq_test_cpl_i
        irq_set_err_o.next = (cpl_posted and cpl_status_i != STATUS.OK) or irq_test_err_i

    @always_seq(clk_i.posedge, reset=rst_ni)
    def irq_line():
        irq_o.next = (irq_status_cpl_i and irq_enable_cpl_i) or (irq_status_err_i and irq_enable_err_i)

    # --------------------------------------------------------- stream queues
    rx_bits = beat_bits + 1 + len(s_axis_tuser)
    rx_in = Signal(intbv(0)[rx_bits:])
    rx_out = Signal(intbv(0)[rx_bits:])
    rx_full = Signal(bool(0))
    rx_empty = Signal(bool(0))
    rx_push = Signal(bool(0))
    u_rxq = fifo(clk_i, rst_ni, rx_push, rx_in, rx_full, rx_pop_i, rx_out, rx_empty, rx_level_o,
                 depth=params.axis_fifo_depth)
    tx_in = Signal(intbv(0)[beat_bits + 1:])
    tx_out = Signal(intbv(0)[beat_bits + 1:])
    tx_empty = Signal(bool(0))
    tx_pop = Signal(bool(0))
    u_txq = fifo(clk_i, rst_ni, tx_push_i, tx_in, tx_full_o, tx_pop, tx_out, tx_empty, tx_level_o,
                 depth=params.axis_fifo_depth)

    @always_comb
    def streams():
        s_axis_tready.next = not rx_full
        rx_push.next = s_axis_tvalid and not rx_full
        rx_in.next = concat(s_axis_tuser, s_axis_tlast, s_axis_tdata)
        rx_valid_o.next = not rx_empty
        rx_data_o.next = rx_out[beat_bits:0]
        rx_last_o.next = rx_out[beat_bits]
        rx_domain_o.next = rx_out[rx_bits:beat_bits + 1]
        tx_in.next = concat(tx_last_i, tx_data_i)
        m_axis_tvalid.next = not tx_empty
        m_axis_tdata.next = tx_out[beat_bits:0]
        m_axis_tlast.next = tx_out[beat_bits]
        tx_pop.next = m_axis_tready and not tx_empty

    # ------------------------------------------------------------ perf events
    ev_cmd_errors = Signal(bool(0))
    ev_bus_errors = Signal(bool(0))
    event = {"CMD_SUBMITTED": cmd_push, "CMD_COMPLETED": cpl_posted, "CMD_ERRORS": ev_cmd_errors,
             "BUS_WRITES": wr_go, "BUS_READS": rd_go, "BUS_ERRORS": ev_bus_errors,
             "AXIS_IN_BEATS": rx_push, "AXIS_OUT_BEATS": tx_pop}
    assert set(event) == set(HOST_IF_EVENTS) and len(events_o) == len(HOST_IF_EVENTS)
    # bit k of events_o is HOST_IF_EVENTS[k]
    packed_events = ConcatSignal(*reversed([event[name] for name in HOST_IF_EVENTS]))

    @always_comb
    def events():
        ev_cmd_errors.next = cpl_posted and cpl_status_i != STATUS.OK
        ev_bus_errors.next = (wr_go or rd_go) and reg_err_i
        events_o.next = packed_events

    return (axil_issue, axil_outputs, axil_state, u_cmdq, cmd_pack, cmd_unpack, fence_counter, cycles, cycle_out,
            u_cplq, cpl_pack, cpl_unpack, cpl_accept, irq_sources, irq_line, u_rxq, u_txq, streams, events)
