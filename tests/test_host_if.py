"""host_if in MyHDL: the AXI4-Lite channels and the register bus."""
from myhdl import block, always_comb, Signal, ResetSignal

from golden import params as param_sets
from hdl.host_if.host_if import host_if, HOST_IF_EVENTS
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")



@block
def host_if_on_stub_bus(params, clk_i, rst_ni, **ports):
    """host_if on a register bus that answers in the same cycle: rdata = addr + 1, error at 0xBAD."""
    u = host_if(params, clk_i, rst_ni, **ports)
    addr, rdata, err = ports["reg_addr_o"], ports["reg_rdata_i"], ports["reg_err_i"]

    @always_comb
    def stub():
        rdata.next = addr + 1
        err.next = addr == 0xBAD

    return u, stub


def test_axi_lite_channels_are_independent_and_responses_held():
    """Write data long before its address, address long before its data, a read and a write
    ready together (the write goes first), and B/R held until accepted with stable payload."""
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    from hdl.common.instance import block_ports
    beat = 8 * SIM.axis_bytes
    widths = {"s_axil_awaddr": 12, "s_axil_araddr": 12, "s_axil_wdata": 32, "s_axil_rdata": 32,
              "s_axil_wstrb": 4, "s_axil_bresp": 2, "s_axil_rresp": 2, "s_axis_tdata": beat,
              "m_axis_tdata": beat, "reg_addr_o": 12, "reg_wdata_o": 32, "reg_wstrb_o": 4,
              "reg_rdata_i": 32, "doorbell_opcode_i": 8, "doorbell_session_i": 16, "arg0_i": 32,
              "arg1_layer_i": 8, "arg1_head_i": 8, "arg2_i": 32, "step_i": 32,
              "cmd_arg1_o": 16, "cmd_arg2_o": 32, "cmdq_level_o": 8, "next_fence_o": 16, "cmd_opcode_o": 8, "cmd_session_o": 16,
              "cmd_fence_o": 16, "cmd_arg0_o": 32, "cpl_fence_i": 16, "cpl_status_i": 8,
              "cpl_opcode_i": 8, "cpl_session_i": 16, "cpl_bytes_i": 32, "cpl_count_o": 8,
              "cpl_head_fence_o": 16, "cpl_head_status_o": 8, "cpl_head_opcode_o": 8,
              "cpl_head_session_o": 16, "cpl_head_bytes_o": 32, "rx_data_o": beat, "tx_data_i": beat,
              "rx_level_o": 8, "tx_level_o": 8, "events_o": len(HOST_IF_EVENTS),
              "s_axil_awuser": 8, "cmd_domain_o": 8, "s_axil_aruser": 8, "rd_domain_o": 8,
              "s_axis_tuser": 8, "rx_domain_o": 8}
    s = {n: sig(widths.get(n, 1)) for n in block_ports(host_if) if n not in ("clk_i", "rst_ni")}
    reqs, resp, read_domains, write_mgmt = [], [], [], []
    # (cycle, {signal: value}) script of the master; the register bus answers addr+1, err on 0xBAD
    script = {
        1: {"s_axil_wvalid": 1, "s_axil_wdata": 0x11, "s_axil_wstrb": 0xF},
        6: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x10},
        20: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x20, "s_axil_awuser": 3},   # a tenant's write
        21: {"s_axil_awuser": 0},
        26: {"s_axil_wvalid": 1, "s_axil_wdata": 0x22, "s_axil_wstrb": 0xF},
        40: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x30, "s_axil_wvalid": 1, "s_axil_wdata": 0x33,
             "s_axil_wstrb": 0xF, "s_axil_arvalid": 1, "s_axil_araddr": 0xBAD, "s_axil_aruser": 0x5A},
        41: {"s_axil_aruser": 0x33},           # changes once the AR is taken: the read keeps 0x5A
    }
    bready_from, rready_from = 15, 70  # B and R wait for their ready: held, payload stable
    state = {"b_seen": None, "r_seen": None}

    def step(n):
        if s["reg_req_o"]:
            reqs.append((n, int(s["reg_we_o"]), int(s["reg_addr_o"]), int(s["reg_wdata_o"])))
            if not s["reg_we_o"]:
                read_domains.append(int(s["rd_domain_o"]))
            else:
                write_mgmt.append(bool(s["reg_mgmt_o"]))
        if s["s_axil_bvalid"]:
            payload = int(s["s_axil_bresp"])
            assert state["b_seen"] in (None, payload), "bresp changed while held"
            state["b_seen"] = payload
            if s["s_axil_bready"]:
                resp.append(("B", n, payload))
                state["b_seen"] = None
        if s["s_axil_rvalid"]:
            payload = (int(s["s_axil_rdata"]), int(s["s_axil_rresp"]))
            assert state["r_seen"] in (None, payload), "R payload changed while held"
            state["r_seen"] = payload
            if s["s_axil_rready"]:
                resp.append(("R", n, payload))
                state["r_seen"] = None
        for ch in ("aw", "w", "ar"):
            if s[f"s_axil_{ch}valid"] and s[f"s_axil_{ch}ready"]:
                s[f"s_axil_{ch}valid"].next = 0
        for k, v in script.get(n + 1, {}).items():
            s[k].next = v
        s["s_axil_bready"].next = n + 1 >= bready_from
        s["s_axil_rready"].next = n + 1 >= rready_from

    simulate(host_if_on_stub_bus, (SIM, clk, rst), s, clk, rst, step, 90)
    writes = [(we, a, d) for _, we, a, d in reqs]
    assert writes == [(1, 0x10, 0x11), (1, 0x20, 0x22), (1, 0x30, 0x33), (0, 0xBAD, 0x33)]
    w3, r1 = reqs[2][0], reqs[3][0]
    assert w3 < r1, "a write and a read ready together: the write is issued first"
    assert [r[0] for r in resp] == ["B", "B", "B", "R"]
    assert resp[-1][2] == (0, 2), "an erroring read answers SLVERR with zero data"
    assert all(r[2] == 0 for r in resp[:3])
    assert read_domains == [0x5A], "a read carries the s_axil_aruser of its AR"
    assert write_mgmt == [True, False, True], "a write is the management domain's when its AW's awuser is 0"
