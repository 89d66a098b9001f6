"""Unit tests of each MyHDL block against a reference, cycle by cycle, with seeded random stimulus."""
import dataclasses
import random
from collections import deque

import pytest
from myhdl import block, always_comb, Signal, ResetSignal, intbv

from golden import kv1_regs as R
from golden.rtbd import Directory
from golden.frame import FrameModel, Command
from golden.policy_engine import POLICY_OPCODES
from golden import params as param_sets
from hdl.cmdproc.cmdproc import cmdproc
from hdl.common.fifo import fifo
from hdl.host_if.host_if import host_if, HOST_IF_EVENTS
from hdl.die.kv1_die import KV_PATH_AMOUNTS
from hdl.dma import transfers
from hdl.dma.dma import DMA_EVENTS, MOVE_WORDS
from hdl.perf.perf import perf, counter, kv_amount_bits
from hdl.regs.kv1_regs import kv1_regs
from hdl.rtbd.rtbd import rtbd, WORD_BITS
from hdl.regs.reggen import input_ports, output_ports, load
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")


# ------------------------------------------------------------------------ fifo
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_fifo_against_a_deque(depth):
    rng = random.Random(depth)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    push, pop, full, empty = sig(1), sig(1), sig(1), sig(1)
    din, dout, level = sig(8), sig(8), sig(depth.bit_length())
    ref = deque()
    errors = []

    def step(n):
        # check what the fifo showed in the cycle that just ended, then apply its handshake
        if bool(empty) != (not ref) or bool(full) != (len(ref) == depth) or int(level) != len(ref):
            errors.append(f"cycle {n}: flags {bool(empty)}/{bool(full)}/{int(level)}, model {len(ref)}")
        if ref and int(dout) != ref[0]:
            errors.append(f"cycle {n}: dout {int(dout)} != {ref[0]}")
        popped = bool(pop) and len(ref) > 0
        if push and len(ref) < depth:
            ref.append(int(din))
        if popped:
            ref.popleft()
        push.next = rng.random() < 0.6
        pop.next = rng.random() < 0.5
        din.next = rng.getrandbits(8)

    simulate(fifo, (clk, rst, push, din, full, pop, dout, empty, level), dict(depth=depth), clk, rst, step, 600)
    assert not errors, errors[:3]


def test_fifo_refuses_bad_depth():
    with pytest.raises(ValueError, match="at least 2"):
        fifo(*[sig(1)] * 9, depth=1)


# ------------------------------------------------------------------------ perf
@pytest.mark.parametrize("amount_bits", [1, 3])
def test_counter_saturates_snapshots_and_clears(amount_bits):
    """One counter per event (1-bit amounts) or byte amount; the second amount of the vector is
    counted, the first must not leak in."""
    rng = random.Random(11 + amount_bits)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    width = 2 + amount_bits      # small enough that the count saturates often
    amounts, snap, clear, shadow = Signal(intbv(0)[2 * amount_bits:]), sig(1), sig(1), sig(width)
    model = {"live": 0, "shadow": 0}
    errors = []

    def step(n):
        if int(shadow) != model["shadow"]:
            errors.append(f"cycle {n}: shadow {int(shadow)} != {model['shadow']}")
        if snap:
            model["shadow"] = model["live"]
        if clear:
            model["live"] = 0
        else:
            model["live"] = min(model["live"] + (int(amounts) >> amount_bits), 2**width - 1)
        amounts.next = rng.getrandbits(2 * amount_bits)
        snap.next = rng.random() < 0.3
        clear.next = rng.random() < 0.05

    simulate(counter, (clk, rst, amounts, snap, clear, shadow), dict(index=1, amount_bits=amount_bits),
             clk, rst, step, 400)
    assert not errors, errors[:3]


def test_perf_counts_every_event_and_the_cycles():
    rng = random.Random(12)
    n_ev = len(R.PERF_EVENTS)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    n_host, n_amt, amt_bits = len(HOST_IF_EVENTS), len(KV_PATH_AMOUNTS), kv_amount_bits(SIM)
    n_dma, n_words, words_bits = len(DMA_EVENTS), len(MOVE_WORDS), transfers.words_bits(SIM)
    # single-event counters; then the byte amounts; then the dma's events; then the moves'
    # words; then the late answers
    late_bits = transfers.LATE_BITS
    n_bits = n_ev - n_amt - n_dma - n_words - 1
    host_events, hepc_events, snap, clear = sig(n_host), sig(n_bits - n_host), sig(1), sig(1)
    dma_events, move_words, late = sig(n_dma), sig(n_words * words_bits), sig(late_bits)
    amounts = sig(n_amt * amt_bits)
    events = {"value": 0}
    cycle_o, count_o = sig(64), sig(32 * n_ev)
    live, shadow = [0] * n_ev, [0] * n_ev
    cyc = {"live": 0, "shadow": 0}
    errors = []

    def step(n):
        got = [(int(count_o) >> (32 * k)) & 0xFFFFFFFF for k in range(n_ev)]
        if got != shadow or int(cycle_o) != cyc["shadow"]:
            errors.append(f"cycle {n}: {got}/{int(cycle_o)} != {shadow}/{cyc['shadow']}")
        if snap:
            shadow[:] = live
            cyc["shadow"] = cyc["live"]
        if clear:
            live[:] = [0] * n_ev
            cyc["live"] = 0
        else:
            for k in range(n_bits):
                live[k] += (events["value"] >> k) & 1
            for j in range(n_amt):
                live[n_bits + j] = min(live[n_bits + j] + ((events["amounts"] >> (amt_bits * j)) & ((1 << amt_bits) - 1)),
                                       2**32 - 1)
            for j in range(n_dma):
                live[n_bits + n_amt + j] += (events["dma"] >> j) & 1
            for j in range(n_words):
                live[n_bits + n_amt + n_dma + j] += (events["words"] >> (words_bits * j)) & ((1 << words_bits) - 1)
            live[n_ev - 1] += events["late"]
            cyc["live"] += 1
        events["value"] = rng.getrandbits(n_bits)
        events["amounts"] = rng.getrandbits(n_amt * amt_bits)
        events["dma"] = rng.getrandbits(n_dma)
        events["words"] = rng.getrandbits(n_words * words_bits)
        events["late"] = rng.randrange(7)
        late.next = events["late"]
        dma_events.next = events["dma"]
        move_words.next = events["words"]
        host_events.next = events["value"] & ((1 << n_host) - 1)
        hepc_events.next = events["value"] >> n_host
        amounts.next = events["amounts"]
        snap.next = rng.random() < 0.2
        clear.next = rng.random() < 0.03

    events["amounts"] = events["dma"] = events["words"] = events["late"] = 0
    simulate(perf, (SIM, clk, rst, host_events, hepc_events, amounts, dma_events, move_words, late, snap, clear,
                    cycle_o, count_o), {},
             clk, rst,
             step, 500)
    assert not errors, errors[:3]


# ------------------------------------------------------------------------ regs
def test_register_block_against_the_register_table():
    """Random register-bus accesses (good and bad) and random hardware inputs; every cycle
    the read data, the error flag, the strobes and the stored fields follow the table."""
    rng = random.Random(13)
    spec = load()
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    bus = dict(reg_req_i=sig(1), reg_we_i=sig(1), reg_addr_i=sig(R.ADDR_WIDTH), reg_wdata_i=sig(32),
               reg_wstrb_i=sig(4), reg_rdata_o=sig(32), reg_err_o=sig(1))
    ins = {n: sig(w) for n, w in input_ports(spec)}
    outs = {n: sig(w) for n, w in output_ports(spec)}
    stored = {(r.name, f.name): f.reset for r in R.REGISTERS for f in r.fields if f.access in ("rw", "w1c")}
    errors = []
    addrs = [r.offset for r in R.REGISTERS] + [0x004 + 1, 0x3F0, 0xFFC]

    def expect(we, addr, wdata, strb):
        reg = R.BY_OFFSET.get(addr)
        if reg is None:
            return 0, True
        rd = 0
        for f in reg.fields:
            if f.access in ("rw", "w1c"):
                v = stored[(reg.name, f.name)]
            elif f.access == "wo":
                v = 0
            elif f.const is not None:
                v = f.const
            elif f.param:
                v = getattr(SIM, f.param)
            elif f.port:
                v = (int(ins[f.port]) >> f.port_lsb) & ((1 << f.width) - 1)
            else:
                v = int(ins[f"{reg.name.lower()}_{f.name.lower()}_i"])
            rd |= v << f.lsb
        below_min = any(0 < (wdata >> f.lsb) & ((1 << f.width) - 1) < f.min for f in reg.fields)
        err = we and (strb != 0xF or not reg.writable or (reg.busy and bool(ins[f"{reg.name.lower()}_busy_i"]))
                      or below_min)
        return rd, err

    def step(n):
        req, we, addr = bool(bus["reg_req_i"]), bool(bus["reg_we_i"]), int(bus["reg_addr_i"])
        wdata, strb = int(bus["reg_wdata_i"]), int(bus["reg_wstrb_i"])
        rd, err = expect(we, addr, wdata, strb)
        if not we and int(bus["reg_rdata_o"]) != rd or bool(bus["reg_err_o"]) != bool(err):
            errors.append(f"cycle {n}: addr {addr:#x} we {we}: rdata {int(bus['reg_rdata_o']):#x}/"
                          f"err {bool(bus['reg_err_o'])}, expected {rd:#x}/{bool(err)}")
        accepted = req and we and not err
        reg = R.BY_OFFSET.get(addr)
        for r in R.REGISTERS:
            hit = accepted and reg is r
            if r.strobe and bool(outs[f"{r.name.lower()}_we_o"]) != hit:
                errors.append(f"cycle {n}: {r.name}_we_o")
            for f in r.fields:
                fv = (wdata >> f.lsb) & ((1 << f.width) - 1)
                if f.access == "wo" and int(outs[f"{r.name.lower()}_{f.name.lower()}_o"]) != (fv if hit else 0):
                    errors.append(f"cycle {n}: {r.name}.{f.name} strobe value")
                port = f"{r.name.lower()}_{f.name.lower()}_o"
                if f.access in ("rw", "w1c") and port in outs:
                    if int(outs[port]) != stored[(r.name, f.name)]:
                        errors.append(f"cycle {n}: {port} {int(outs[port])} != {stored[(r.name, f.name)]}")
        # the edge: storage updates (set wins over a clear in the same cycle)
        for r in R.REGISTERS:
            for f in r.fields:
                fv = (wdata >> f.lsb) & ((1 << f.width) - 1)
                if f.access == "rw" and accepted and reg is r:
                    stored[(r.name, f.name)] = fv
                elif f.access == "w1c":
                    if int(ins[f"{r.name.lower()}_{f.name.lower()}_set_i"]):
                        stored[(r.name, f.name)] = 1
                    elif accepted and reg is r and fv:
                        stored[(r.name, f.name)] = 0
        bus["reg_req_i"].next = rng.random() < 0.7
        bus["reg_we_i"].next = rng.random() < 0.5
        bus["reg_addr_i"].next = rng.choice(addrs)
        # now and then a small value: the fields with a floor (DMA_WATCHDOG) refuse 1 .. min - 1
        bus["reg_wdata_i"].next = rng.getrandbits(32) if rng.random() < 0.8 else rng.randrange(130)
        bus["reg_wstrb_i"].next = 0xF if rng.random() < 0.85 else rng.randrange(15)
        for name, s in ins.items():
            s.next = rng.getrandbits(len(s)) if not name.endswith(("_set_i", "_busy_i")) else rng.random() < 0.2

    simulate(kv1_regs, (SIM, clk, rst), {**bus, **ins, **outs}, clk, rst, step, 1500)
    assert not errors, errors[:5]


# --------------------------------------------------------------------- cmdproc
def test_command_engine_against_golden():
    """Random commands and stream beats, random back-pressure on the completion and egress
    queues: the completions and output beats are the golden model's, in order. Policy
    commands go to a stub engine that answers after a random wait with status arg2 % 9: each
    arrives once, with its fields, and completes with the stub's status."""
    rng = random.Random(14)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    beat_bits = 8 * SIM.axis_bytes
    p = dict(cmd_valid_i=sig(1), cmd_pop_o=sig(1), cmd_opcode_i=sig(8), cmd_session_i=sig(16),
             cmd_fence_i=sig(16), cmd_arg0_i=sig(32), cmd_arg1_i=sig(24), cmd_arg2_i=sig(32),
             cpl_push_o=sig(1), cpl_full_i=sig(1),
             cpl_fence_o=sig(16), cpl_status_o=sig(8), cpl_opcode_o=sig(8), cpl_session_o=sig(16),
             cpl_bytes_o=sig(32), rx_valid_i=sig(1), rx_pop_o=sig(1), rx_data_i=sig(beat_bits),
             rx_last_i=sig(1), tx_push_o=sig(1), tx_full_i=sig(1), tx_data_o=sig(beat_bits), tx_last_o=sig(1),
             pol_req_o=sig(1), pol_opcode_o=sig(8), pol_session_o=sig(16), pol_arg0_o=sig(32),
             pol_arg1_o=sig(16), pol_arg2_o=sig(32), pol_done_i=sig(1), pol_status_i=sig(8),
             # the KV path stays idle here (no KV opcodes); tests/test_die.py runs it
             kv_req_o=sig(1), kv_opcode_o=sig(8), kv_session_o=sig(16), kv_arg0_o=sig(32), kv_arg1_o=sig(24),
             kv_arg2_o=sig(32), kv_done_i=sig(1), kv_status_i=sig(8), kv_bytes_i=sig(32), kv_dir_req_i=sig(1),
             kv_dir_opcode_i=sig(8), kv_dir_session_i=sig(16), kv_dir_arg0_i=sig(32), kv_dir_arg1_i=sig(16),
             kv_dir_arg2_i=sig(32), kv_dir_probe_i=sig(1), kv_dir_codec_i=sig(2), kv_dir_shared_i=sig(1),
             pol_probe_o=sig(1), pol_codec_o=sig(2), pol_shared_o=sig(1), kv_rx_pop_i=sig(1), kv_tx_push_i=sig(1), kv_tx_data_i=sig(beat_bits), kv_tx_last_i=sig(1))
    model = FrameModel(dataclasses.replace(SIM, cplq_depth=10**6))
    cmds, beats = deque(), deque()
    for fence in range(60):
        op = rng.choice([R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.ECHO, 0x7F, rng.choice(POLICY_OPCODES)])
        arg0 = rng.choice([0, 1, 2, 5, 9]) if op == R.OPCODE.ECHO else rng.getrandbits(32)
        cmds.append(Command(op, rng.getrandbits(16), fence, arg0, rng.getrandbits(24), rng.getrandbits(32)))
        model.cmdq.append(dataclasses.replace(cmds[-1]))
        if op == R.OPCODE.ECHO:
            for i in range(arg0):
                last = (i == arg0 - 1) if rng.random() < 0.9 else (i == 0)
                beats.append((rng.getrandbits(beat_bits), last))
    for data, last in beats:
        model.offer(data, last)
    model.settle()
    want_cpl = [(c.fence, c.arg2 % 9 if c.opcode in POLICY_OPCODES else c.status, c.opcode, c.session, c.nbytes)
                for c in model.cplq]
    want_tx = [(b.data, int(b.last)) for b in model.tx_out]
    # a policy command gets ARG1's layer and kv_head (BLOCK_FETCH's head count is kvpath's); the
    # host's requests act (no probe), need no image and are never shared accesses
    want_req = [(c.opcode, c.session, c.arg0, c.arg1 & 0xFFFF, c.arg2, 0, 0, 0)
                for c in cmds if c.opcode in POLICY_OPCODES]
    got_cpl, got_tx, got_req = [], [], []
    stub = {"wait": None}

    def step(n):
        # the stub policy engine: a request is taken once, answered after 0..3 cycles
        p["pol_done_i"].next = False
        if p["pol_req_o"] and not p["pol_done_i"]:
            if stub["wait"] is None:
                got_req.append(tuple(int(p[k]) for k in ("pol_opcode_o", "pol_session_o", "pol_arg0_o",
                                                         "pol_arg1_o", "pol_arg2_o", "pol_probe_o",
                                                         "pol_codec_o", "pol_shared_o")))
                stub["wait"] = rng.randint(0, 3)
            if stub["wait"] == 0:
                p["pol_done_i"].next = True
                p["pol_status_i"].next = int(p["pol_arg2_o"]) % 9
                stub["wait"] = None
            else:
                stub["wait"] -= 1
        if p["cmd_pop_o"]:
            cmds.popleft()
        if p["rx_pop_o"]:
            beats.popleft()
        if p["cpl_push_o"] and not p["cpl_full_i"]:
            got_cpl.append((int(p["cpl_fence_o"]), int(p["cpl_status_o"]), int(p["cpl_opcode_o"]),
                            int(p["cpl_session_o"]), int(p["cpl_bytes_o"])))
        if p["tx_push_o"]:
            assert not p["tx_full_i"], "pushed into a full egress queue"
            got_tx.append((int(p["tx_data_o"]), int(p["tx_last_o"])))
        p["cmd_valid_i"].next = bool(cmds)
        if cmds:
            c = cmds[0]
            p["cmd_opcode_i"].next, p["cmd_session_i"].next = c.opcode, c.session
            p["cmd_fence_i"].next, p["cmd_arg0_i"].next = c.fence, c.arg0
            p["cmd_arg1_i"].next, p["cmd_arg2_i"].next = c.arg1, c.arg2
        offer = bool(beats) and rng.random() < 0.7
        p["rx_valid_i"].next = offer
        if beats:
            p["rx_data_i"].next, p["rx_last_i"].next = beats[0]
        p["cpl_full_i"].next = rng.random() < 0.3
        p["tx_full_i"].next = rng.random() < 0.3

    simulate(cmdproc, (SIM, clk, rst), p, clk, rst, step, 1500)
    assert want_req and got_req == want_req
    assert got_cpl == want_cpl
    assert got_tx == want_tx


# --------------------------------------------------------------------- host_if
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
              "reg_rdata_i": 32, "doorbell_opcode_i": 8, "doorbell_session_i": 16, "cmd_arg0_i": 32,
              "cmd_arg1_layer_i": 8, "cmd_arg1_head_i": 8, "cmd_arg2_i": 32, "step_i": 32,
              "cmd_arg1_o": 16, "cmd_arg2_o": 32, "cmdq_level_o": 8, "next_fence_o": 16, "cmd_opcode_o": 8, "cmd_session_o": 16,
              "cmd_fence_o": 16, "cmd_arg0_o": 32, "cpl_fence_i": 16, "cpl_status_i": 8,
              "cpl_opcode_i": 8, "cpl_session_i": 16, "cpl_bytes_i": 32, "cpl_count_o": 8,
              "cpl_head_fence_o": 16, "cpl_head_status_o": 8, "cpl_head_opcode_o": 8,
              "cpl_head_session_o": 16, "cpl_head_bytes_o": 32, "rx_data_o": beat, "tx_data_i": beat,
              "rx_level_o": 8, "tx_level_o": 8, "events_o": len(HOST_IF_EVENTS)}
    s = {n: sig(widths.get(n, 1)) for n in block_ports(host_if) if n not in ("clk_i", "rst_ni")}
    reqs, resp = [], []
    # (cycle, {signal: value}) script of the master; the register bus answers addr+1, err on 0xBAD
    script = {
        1: {"s_axil_wvalid": 1, "s_axil_wdata": 0x11, "s_axil_wstrb": 0xF},
        6: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x10},
        20: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x20},
        26: {"s_axil_wvalid": 1, "s_axil_wdata": 0x22, "s_axil_wstrb": 0xF},
        40: {"s_axil_awvalid": 1, "s_axil_awaddr": 0x30, "s_axil_wvalid": 1, "s_axil_wdata": 0x33,
             "s_axil_wstrb": 0xF, "s_axil_arvalid": 1, "s_axil_araddr": 0xBAD},
    }
    bready_from, rready_from = 15, 70  # B and R wait for their ready: held, payload stable
    state = {"b_seen": None, "r_seen": None}

    def step(n):
        if s["reg_req_o"]:
            reqs.append((n, int(s["reg_we_o"]), int(s["reg_addr_o"]), int(s["reg_wdata_o"])))
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


# ------------------------------------------------------------------------ rtbd
@pytest.mark.parametrize("set_name", ["sim", "fpga"])
def test_rtbd_hash_is_the_golden_set(set_name):
    """The combinational CRC-32 set hash against golden Directory.set_of on random keys (the
    fpga set also checks a 9-bit set index)."""
    params = param_sets.get(set_name)
    rng = random.Random(21)
    directory = Directory(params.dir_entries, params.dir_ways, 32)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    set_bits = (params.dir_sets - 1).bit_length()
    p = dict(ready_o=sig(1), key_session_i=sig(16), key_layer_i=sig(8), key_head_i=sig(8), key_block_i=sig(24),
             hash_set_o=sig(set_bits), rd_set_i=sig(set_bits), rd_data_o=sig(params.dir_ways * WORD_BITS),
             match_o=sig(params.dir_ways), free_o=sig(params.dir_ways), wr_en_i=sig(params.dir_ways),
             wr_set_i=sig(set_bits), wr_data_i=sig(params.dir_ways * WORD_BITS), win_index_i=sig(16),
             win_data_o=sig(256))
    keys = [(rng.getrandbits(16), rng.getrandbits(8), rng.getrandbits(8), rng.getrandbits(24)) for _ in range(200)]
    keys += [(0, 0, 0, 0), (0xFFFF, 0xFF, 0xFF, 0xFFFFFF)]
    got = []

    def step(n):
        if n:
            got.append(int(p["hash_set_o"]))
        if n < len(keys):
            for name, value in zip(("key_session_i", "key_layer_i", "key_head_i", "key_block_i"), keys[n]):
                p[name].next = value

    # the hash is combinational: the value seen at cycle n+1 is that of key n
    simulate(rtbd, (params, clk, rst), p, clk, rst, step, len(keys) + 1)
    assert got == [directory.set_of(*k) for k in keys]
