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
from hdl.common.instance import as_instance, bundle, connect, name_wires, port_signals, signal
from hdl.hepc.hepc import hepc, HEPC_EVENTS
from hdl.host_if.host_if import host_if, HOST_IF_EVENTS
from hdl.kvce.kvce_dec import kvce_dec, dec_port_signals
from hdl.kvce.kvce_enc import kvce_enc, enc_port_signals
from golden.kvpath import codec_params, tier_addr_bits
from hdl.kvpath.kvpath import kvpath, KV_AMOUNTS
from hdl.perf.perf import perf, kv_amount_bits
from hdl.regs.kv1_regs import kv1_regs
from hdl.rtbd.rtbd import rtbd, WORD_BITS
from hdl.session.session import session, port_widths as session_widths
from golden.session import WIDTH as SESSION_FIELD_BITS

ENTRY_FIELD_BITS = dict(ENTRY_LAYOUT)
DOMAIN_BITS = SESSION_FIELD_BITS["domain"]      # s_axil_awuser, s_axil_aruser: the requester domain
KV_PATH_AMOUNTS = ("KV_BYTES_IN", "KV_BYTES_STORED", "FETCH_BYTES_READ", "FETCH_BYTES_OUT", "STORE_TIMEOUTS")
LATE_EVENTS = ("LATE_ANSWERS",)
assert HOST_IF_EVENTS + HEPC_EVENTS + KV_PATH_AMOUNTS + DMA_EVENTS + MOVE_WORDS + LATE_EVENTS == tuple(PERF_EVENTS), \
    "perf counters: host_if's events, hepc's, kvpath's amounts (bytes, store timeouts), the dma's events, the moves' words, the late answers"
assert len(KV_PATH_AMOUNTS) == KV_AMOUNTS


def field(reg, name=None):
    """The width of register `reg`'s field `name` (of all its fields without one): the width of
    the wire that carries it."""
    return sum(f.width for f in R.BY_NAME[reg].fields if name in (None, f.name))


def die_port_signals(params):
    """Fresh signals for every port of kv1_die, keyed by port name."""
    beat = 8 * params.axis_bytes
    widths = {
        "s_axil_awaddr": ADDR_WIDTH, "s_axil_araddr": ADDR_WIDTH, "s_axil_awuser": DOMAIN_BITS,
        "s_axil_aruser": DOMAIN_BITS, "s_axis_tuser": DOMAIN_BITS,
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
            s_axil_awvalid, s_axil_awready, s_axil_awaddr, s_axil_awuser,
            s_axil_wvalid, s_axil_wready, s_axil_wdata, s_axil_wstrb,
            s_axil_bvalid, s_axil_bready, s_axil_bresp,
            s_axil_arvalid, s_axil_arready, s_axil_araddr, s_axil_aruser,
            s_axil_rvalid, s_axil_rready, s_axil_rdata, s_axil_rresp,
            s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tlast, s_axis_tuser,
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
    table = session_widths(params)
    # the widths: the register map's fields (what each wire carries), the directory entry's, the set's
    op, sess, fence = field("CMD_DOORBELL", "OPCODE"), field("CMD_DOORBELL", "SESSION"), field("CPL_HEAD", "FENCE")
    arg0, arg1, arg2 = field("CMD_ARG0"), field("CMD_ARG1"), field("CMD_ARG2")
    key_arg1 = field("CMD_ARG1", "LAYER") + field("CMD_ARG1", "KV_HEAD")     # a block key's layer and kv_head
    status, nbytes = field("CPL_HEAD", "STATUS"), field("CPL_BYTES")
    set_bits = (params.dir_sets - 1).bit_length()
    entry_bits = {f: ENTRY_FIELD_BITS[f] for f in ("session", "layer", "kv_head", "tier", "codec_tier")}

    # the bundles between blocks: each joins like-named ports (hdl.common.instance.connect)
    reg = bundle(req=1, we=1, addr=ADDR_WIDTH, wdata=DATA_WIDTH, wstrb=DATA_WIDTH // 8, mgmt=1, rdata=DATA_WIDTH, err=1)
    cmd = bundle(valid=1, pop=1, opcode=op, session=sess, domain=DOMAIN_BITS, fence=fence, arg0=arg0, arg1=arg1,
                 arg2=arg2, stamp=table["charge_waited_i"], now=table["charge_waited_i"])
    cpl = bundle(push=1, full=1, fence=fence, status=status, opcode=op, session=sess, bytes=nbytes)
    rx, tx = bundle(valid=1, pop=1, data=beat, last=1, domain=DOMAIN_BITS), bundle(push=1, full=1, data=beat, last=1)
    # kvpath's use of the queues: cmdproc says when a beat is its command's (its own domain's, or
    # the zero beats of a stream timeout: rx_zero)
    kv_stream = bundle(rx_valid=1, rx_ready=1, rx_pop=1, rx_zero=1, rx_last=1, tx_push=1, tx_data=beat, tx_last=1)
    stream_timeout = signal(field("STREAM_TIMEOUT"))
    kv = bundle(req=1, opcode=op, session=sess, arg0=arg0, arg1=arg1, arg2=arg2, refuse=status,
                profile=field("CQ_PROFILE", "PROFILE") + field("CQ_PROFILE", "VERSION"), done=1, status=status,
                bytes=nbytes)
    # the session table's request and answer (cmdproc's check; its entry and index the die does
    # not read yet), and a command's charge to its session's QoS record
    ses = bundle(req_valid=1, req_ready=1, rsp_valid=1,
                 **{port[:-2]: width for port, width in table.items() if port.startswith(("req_", "rsp_", "charge"))},
                 tick=1)
    # hepc's requests: cmdproc's (the host's or kvpath's kv_dir, arbitrated), answered on pol_answer
    request = dict(req=1, opcode=op, session=sess, arg0=arg0, arg1=key_arg1, arg2=arg2, probe=1,
                   codec=entry_bits["codec_tier"], shared=1)
    pol, kv_dir = bundle(**request), bundle(**request)
    pol_answer = bundle(done=1, status=status, index=field("DIR_WIN_INDEX"), tier=entry_bits["tier"])
    directory = bundle(key_session=entry_bits["session"], key_layer=entry_bits["layer"], key_head=entry_bits["kv_head"],
                       key_block=BLOCK_INDEX_BITS, hash_set=set_bits, rd_set=set_bits, wr_set=set_bits,
                       rd_data=params.dir_ways * WORD_BITS, wr_data=params.dir_ways * WORD_BITS,
                       match=params.dir_ways, free=params.dir_ways, wr_en=params.dir_ways)
    # the registers' fields, by the block that reads or drives them
    host_regs = bundle(doorbell_we=1, doorbell_opcode=op, doorbell_session=sess, arg0=arg0,
                       arg1_layer=field("CMD_ARG1", "LAYER"), arg1_head=field("CMD_ARG1", "KV_HEAD"),
                       arg1_heads=field("CMD_ARG1", "HEADS"), arg2=arg2, step_we=1, step=field("STEP_ADVANCE"),
                       cmdq_full=1, cmdq_level=field("CMD_STATUS", "LEVEL"), next_fence=fence,
                       cpl_pop=1, cpl_empty=1, cpl_count=field("CPL_STATUS", "COUNT"), cpl_head_fence=fence,
                       cpl_head_status=status, cpl_head_opcode=op, cpl_head_session=sess, cpl_head_bytes=nbytes,
                       irq_status_cpl=1, irq_status_err=1, irq_enable_cpl=1, irq_enable_err=1,
                       irq_test_cpl=1, irq_test_err=1, irq_set_cpl=1, irq_set_err=1,
                       rx_level=field("STREAM_STATUS", "RX_LEVEL"), tx_level=field("STREAM_STATUS", "TX_LEVEL"))
    hepc_regs = bundle(w_r=field("HEPC_WEIGHTS", "W_R"), w_f=field("HEPC_WEIGHTS", "W_F"),
                       w_s=field("HEPC_WEIGHTS", "W_S"), w_d=field("HEPC_WEIGHTS", "W_D"),
                       window=field("HEPC_CTRL", "WINDOW"), horizon=field("HEPC_CTRL", "HORIZON"),
                       high=field("HEPC_WATERMARKS", "HIGH"), low=field("HEPC_WATERMARKS", "LOW"),
                       threshold=field("HEPC_THRESHOLD"), step=field("HEPC_STEP"), hot=field("HEPC_STATUS", "HOT"),
                       hints=field("HEPC_STATUS", "HINTS"), decode=field("HEPC_STATUS", "DECODE"))
    kv_regs = bundle(mode=field("CQ_CTRL", "MODE"), outliers=field("CQ_CTRL", "OUTLIERS"),
                     head_bits=field("CQ_CTRL", "HEAD_BITS"), dim=field("CQ_CTRL", "DIM"),
                     shared_profile=field("CQ_PROFILE", "PROFILE"), shared_version=field("CQ_PROFILE", "VERSION"),
                     rom_index=field("CQ_ROM_INDEX"), rom_we=1, rom_data=field("CQ_ROM_DATA"), rom_busy=1,
                     **{f"rom_ch{c}": field("CQ_ROM_WRITE", f"CH{c}") for c in range(4)})
    # the directory window, and its guard: may the read's requester domain see the slot's entry?
    window = bundle(index=field("DIR_WIN_INDEX"), data=8 * SLOT_BYTES, owner=entry_bits["session"], used=1)
    guard = bundle(domain=DOMAIN_BITS, visible=1)
    # the QoS window: a session table entry's accounting, guarded the same way
    qos_window = bundle(index=field("QOS_WIN_INDEX"), data=table["qwin_data_o"], visible=1)
    # SESSION_QUOTA: what one session (hepc: directory ways, hints) or domain (session: DECODE) may hold
    quota = bundle(dir_ways=field("SESSION_QUOTA", "DIR_WAYS"), decode=field("SESSION_QUOTA", "DECODE"),
                   hints=field("SESSION_QUOTA", "HINTS"))
    # hepc's DECODE guard asks the session table about every way its scan reads
    scan = bundle(sessions=params.dir_ways * entry_bits["session"], decode=params.dir_ways)
    counters = bundle(snapshot=1, clear=1, cycle=2 * DATA_WIDTH, count=DATA_WIDTH * len(PERF_EVENTS),
                      host_events=len(HOST_IF_EVENTS), hepc_events=len(HEPC_EVENTS),
                      kv_bytes=KV_AMOUNTS * kv_amount_bits(params))
    dir_ready = signal(1)
    session_ready = signal(1)
    # the dma: kvpath's FETCH and STORE, hepc's moves and their completions, the tier ports
    dmap = dma_port_signals(params)
    tier_side = dict(locals())
    dmap.update({f"{tier}_{name}": tier_side[f"{tier}_{name}"] for tier in TIER_PORTS for name in TIER_PORT_NAMES})
    dmap.update(clk_i=clk_i, rst_ni=rst_ni)
    dma_side = {port[:-2]: sig for port, sig in dmap.items() if port.endswith(("_i", "_o"))}   # by field
    # the codec's ports by name
    cp = codec_params(params)
    enc, dec = enc_port_signals(cp), dec_port_signals(cp)
    enc["clk_i"], enc["rst_ni"], dec["clk_i"], dec["rst_ni"] = clk_i, rst_ni, clk_i, rst_ni
    name_wires(reg=reg, cmd=cmd, cpl=cpl, rx=rx, tx=tx, kv_stream=kv_stream, kv=kv, pol=pol, kv_dir=kv_dir,
               pol_answer=pol_answer, ses=ses, guard=guard, qwin=qos_window, quota=quota, scan=scan, dir=directory, host=host_regs, hepc=hepc_regs, cq=kv_regs, win=window,
               perf=counters, dma=dmap, enc=enc, dec=dec)
    clocks = dict(clk_i=clk_i, rst_ni=rst_ni)

    u_host_if = as_instance(host_if(
        params, **clocks,
        s_axil_awvalid=s_axil_awvalid, s_axil_awready=s_axil_awready, s_axil_awaddr=s_axil_awaddr,
        s_axil_awuser=s_axil_awuser, s_axil_wvalid=s_axil_wvalid, s_axil_wready=s_axil_wready, s_axil_wdata=s_axil_wdata,
        s_axil_wstrb=s_axil_wstrb, s_axil_bvalid=s_axil_bvalid, s_axil_bready=s_axil_bready,
        s_axil_bresp=s_axil_bresp, s_axil_arvalid=s_axil_arvalid, s_axil_arready=s_axil_arready,
        s_axil_araddr=s_axil_araddr, s_axil_aruser=s_axil_aruser, s_axil_rvalid=s_axil_rvalid, s_axil_rready=s_axil_rready,
        s_axil_rdata=s_axil_rdata, s_axil_rresp=s_axil_rresp,
        s_axis_tvalid=s_axis_tvalid, s_axis_tready=s_axis_tready, s_axis_tdata=s_axis_tdata,
        s_axis_tlast=s_axis_tlast, s_axis_tuser=s_axis_tuser, m_axis_tvalid=m_axis_tvalid, m_axis_tready=m_axis_tready,
        m_axis_tdata=m_axis_tdata, m_axis_tlast=m_axis_tlast, irq_o=irq_o,
        **connect(host_if, "reg_", reg), **connect(host_if, "", host_regs), **connect(host_if, "cmd_", cmd),
        **connect(host_if, "cpl_", cpl), **connect(host_if, "rx_", rx), **connect(host_if, "tx_", tx),
        rd_domain_o=guard["domain"], events_o=counters["host_events"]), "u_host_if")

    u_regs = as_instance(kv1_regs(
        params, **clocks, **connect(kv1_regs, "reg_", reg),
        cmd_doorbell_busy_i=host_regs["cmdq_full"], cmd_status_level_i=host_regs["cmdq_level"],
        cmd_status_next_fence_i=host_regs["next_fence"],
        stream_status_rx_level_i=host_regs["rx_level"], stream_status_tx_level_i=host_regs["tx_level"],
        cpl_session_session_i=host_regs["cpl_head_session"], cpl_status_count_i=host_regs["cpl_count"],
        cpl_head_fence_i=host_regs["cpl_head_fence"], cpl_head_status_i=host_regs["cpl_head_status"],
        cpl_head_opcode_i=host_regs["cpl_head_opcode"], cpl_bytes_bytes_i=host_regs["cpl_head_bytes"],
        cpl_pop_busy_i=host_regs["cpl_empty"],
        irq_status_cpl_set_i=host_regs["irq_set_cpl"], irq_status_err_set_i=host_regs["irq_set_err"],
        step_advance_busy_i=host_regs["cmdq_full"], hepc_step_step_i=hepc_regs["step"],
        hepc_status_hot_i=hepc_regs["hot"], hepc_status_hints_i=hepc_regs["hints"],
        hepc_status_decode_i=hepc_regs["decode"], dir_window_i=window["data"],
        dir_window_visible_i=guard["visible"], qos_window_i=qos_window["data"],
        qos_window_visible_i=qos_window["visible"], qos_win_index_index_o=qos_window["index"],
        cq_rom_write_busy_i=kv_regs["rom_busy"], cq_rom_data_channels_i=kv_regs["rom_data"],
        perf_cycle_i=counters["cycle"], perf_count_i=counters["count"],
        cmd_arg0_value_o=host_regs["arg0"], cmd_arg1_layer_o=host_regs["arg1_layer"],
        cmd_arg1_kv_head_o=host_regs["arg1_head"], cmd_arg1_heads_o=host_regs["arg1_heads"],
        cmd_arg2_value_o=host_regs["arg2"], step_advance_we_o=host_regs["step_we"],
        step_advance_step_o=host_regs["step"],
        hepc_weights_w_r_o=hepc_regs["w_r"], hepc_weights_w_f_o=hepc_regs["w_f"],
        hepc_weights_w_s_o=hepc_regs["w_s"], hepc_weights_w_d_o=hepc_regs["w_d"],
        hepc_ctrl_window_o=hepc_regs["window"], hepc_ctrl_horizon_o=hepc_regs["horizon"],
        hepc_watermarks_high_o=hepc_regs["high"], hepc_watermarks_low_o=hepc_regs["low"],
        hepc_threshold_prefetch_o=hepc_regs["threshold"], dir_win_index_index_o=window["index"],
        cq_ctrl_mode_o=kv_regs["mode"], cq_ctrl_outliers_o=kv_regs["outliers"],
        cq_ctrl_head_bits_o=kv_regs["head_bits"], cq_ctrl_dim_o=kv_regs["dim"],
        cq_profile_profile_o=kv_regs["shared_profile"], cq_profile_version_o=kv_regs["shared_version"],
        cq_rom_index_index_o=kv_regs["rom_index"], cq_rom_write_we_o=kv_regs["rom_we"],
        **{f"cq_rom_write_ch{c}_o": kv_regs[f"rom_ch{c}"] for c in range(4)},
        cmd_doorbell_we_o=host_regs["doorbell_we"], cmd_doorbell_opcode_o=host_regs["doorbell_opcode"],
        cmd_doorbell_session_o=host_regs["doorbell_session"], cpl_pop_we_o=host_regs["cpl_pop"],
        irq_status_cpl_o=host_regs["irq_status_cpl"], irq_status_err_o=host_regs["irq_status_err"],
        irq_enable_cpl_o=host_regs["irq_enable_cpl"], irq_enable_err_o=host_regs["irq_enable_err"],
        irq_test_cpl_o=host_regs["irq_test_cpl"], irq_test_err_o=host_regs["irq_test_err"],
        perf_ctrl_snapshot_o=counters["snapshot"], perf_ctrl_clear_o=counters["clear"],
        dma_watchdog_cycles_o=dmap["watchdog_i"], stream_timeout_cycles_o=stream_timeout,
        **connect(kv1_regs, "session_quota_", quota)), "u_regs")

    u_cmdproc = as_instance(cmdproc(
        params, **clocks, **connect(cmdproc, "cmd_", cmd), **connect(cmdproc, "cpl_", cpl),
        **connect(cmdproc, "rx_", rx), stream_timeout_i=stream_timeout, **connect(cmdproc, "tx_", tx), **connect(cmdproc, "pol_", pol),
        **connect(cmdproc, "pol_", pol_answer, "done status"), **connect(cmdproc, "kv_", kv),
        **connect(cmdproc, "kv_dir_", kv_dir), **connect(cmdproc, "kv_", kv_stream),
        **connect(cmdproc, "ses_", ses, " ".join(f for f in ses if f not in ("rsp_index", "rsp_entry")))),
        "u_cmdproc")

    u_session = as_instance(session(
        params, **clocks, ready_o=session_ready, **connect(session, "", ses),
        win_session_i=window["owner"], win_used_i=window["used"], **connect(session, "win_", guard),
        **connect(session, "scan_", scan), decode_count_o=hepc_regs["decode"], decode_quota_i=quota["decode"],
        **connect(session, "qwin_", qos_window), qwin_domain_i=guard["domain"]),
        "u_session")

    u_rtbd = as_instance(rtbd(
        params, **clocks, ready_o=dir_ready, **connect(rtbd, "", directory), **connect(rtbd, "win_", window)),
        "u_rtbd")

    u_hepc = as_instance(hepc(
        params, **clocks, **connect(hepc, "", pol), **connect(hepc, "", pol_answer),
        **connect(hepc, "", hepc_regs, "w_r w_f w_s w_d window horizon high low threshold step hot hints"),
        **connect(hepc, "scan_", scan), way_quota_i=quota["dir_ways"], hint_quota_i=quota["hints"],
        dir_ready_i=dir_ready, **connect(hepc, "", directory),
        **connect(hepc, "", dma_side, "evq_pop evq_valid evq_entry evq_src evq_dst pfq_pop pfq_valid pfq_entry "
                                      "pfq_src pfq_dst cpl_valid cpl_entry cpl_tier cpl_timeout cpl_take "
                                      "forget forget_entry"),
        moves_busy_i=dmap["busy_o"], events_o=counters["hepc_events"]), "u_hepc")

    u_kvpath = as_instance(kvpath(
        params, **clocks, **connect(kvpath, "", kv), **connect(kvpath, "", kv_regs),
        **connect(kvpath, "dir_", kv_dir), **connect(kvpath, "dir_", pol_answer),
        **connect(kvpath, "rx_", rx, "data"), **connect(kvpath, "tx_", tx, "full"),
        **connect(kvpath, "", kv_stream),
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
        **connect(kvpath, "", dma_side, "store_valid store_ready store_addr store_data store_ack watchdog stored "
                                        "stored_entry stored_words fetch_valid fetch_ready fetch_entry fetch_src "
                                        "fetch_data_valid fetch_data_ready fetch_data fetch_done fetch_timeout"),
        kv_bytes_o=counters["kv_bytes"]), "u_kvpath")
    u_dma = as_instance(dma(params, **dmap), "u_dma")

    u_kvce_enc = as_instance(kvce_enc(cp, **enc), "u_kvce_enc")
    u_kvce_dec = as_instance(kvce_dec(cp, **dec), "u_kvce_dec")

    u_perf = as_instance(perf(
        params, **clocks, **connect(perf, "", counters),
        dma_events_i=dmap["events_o"], move_words_i=dmap["words_o"], late_i=dmap["late_o"]), "u_perf")

    return u_host_if, u_regs, u_cmdproc, u_session, u_rtbd, u_hepc, u_kvpath, u_dma, u_kvce_enc, u_kvce_dec, u_perf
