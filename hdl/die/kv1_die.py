"""The KV-1 die top: a structural netlist of the blocks (DESIGN §1).

Simulated in MyHDL it runs the real blocks; converted it instantiates the blocks'
own Verilog modules (see hdl.common.instance).
"""
from myhdl import block

from golden import kv1_regs as R
from golden.kv1_regs import ADDR_WIDTH, DATA_WIDTH, PERF_EVENTS
from golden.policy_engine import BLOCK_INDEX_BITS
from golden.rtbd import ENTRY_LAYOUT, SLOT_BYTES
from golden.dma import TAG_BITS, TIERS as TIER_PORTS
from hdl.cmdproc.cmdproc import cmdproc
from hdl.dma.dma import dma, dma_port_signals, DMA_EVENTS, MOVE_WORDS, TIER_PORT_NAMES
from hdl.common.instance import as_instance, name_wires, port_signals, signal
from hdl.hepc.hepc import hepc, HEPC_EVENTS
from hdl.host_if.host_if import host_if, HOST_IF_EVENTS
from hdl.kvce.kvce_dec import kvce_dec, dec_port_signals
from hdl.kvce.kvce_enc import kvce_enc, enc_port_signals
from golden.kvpath import codec_params, tier_addr_bits
from hdl.kvpath.kvpath import kvpath, KV_AMOUNTS
from hdl.perf.perf import perf, kv_amount_bits
from hdl.regs.kv1_regs import kv1_regs
from hdl.rtbd.rtbd import rtbd, WORD_BITS

ENTRY_FIELD_BITS = dict(ENTRY_LAYOUT)
KV_PATH_AMOUNTS = ("KV_BYTES_IN", "KV_BYTES_STORED", "FETCH_BYTES_READ", "FETCH_BYTES_OUT", "STORE_TIMEOUTS")
LATE_EVENTS = ("LATE_ANSWERS",)
assert HOST_IF_EVENTS + HEPC_EVENTS + KV_PATH_AMOUNTS + DMA_EVENTS + MOVE_WORDS + LATE_EVENTS == tuple(PERF_EVENTS), \
    "perf counters: host_if's events, hepc's, kvpath's amounts (bytes, store timeouts), the dma's events, the moves' words, the late answers"
assert len(KV_PATH_AMOUNTS) == KV_AMOUNTS


def field(reg, name=None):
    """The width of register `reg`'s field `name` (of all its fields without one): the width of
    the wire that carries it."""
    return sum(f.width for f in R.BY_NAME[reg].fields if name in (None, f.name))


def flag():
    """A one-bit wire (valid, ready, a pulse)."""
    return signal(1)


def die_port_signals(params):
    """Fresh signals for every port of kv1_die, keyed by port name."""
    beat = 8 * params.axis_bytes
    widths = {
        "s_axil_awaddr": ADDR_WIDTH, "s_axil_araddr": ADDR_WIDTH,
        "s_axil_wdata": DATA_WIDTH, "s_axil_rdata": DATA_WIDTH, "s_axil_wstrb": DATA_WIDTH // 8,
        "s_axil_bresp": 2, "s_axil_rresp": 2, "s_axis_tdata": beat, "m_axis_tdata": beat,
    }
    for tier in TIER_PORTS:      # every tier: a slot per entry, the hot tier's layout
        widths.update({f"{tier}_wr_addr_o": tier_addr_bits(params), f"{tier}_rd_addr_o": tier_addr_bits(params),
                       f"{tier}_wr_data_o": 8 * params.cq_lanes, f"{tier}_rsp_data_i": 8 * params.cq_lanes,
                       f"{tier}_wr_tag_o": TAG_BITS, f"{tier}_wr_ack_tag_i": TAG_BITS,
                       f"{tier}_rd_tag_o": TAG_BITS, f"{tier}_rsp_tag_i": TAG_BITS})
    return port_signals(kv1_die, widths)


@block
def kv1_die(params, clk_i, rst_ni,
            s_axil_awvalid, s_axil_awready, s_axil_awaddr,
            s_axil_wvalid, s_axil_wready, s_axil_wdata, s_axil_wstrb,
            s_axil_bvalid, s_axil_bready, s_axil_bresp,
            s_axil_arvalid, s_axil_arready, s_axil_araddr,
            s_axil_rvalid, s_axil_rready, s_axil_rdata, s_axil_rresp,
            s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tlast,
            m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tlast,
            hot_wr_valid_o, hot_wr_ready_i, hot_wr_addr_o, hot_wr_data_o, hot_wr_tag_o, hot_wr_ack_i,
            hot_wr_ack_tag_i, hot_rd_valid_o, hot_rd_ready_i, hot_rd_addr_o, hot_rd_tag_o, hot_rsp_valid_i,
            hot_rsp_tag_i, hot_rsp_data_i,
            warm_wr_valid_o, warm_wr_ready_i, warm_wr_addr_o, warm_wr_data_o, warm_wr_tag_o, warm_wr_ack_i,
            warm_wr_ack_tag_i, warm_rd_valid_o, warm_rd_ready_i, warm_rd_addr_o, warm_rd_tag_o, warm_rsp_valid_i,
            warm_rsp_tag_i, warm_rsp_data_i,
            cold_wr_valid_o, cold_wr_ready_i, cold_wr_addr_o, cold_wr_data_o, cold_wr_tag_o, cold_wr_ack_i,
            cold_wr_ack_tag_i, cold_rd_valid_o, cold_rd_ready_i, cold_rd_addr_o, cold_rd_tag_o, cold_rsp_valid_i,
            cold_rsp_tag_i, cold_rsp_data_i,
            irq_o):
    beat = 8 * params.axis_bytes
    # the widths: the register map's fields (what each wire carries), the directory entry's, the set's
    op, sess, fence = field("CMD_DOORBELL", "OPCODE"), field("CMD_DOORBELL", "SESSION"), field("CPL_HEAD", "FENCE")
    arg0, arg1, arg2 = field("CMD_ARG0"), field("CMD_ARG1"), field("CMD_ARG2")
    key_arg1 = field("CMD_ARG1", "LAYER") + field("CMD_ARG1", "KV_HEAD")     # a block key's layer and kv_head
    status, nbytes = field("CPL_HEAD", "STATUS"), field("CPL_BYTES")
    # register bus: host_if -> regs
    reg_req, reg_we, reg_err = flag(), flag(), flag()
    reg_addr, reg_wdata, reg_wstrb, reg_rdata = (signal(ADDR_WIDTH), signal(DATA_WIDTH),
                                                 signal(DATA_WIDTH // 8), signal(DATA_WIDTH))
    # command path
    cmd_arg0, cmd_arg2 = signal(arg0), signal(arg2)
    cmd_arg1_layer, cmd_arg1_head, cmd_arg1_heads = (signal(field("CMD_ARG1", f)) for f in ("LAYER", "KV_HEAD", "HEADS"))
    step_we, step_value = flag(), signal(field("STEP_ADVANCE"))
    cmd_q_arg1, cmd_q_arg2 = signal(arg1), signal(arg2)
    doorbell_we, doorbell_opcode, doorbell_session = flag(), signal(op), signal(sess)
    cmdq_full, cmdq_level, next_fence = flag(), signal(field("CMD_STATUS", "LEVEL")), signal(fence)
    cmd_valid, cmd_pop, cmd_opcode, cmd_session, cmd_fence, cmd_q_arg0 = (
        flag(), flag(), signal(op), signal(sess), signal(fence), signal(arg0))
    # completion path
    cpl_push, cpl_full, cpl_fence, cpl_status, cpl_opcode, cpl_session, cpl_bytes = (
        flag(), flag(), signal(fence), signal(status), signal(op), signal(sess), signal(nbytes))
    cpl_pop, cpl_empty, cpl_count = flag(), flag(), signal(field("CPL_STATUS", "COUNT"))
    cpl_head_fence, cpl_head_status, cpl_head_opcode, cpl_head_session, cpl_head_bytes = (
        signal(fence), signal(status), signal(op), signal(sess), signal(nbytes))
    # interrupts
    irq_status_cpl, irq_status_err, irq_enable_cpl, irq_enable_err = flag(), flag(), flag(), flag()
    irq_test_cpl, irq_test_err, irq_set_cpl, irq_set_err = flag(), flag(), flag(), flag()
    # stream queues
    rx_valid, rx_pop, rx_data, rx_last = flag(), flag(), signal(beat), flag()
    tx_push, tx_full, tx_data, tx_last = flag(), flag(), signal(beat), flag()
    rx_level, tx_level = signal(field("STREAM_STATUS", "RX_LEVEL")), signal(field("STREAM_STATUS", "TX_LEVEL"))
    # performance counters
    perf_snapshot, perf_clear = flag(), flag()
    perf_cycle, perf_count = signal(2 * DATA_WIDTH), signal(DATA_WIDTH * len(PERF_EVENTS))
    host_events, hepc_events = signal(len(HOST_IF_EVENTS)), signal(len(HEPC_EVENTS))
    # policy engine: cmdproc -> hepc, hepc <-> rtbd, registers
    pol_req, pol_done, pol_opcode, pol_session, pol_arg0, pol_arg1, pol_arg2, pol_status = (
        flag(), flag(), signal(op), signal(sess), signal(arg0), signal(key_arg1), signal(arg2), signal(status))
    w_r, w_f, w_s, w_d = (signal(field("HEPC_WEIGHTS", f)) for f in ("W_R", "W_F", "W_S", "W_D"))
    window, horizon = signal(field("HEPC_CTRL", "WINDOW")), signal(field("HEPC_CTRL", "HORIZON"))
    high, low = signal(field("HEPC_WATERMARKS", "HIGH")), signal(field("HEPC_WATERMARKS", "LOW"))
    threshold = signal(field("HEPC_THRESHOLD"))
    set_bits = (params.dir_sets - 1).bit_length()
    dir_ready, hash_set, rd_set, wr_set = flag(), signal(set_bits), signal(set_bits), signal(set_bits)
    key_session, key_layer, key_head = (signal(ENTRY_FIELD_BITS[f]) for f in ("session", "layer", "kv_head"))
    key_block = signal(BLOCK_INDEX_BITS)
    rd_data, wr_data = signal(params.dir_ways * WORD_BITS), signal(params.dir_ways * WORD_BITS)
    match, free, wr_en = signal(params.dir_ways), signal(params.dir_ways), signal(params.dir_ways)
    win_index, win_data = signal(field("DIR_WIN_INDEX")), signal(8 * SLOT_BYTES)
    # the dma: kvpath's FETCH and STORE, hepc's moves and their completions, the tier ports
    dmap = dma_port_signals(params)
    tier_side = dict(locals())
    dmap.update({f"{tier}_{name}": tier_side[f"{tier}_{name}"] for tier in TIER_PORTS for name in TIER_PORT_NAMES})
    dmap.update(clk_i=clk_i, rst_ni=rst_ni)
    hepc_step = signal(field("HEPC_STEP"))
    hot, hints, decode = (signal(field("HEPC_STATUS", f)) for f in ("HOT", "HINTS", "DECODE"))
    entry_tier = signal(ENTRY_FIELD_BITS["tier"])   # the tier of the entry hepc last resolved (a fetch reads it there)
    dir_index = signal(field("DIR_WIN_INDEX"))       # an entry's index, as the window names it
    # KV path: cmdproc -> kvpath -> codec and hot tier; the codec's ports by name
    cp = codec_params(params)
    enc, dec = enc_port_signals(cp), dec_port_signals(cp)
    enc["clk_i"], enc["rst_ni"], dec["clk_i"], dec["rst_ni"] = clk_i, rst_ni, clk_i, rst_ni
    kv_req, kv_done, kv_opcode, kv_session, kv_arg0, kv_arg1, kv_arg2, kv_status, kv_bytes = (
        flag(), flag(), signal(op), signal(sess), signal(arg0), signal(arg1), signal(arg2), signal(status),
        signal(nbytes))
    kv_dir_req, kv_dir_opcode, kv_dir_session, kv_dir_arg0, kv_dir_arg1, kv_dir_arg2 = (
        flag(), signal(op), signal(sess), signal(arg0), signal(key_arg1), signal(arg2))
    codec_tier = ENTRY_FIELD_BITS["codec_tier"]
    kv_dir_probe, kv_dir_codec, kv_dir_shared = flag(), signal(codec_tier), flag()
    pol_probe, pol_codec, pol_shared = flag(), signal(codec_tier), flag()
    kv_rx_pop, kv_tx_push, kv_tx_data, kv_tx_last = flag(), flag(), signal(beat), flag()
    cq_mode, cq_outliers, cq_head_bits, cq_dim = (signal(field("CQ_CTRL", f)) for f in ("MODE", "OUTLIERS", "HEAD_BITS",
                                                                                       "DIM"))
    rom_index, rom_we, rom_data, rom_busy = signal(field("CQ_ROM_INDEX")), flag(), signal(field("CQ_ROM_DATA")), flag()
    rom_ch0, rom_ch1, rom_ch2, rom_ch3 = (signal(field("CQ_ROM_WRITE", f"CH{c}")) for c in range(4))
    kv_amounts = signal(KV_AMOUNTS * kv_amount_bits(params))
    name_wires(dma=dmap, enc=enc, dec=dec)

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
        cmd_arg0_i=cmd_arg0, cmd_arg1_layer_i=cmd_arg1_layer, cmd_arg1_head_i=cmd_arg1_head,
        cmd_arg1_heads_i=cmd_arg1_heads,
        cmd_arg2_i=cmd_arg2, step_we_i=step_we, step_i=step_value,
        cmdq_full_o=cmdq_full, cmdq_level_o=cmdq_level, next_fence_o=next_fence,
        cmd_valid_o=cmd_valid, cmd_pop_i=cmd_pop, cmd_opcode_o=cmd_opcode, cmd_session_o=cmd_session,
        cmd_fence_o=cmd_fence, cmd_arg0_o=cmd_q_arg0, cmd_arg1_o=cmd_q_arg1, cmd_arg2_o=cmd_q_arg2,
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
        events_o=host_events), "u_host_if")

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
        step_advance_busy_i=cmdq_full, hepc_step_step_i=hepc_step, hepc_status_hot_i=hot,
        hepc_status_hints_i=hints, hepc_status_decode_i=decode, dir_window_i=win_data,
        cq_rom_write_busy_i=rom_busy, cq_rom_data_channels_i=rom_data,
        perf_cycle_i=perf_cycle, perf_count_i=perf_count,
        cmd_arg0_value_o=cmd_arg0, cmd_arg1_layer_o=cmd_arg1_layer, cmd_arg1_kv_head_o=cmd_arg1_head,
        cmd_arg1_heads_o=cmd_arg1_heads,
        cmd_arg2_value_o=cmd_arg2, step_advance_we_o=step_we, step_advance_step_o=step_value,
        hepc_weights_w_r_o=w_r, hepc_weights_w_f_o=w_f, hepc_weights_w_s_o=w_s, hepc_weights_w_d_o=w_d,
        hepc_ctrl_window_o=window, hepc_ctrl_horizon_o=horizon, hepc_watermarks_high_o=high,
        hepc_watermarks_low_o=low, hepc_threshold_prefetch_o=threshold, dir_win_index_index_o=win_index,
        cq_ctrl_mode_o=cq_mode, cq_ctrl_outliers_o=cq_outliers, cq_ctrl_head_bits_o=cq_head_bits,
        cq_ctrl_dim_o=cq_dim, cq_rom_index_index_o=rom_index, cq_rom_write_we_o=rom_we,
        cq_rom_write_ch0_o=rom_ch0, cq_rom_write_ch1_o=rom_ch1, cq_rom_write_ch2_o=rom_ch2,
        cq_rom_write_ch3_o=rom_ch3,
        cmd_doorbell_we_o=doorbell_we, cmd_doorbell_opcode_o=doorbell_opcode,
        cmd_doorbell_session_o=doorbell_session, cpl_pop_we_o=cpl_pop,
        irq_status_cpl_o=irq_status_cpl, irq_status_err_o=irq_status_err,
        irq_enable_cpl_o=irq_enable_cpl, irq_enable_err_o=irq_enable_err,
        irq_test_cpl_o=irq_test_cpl, irq_test_err_o=irq_test_err,
        perf_ctrl_snapshot_o=perf_snapshot, perf_ctrl_clear_o=perf_clear,
        dma_watchdog_cycles_o=dmap["watchdog_i"]), "u_regs")

    u_cmdproc = as_instance(cmdproc(
        params, clk_i=clk_i, rst_ni=rst_ni,
        cmd_valid_i=cmd_valid, cmd_pop_o=cmd_pop, cmd_opcode_i=cmd_opcode, cmd_session_i=cmd_session,
        cmd_fence_i=cmd_fence, cmd_arg0_i=cmd_q_arg0, cmd_arg1_i=cmd_q_arg1, cmd_arg2_i=cmd_q_arg2,
        cpl_push_o=cpl_push, cpl_full_i=cpl_full, cpl_fence_o=cpl_fence, cpl_status_o=cpl_status,
        cpl_opcode_o=cpl_opcode, cpl_session_o=cpl_session, cpl_bytes_o=cpl_bytes,
        rx_valid_i=rx_valid, rx_pop_o=rx_pop, rx_data_i=rx_data, rx_last_i=rx_last,
        tx_push_o=tx_push, tx_full_i=tx_full, tx_data_o=tx_data, tx_last_o=tx_last,
        pol_req_o=pol_req, pol_opcode_o=pol_opcode, pol_session_o=pol_session, pol_arg0_o=pol_arg0,
        pol_arg1_o=pol_arg1, pol_arg2_o=pol_arg2, pol_done_i=pol_done, pol_status_i=pol_status,
        kv_req_o=kv_req, kv_opcode_o=kv_opcode, kv_session_o=kv_session, kv_arg0_o=kv_arg0, kv_arg1_o=kv_arg1,
        kv_arg2_o=kv_arg2, kv_done_i=kv_done, kv_status_i=kv_status, kv_bytes_i=kv_bytes,
        kv_dir_req_i=kv_dir_req, kv_dir_opcode_i=kv_dir_opcode, kv_dir_session_i=kv_dir_session,
        kv_dir_arg0_i=kv_dir_arg0, kv_dir_arg1_i=kv_dir_arg1, kv_dir_arg2_i=kv_dir_arg2,
        kv_dir_probe_i=kv_dir_probe, kv_dir_codec_i=kv_dir_codec, kv_dir_shared_i=kv_dir_shared,
        pol_probe_o=pol_probe, pol_codec_o=pol_codec, pol_shared_o=pol_shared,
        kv_rx_pop_i=kv_rx_pop, kv_tx_push_i=kv_tx_push, kv_tx_data_i=kv_tx_data, kv_tx_last_i=kv_tx_last),
        "u_cmdproc")

    u_rtbd = as_instance(rtbd(
        params, clk_i=clk_i, rst_ni=rst_ni, ready_o=dir_ready,
        key_session_i=key_session, key_layer_i=key_layer, key_head_i=key_head, key_block_i=key_block,
        hash_set_o=hash_set, rd_set_i=rd_set, rd_data_o=rd_data, match_o=match, free_o=free,
        wr_en_i=wr_en, wr_set_i=wr_set, wr_data_i=wr_data,
        win_index_i=win_index, win_data_o=win_data), "u_rtbd")

    u_hepc = as_instance(hepc(
        params, clk_i=clk_i, rst_ni=rst_ni,
        req_i=pol_req, opcode_i=pol_opcode, session_i=pol_session, arg0_i=pol_arg0, arg1_i=pol_arg1,
        arg2_i=pol_arg2, probe_i=pol_probe, codec_i=pol_codec, shared_i=pol_shared, done_o=pol_done,
        status_o=pol_status,
        index_o=dir_index,
        w_r_i=w_r, w_f_i=w_f, w_s_i=w_s, w_d_i=w_d, window_i=window, horizon_i=horizon,
        high_i=high, low_i=low, threshold_i=threshold,
        dir_ready_i=dir_ready, key_session_o=key_session, key_layer_o=key_layer, key_head_o=key_head,
        key_block_o=key_block, hash_set_i=hash_set, rd_set_o=rd_set, rd_data_i=rd_data, match_i=match,
        free_i=free, wr_en_o=wr_en, wr_set_o=wr_set, wr_data_o=wr_data,
        evq_pop_i=dmap["evq_pop_o"], evq_valid_o=dmap["evq_valid_i"], evq_entry_o=dmap["evq_entry_i"],
        evq_src_o=dmap["evq_src_i"], evq_dst_o=dmap["evq_dst_i"], pfq_pop_i=dmap["pfq_pop_o"],
        pfq_valid_o=dmap["pfq_valid_i"], pfq_entry_o=dmap["pfq_entry_i"], pfq_src_o=dmap["pfq_src_i"],
        pfq_dst_o=dmap["pfq_dst_i"],
        cpl_valid_i=dmap["cpl_valid_o"], cpl_entry_i=dmap["cpl_entry_o"], cpl_tier_i=dmap["cpl_tier_o"],
        cpl_timeout_i=dmap["cpl_timeout_o"], cpl_take_o=dmap["cpl_take_i"], moves_busy_i=dmap["busy_o"],
        tier_o=entry_tier, forget_o=dmap["forget_i"], forget_entry_o=dmap["forget_entry_i"],
        step_o=hepc_step, hot_o=hot, hints_o=hints, decode_o=decode, events_o=hepc_events), "u_hepc")

    u_kvpath = as_instance(kvpath(
        params, clk_i=clk_i, rst_ni=rst_ni,
        req_i=kv_req, opcode_i=kv_opcode, session_i=kv_session, arg0_i=kv_arg0, arg1_i=kv_arg1, arg2_i=kv_arg2,
        done_o=kv_done,
        status_o=kv_status, bytes_o=kv_bytes,
        mode_i=cq_mode, outliers_i=cq_outliers, head_bits_i=cq_head_bits, dim_i=cq_dim,
        rom_index_i=rom_index, rom_we_i=rom_we, rom_ch0_i=rom_ch0, rom_ch1_i=rom_ch1,
        rom_ch2_i=rom_ch2, rom_ch3_i=rom_ch3, rom_data_o=rom_data, rom_busy_o=rom_busy,
        dir_req_o=kv_dir_req, dir_opcode_o=kv_dir_opcode, dir_session_o=kv_dir_session, dir_arg0_o=kv_dir_arg0,
        dir_arg1_o=kv_dir_arg1, dir_arg2_o=kv_dir_arg2, dir_probe_o=kv_dir_probe, dir_shared_o=kv_dir_shared,
        dir_codec_o=kv_dir_codec,
        dir_done_i=pol_done, dir_status_i=pol_status, dir_index_i=dir_index,
        rx_valid_i=rx_valid, rx_pop_o=kv_rx_pop, rx_data_i=rx_data, rx_last_i=rx_last,
        tx_push_o=kv_tx_push, tx_full_i=tx_full, tx_data_o=kv_tx_data, tx_last_o=kv_tx_last,
        enc_mode_o=enc["mode_i"], enc_dim_o=enc["dim_i"], enc_group_o=enc["group_i"],
        enc_outliers_o=enc["outliers_i"], enc_flush_o=enc["flush_i"], enc_tvalid_o=enc["s_axis_tvalid"],
        enc_tready_i=enc["s_axis_tready"], enc_tdata_o=enc["s_axis_tdata"], enc_tuser_o=enc["s_axis_tuser"],
        enc_mask_o=enc["mask_i"], enc_mask_ok_o=enc["mask_ok_i"],
        enc_out_tvalid_i=enc["m_axis_tvalid"], enc_out_tready_o=enc["m_axis_tready"],
        enc_out_tdata_i=enc["m_axis_tdata"], enc_out_tkeep_i=enc["m_axis_tkeep"],
        enc_out_tlast_i=enc["m_axis_tlast"],
        dec_mode_o=dec["mode_i"], dec_dim_o=dec["dim_i"], dec_tokens_o=dec["tokens_i"],
        dec_outliers_o=dec["outliers_i"], dec_tvalid_o=dec["s_axis_tvalid"], dec_tready_i=dec["s_axis_tready"],
        dec_tdata_o=dec["s_axis_tdata"], dec_tkeep_o=dec["s_axis_tkeep"], dec_tlast_o=dec["s_axis_tlast"],
        dec_tuser_o=dec["s_axis_tuser"], dec_mask_o=dec["mask_i"], dec_mask_ok_o=dec["mask_ok_i"],
        dec_out_tvalid_i=dec["m_axis_tvalid"], dec_out_tready_o=dec["m_axis_tready"],
        dec_out_tdata_i=dec["m_axis_tdata"], dec_out_tlast_i=dec["m_axis_tlast"],
        store_valid_o=dmap["store_valid_i"], store_ready_i=dmap["store_ready_o"], store_addr_o=dmap["store_addr_i"],
        store_data_o=dmap["store_data_i"], store_ack_i=dmap["store_ack_o"], watchdog_i=dmap["watchdog_i"],
        stored_o=dmap["stored_i"], stored_entry_o=dmap["stored_entry_i"], stored_words_o=dmap["stored_words_i"],
        dir_tier_i=entry_tier, fetch_valid_o=dmap["fetch_valid_i"], fetch_ready_i=dmap["fetch_ready_o"],
        fetch_entry_o=dmap["fetch_entry_i"], fetch_src_o=dmap["fetch_src_i"],
        fetch_data_valid_i=dmap["fetch_data_valid_o"], fetch_data_ready_o=dmap["fetch_data_ready_i"],
        fetch_data_i=dmap["fetch_data_o"], fetch_done_i=dmap["fetch_done_o"], fetch_timeout_i=dmap["fetch_timeout_o"],
        kv_bytes_o=kv_amounts), "u_kvpath")
    u_dma = as_instance(dma(params, **dmap), "u_dma")

    u_kvce_enc = as_instance(kvce_enc(cp, **enc), "u_kvce_enc")
    u_kvce_dec = as_instance(kvce_dec(cp, **dec), "u_kvce_dec")

    u_perf = as_instance(perf(
        params, clk_i=clk_i, rst_ni=rst_ni, host_events_i=host_events, hepc_events_i=hepc_events,
        kv_bytes_i=kv_amounts, dma_events_i=dmap["events_o"], move_words_i=dmap["words_o"], late_i=dmap["late_o"],
        snapshot_i=perf_snapshot,
        clear_i=perf_clear, cycle_o=perf_cycle, count_o=perf_count), "u_perf")

    return u_host_if, u_regs, u_cmdproc, u_rtbd, u_hepc, u_kvpath, u_dma, u_kvce_enc, u_kvce_dec, u_perf
