"""The KV-1 die top: a structural netlist of the blocks (DESIGN §1).

Simulated in MyHDL it runs the real blocks; converted it instantiates the blocks'
own Verilog modules (see hdl.common.instance).
"""
from myhdl import block, Signal, ResetSignal, intbv

from golden.kv1_regs import ADDR_WIDTH, DATA_WIDTH, PERF_EVENTS
from hdl.cmdproc.cmdproc import cmdproc
from hdl.common.instance import as_instance, block_ports
from hdl.host_if.host_if import host_if
from hdl.perf.perf import perf
from hdl.regs.kv1_regs import kv1_regs


def die_port_signals(params):
    """Fresh signals for every port of kv1_die, keyed by port name."""
    beat = 8 * params.axis_bytes
    widths = {
        "s_axil_awaddr": ADDR_WIDTH, "s_axil_araddr": ADDR_WIDTH,
        "s_axil_wdata": DATA_WIDTH, "s_axil_rdata": DATA_WIDTH, "s_axil_wstrb": DATA_WIDTH // 8,
        "s_axil_bresp": 2, "s_axil_rresp": 2, "s_axis_tdata": beat, "m_axis_tdata": beat,
    }
    sigs = {}
    for name in block_ports(kv1_die):
        if name == "rst_ni":
            sigs[name] = ResetSignal(0, active=0, isasync=True)
        elif name in widths:
            sigs[name] = Signal(intbv(0)[widths[name]:])
        else:
            sigs[name] = Signal(bool(0))
    return sigs


def _bits(n):
    return Signal(bool(0)) if n == 1 else Signal(intbv(0)[n:])


@block
def kv1_die(params, clk_i, rst_ni,
            s_axil_awvalid, s_axil_awready, s_axil_awaddr,
            s_axil_wvalid, s_axil_wready, s_axil_wdata, s_axil_wstrb,
            s_axil_bvalid, s_axil_bready, s_axil_bresp,
            s_axil_arvalid, s_axil_arready, s_axil_araddr,
            s_axil_rvalid, s_axil_rready, s_axil_rdata, s_axil_rresp,
            s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tlast,
            m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tlast,
            irq_o):
    beat = 8 * params.axis_bytes
    # register bus: host_if -> regs
    reg_req, reg_we, reg_err = _bits(1), _bits(1), _bits(1)
    reg_addr, reg_wdata, reg_wstrb, reg_rdata = (_bits(ADDR_WIDTH), _bits(DATA_WIDTH),
                                                 _bits(DATA_WIDTH // 8), _bits(DATA_WIDTH))
    # command path
    cmd_arg0 = _bits(32)
    doorbell_we, doorbell_opcode, doorbell_session = _bits(1), _bits(8), _bits(16)
    cmdq_full, cmdq_level, next_fence = _bits(1), _bits(8), _bits(16)
    cmd_valid, cmd_pop, cmd_opcode, cmd_session, cmd_fence, cmd_q_arg0 = (
        _bits(1), _bits(1), _bits(8), _bits(16), _bits(16), _bits(32))
    # completion path
    cpl_push, cpl_full, cpl_fence, cpl_status, cpl_opcode, cpl_session, cpl_bytes = (
        _bits(1), _bits(1), _bits(16), _bits(8), _bits(8), _bits(16), _bits(32))
    cpl_pop, cpl_empty, cpl_count = _bits(1), _bits(1), _bits(8)
    cpl_head_fence, cpl_head_status, cpl_head_opcode, cpl_head_session, cpl_head_bytes = (
        _bits(16), _bits(8), _bits(8), _bits(16), _bits(32))
    # interrupts
    irq_status_cpl, irq_status_err, irq_enable_cpl, irq_enable_err = _bits(1), _bits(1), _bits(1), _bits(1)
    irq_test_cpl, irq_test_err, irq_set_cpl, irq_set_err = _bits(1), _bits(1), _bits(1), _bits(1)
    # stream queues
    rx_valid, rx_pop, rx_data, rx_last = _bits(1), _bits(1), _bits(beat), _bits(1)
    tx_push, tx_full, tx_data, tx_last = _bits(1), _bits(1), _bits(beat), _bits(1)
    rx_level, tx_level = _bits(8), _bits(8)
    # performance counters
    perf_snapshot, perf_clear = _bits(1), _bits(1)
    perf_cycle, perf_count = _bits(64), _bits(32 * len(PERF_EVENTS))
    events = _bits(len(PERF_EVENTS))

    u_host_if = as_instance(host_if(
        params, clk_i=clk_i, rst_ni=rst_ni,
        s_axil_awvalid=s_axil_awvalid, s_axil_awready=s_axil_awready, s_axil_awaddr=s_axil_awaddr,
        s_axil_wvalid=s_axil_wvalid, s_axil_wready=s_axil_wready, s_axil_wdata=s_axil_wdata,
        s_axil_wstrb=s_axil_wstrb, s_axil_bvalid=s_axil_bvalid, s_axil_bready=s_axil_bready,
        s_axil_bresp=s_axil_bresp, s_axil_arvalid=s_axil_arvalid, s_axil_arready=s_axil_arready,
        s_axil_araddr=s_axil_araddr, s_axil_rvalid=s_axil_rvalid, s_axil_rready=s_axil_rready,
        s_axil_rdata=s_axil_rdata, s_axil_rresp=s_axil_rresp,
        s_axis_tvalid=s_axis_tvalid, s_axis_tready=s_axis_tready, s_axis_tdata=s_axis_tdata,
        s_axis_tlast=s_axis_tlast, m_axis_tvalid=m_axis_tvalid, m_axis_tready=m_axis_tready,
        m_axis_tdata=m_axis_tdata, m_axis_tlast=m_axis_tlast, irq_o=irq_o,
        reg_req_o=reg_req, reg_we_o=reg_we, reg_addr_o=reg_addr, reg_wdata_o=reg_wdata,
        reg_wstrb_o=reg_wstrb, reg_rdata_i=reg_rdata, reg_err_i=reg_err,
        doorbell_we_i=doorbell_we, doorbell_opcode_i=doorbell_opcode, doorbell_session_i=doorbell_session,
        cmd_arg0_i=cmd_arg0, cmdq_full_o=cmdq_full, cmdq_level_o=cmdq_level, next_fence_o=next_fence,
        cmd_valid_o=cmd_valid, cmd_pop_i=cmd_pop, cmd_opcode_o=cmd_opcode, cmd_session_o=cmd_session,
        cmd_fence_o=cmd_fence, cmd_arg0_o=cmd_q_arg0,
        cpl_push_i=cpl_push, cpl_full_o=cpl_full, cpl_fence_i=cpl_fence, cpl_status_i=cpl_status,
        cpl_opcode_i=cpl_opcode, cpl_session_i=cpl_session, cpl_bytes_i=cpl_bytes,
        cpl_pop_i=cpl_pop, cpl_empty_o=cpl_empty, cpl_count_o=cpl_count,
        cpl_head_fence_o=cpl_head_fence, cpl_head_status_o=cpl_head_status,
        cpl_head_opcode_o=cpl_head_opcode, cpl_head_session_o=cpl_head_session,
        cpl_head_bytes_o=cpl_head_bytes,
        irq_status_cpl_i=irq_status_cpl, irq_status_err_i=irq_status_err,
        irq_enable_cpl_i=irq_enable_cpl, irq_enable_err_i=irq_enable_err,
        irq_test_cpl_i=irq_test_cpl, irq_test_err_i=irq_test_err,
        irq_set_cpl_o=irq_set_cpl, irq_set_err_o=irq_set_err,
        rx_valid_o=rx_valid, rx_pop_i=rx_pop, rx_data_o=rx_data, rx_last_o=rx_last,
        tx_push_i=tx_push, tx_full_o=tx_full, tx_data_i=tx_data, tx_last_i=tx_last,
        rx_level_o=rx_level, tx_level_o=tx_level,
        events_o=events), "u_host_if")

    u_regs = as_instance(kv1_regs(
        params, clk_i=clk_i, rst_ni=rst_ni,
        reg_req_i=reg_req, reg_we_i=reg_we, reg_addr_i=reg_addr, reg_wdata_i=reg_wdata,
        reg_wstrb_i=reg_wstrb, reg_rdata_o=reg_rdata, reg_err_o=reg_err,
        cmd_doorbell_busy_i=cmdq_full, cmd_status_level_i=cmdq_level, cmd_status_next_fence_i=next_fence,
        stream_status_rx_level_i=rx_level, stream_status_tx_level_i=tx_level,
        cpl_session_session_i=cpl_head_session, cpl_status_count_i=cpl_count,
        cpl_head_fence_i=cpl_head_fence, cpl_head_status_i=cpl_head_status,
        cpl_head_opcode_i=cpl_head_opcode, cpl_bytes_bytes_i=cpl_head_bytes, cpl_pop_busy_i=cpl_empty,
        irq_status_cpl_set_i=irq_set_cpl, irq_status_err_set_i=irq_set_err,
        perf_cycle_i=perf_cycle, perf_count_i=perf_count,
        cmd_arg0_value_o=cmd_arg0,
        cmd_doorbell_we_o=doorbell_we, cmd_doorbell_opcode_o=doorbell_opcode,
        cmd_doorbell_session_o=doorbell_session, cpl_pop_we_o=cpl_pop,
        irq_status_cpl_o=irq_status_cpl, irq_status_err_o=irq_status_err,
        irq_enable_cpl_o=irq_enable_cpl, irq_enable_err_o=irq_enable_err,
        irq_test_cpl_o=irq_test_cpl, irq_test_err_o=irq_test_err,
        perf_ctrl_snapshot_o=perf_snapshot, perf_ctrl_clear_o=perf_clear), "u_regs")

    u_cmdproc = as_instance(cmdproc(
        params, clk_i=clk_i, rst_ni=rst_ni,
        cmd_valid_i=cmd_valid, cmd_pop_o=cmd_pop, cmd_opcode_i=cmd_opcode, cmd_session_i=cmd_session,
        cmd_fence_i=cmd_fence, cmd_arg0_i=cmd_q_arg0,
        cpl_push_o=cpl_push, cpl_full_i=cpl_full, cpl_fence_o=cpl_fence, cpl_status_o=cpl_status,
        cpl_opcode_o=cpl_opcode, cpl_session_o=cpl_session, cpl_bytes_o=cpl_bytes,
        rx_valid_i=rx_valid, rx_pop_o=rx_pop, rx_data_i=rx_data, rx_last_i=rx_last,
        tx_push_o=tx_push, tx_full_i=tx_full, tx_data_o=tx_data, tx_last_o=tx_last), "u_cmdproc")

    u_perf = as_instance(perf(
        clk_i=clk_i, rst_ni=rst_ni, events_i=events,
        snapshot_i=perf_snapshot, clear_i=perf_clear, cycle_o=perf_cycle, count_o=perf_count), "u_perf")

    return u_host_if, u_regs, u_cmdproc, u_perf
