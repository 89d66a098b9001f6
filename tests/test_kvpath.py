"""The KV path's golden model (golden/kvpath.py) on its own: what KV_APPEND stores and KV_FETCH
returns, and every refusal; kvpath's sub-blocks (span check and walk, outlier ROM) in MyHDL
against it. The whole of kvpath is held to golden by the codec workloads (tests/test_die.py)."""
import random

import numpy as np
import pytest
from myhdl import block, Signal, ResetSignal

from golden import channelquant as cq
from golden import kv1_regs as R
from golden.frame import FrameModel
from golden.kvpath import codec_params, kv_values, slot_image, slot_shift, tier_addr_bits, to_beats, zero_block
from golden.workload.driver import Workload, configure_codec, ensure_open, kv_append, kv_fetch, write_rom
from golden.workload.scenarios.kvpath import codec_directed
from golden import params as param_sets
from golden.data_plane import DataPlane, MIX_SESSIONS, block_args, configured, register_resets
from golden.policy_engine import BLOCK_TOKENS, BLOCK_INDEX_BITS
from hdl.kvce.kvce_dec import kvce_dec, dec_port_signals
from hdl.kvce.kvce_enc import kvce_enc, enc_port_signals
from hdl.kvpath.append import append
from hdl.kvpath.fetch import fetch
from hdl.kvpath.outlier_rom import outlier_rom
from hdl.kvpath.span import span_check, span_walk
from hdl.perf.perf import kv_amount_bits
from tests.blocks import drive, sig, simulate

SIM = param_sets.get("sim")
CQ8, CQ4, CQ4P = (cq.MODES.index(m) for m in ("CQ8", "CQ4", "CQ4plus"))


def fetched(w, start):
    """fp32 values of the beats the model streamed out since index `start`."""
    raw = b"".join(b.data.to_bytes(SIM.axis_bytes, "little") for b in w.model.tx_out[start:])
    return np.frombuffer(raw, "<f4")


@pytest.mark.parametrize("mode, dim, tokens, k", [
    (CQ8, 16, 32, 0), (CQ4, 8, 1, 0), (CQ4, 24, 31, 0), (CQ4P, 16, 32, 2), (CQ4P, 16, 5, 4), (CQ4P, 32, 32, 0)])
def test_fetch_returns_the_codec_reconstruction(mode, dim, tokens, k):
    w = Workload(SIM, seed=mode * 100 + tokens)
    ensure_open(w, *MIX_SESSIONS)
    write_rom(w, 1 << 2 | 1, (1, 4, 6, 7))
    configure_codec(w, mode, dim, outliers=k)
    x = kv_values(w.rng, tokens, dim)
    kv_append(w, (3, 1, 1, 7), x)
    start = len(w.model.tx_out)
    w.block_command(R.OPCODE.KV_FETCH, (3, 1, 1, 7))
    cpl = w.model.cplq[-1]
    assert cpl.status == R.STATUS.OK and cpl.nbytes == 8 * tokens * dim
    out = (1, 4, 6, 7)[:k] if mode == CQ4P else ()
    want = np.concatenate([cq.decode_group(cq.encode_group(x[0], "key", cq.MODES[mode], out)),
                           cq.decode_group(cq.encode_group(x[1], "value", cq.MODES[mode], out))])
    assert np.array_equal(fetched(w, start).view(np.uint32), want.reshape(-1).view(np.uint32))
    assert w.model.tx_out[-1].last and not any(b.last for b in w.model.tx_out[start:-1])
    entry = w.model.policy.dir.entry(w.model.policy.dir.lookup(3, 1, 1, 7))
    assert entry.codec_tier == mode + 1 and entry.tier == R.TIER.HOT


def test_byte_counters_give_the_bits_per_value():
    w = Workload(SIM, seed=3)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, CQ4, 32)
    kv_append(w, (1, 0, 0, 0), kv_values(w.rng, 32, 32))
    kv_fetch(w, (1, 0, 0, 0))
    live = dict(zip(R.PERF_EVENTS, w.model.live))
    assert live["KV_BYTES_IN"] == 4 * 32 * 32
    # keys: 32 channel scales + 32 x 32 nibbles; values: 32 token scales + the same payload
    stored = (2 * 32 + 32 * 32 // 2) * 2
    assert live["KV_BYTES_STORED"] == live["FETCH_BYTES_READ"] == stored
    assert live["FETCH_BYTES_OUT"] == 8 * 32 * 32
    assert 16 * live["KV_BYTES_STORED"] / live["KV_BYTES_IN"] == 4.5


@pytest.mark.parametrize("setup, status, consumed", [
    (dict(tokens=0), R.STATUS.BAD_ARG, False),
    (dict(tokens=33), R.STATUS.BAD_ARG, False),
    (dict(mode=3), R.STATUS.BAD_ARG, True),
    (dict(dim=12), R.STATUS.BAD_ARG, True),                       # not a multiple of the lanes
    (dict(dim=SIM.cq_dim + 8), R.STATUS.BAD_ARG, True),
    (dict(mode=CQ4P, k=2, rom=(7, 7)), R.STATUS.BAD_ARG, True),    # channels not ascending
    (dict(mode=CQ4P, k=2, rom=(3, 40)), R.STATUS.BAD_ARG, True),   # a channel beyond D
    (dict(mode=CQ4P, k=SIM.cq_outliers + 1), R.STATUS.BAD_ARG, True),
    (dict(mode=CQ4P, k=2, head=4), R.STATUS.BAD_ARG, True),        # kv_head needs more HEAD_BITS
    (dict(present=True), R.STATUS.BAD_ARG, True),
    (dict(framing=False), R.STATUS.BAD_ARG, True),
    (dict(nonfinite=True), R.STATUS.BAD_ARG, True),
])
def test_a_refused_append_changes_nothing(setup, status, consumed):
    """The completion (read back by kv_append's check) carries the status; the directory, the
    stored blocks and the hot count are what they were; the beats are consumed unless the token
    count itself was refused."""
    w = Workload(SIM, seed=11)
    ensure_open(w, *MIX_SESSIONS)
    head = setup.get("head", 1)
    write_rom(w, 1 << 2 | (head & 3), setup.get("rom", (2, 9)) + (0, 0))
    if setup.get("present"):
        configure_codec(w, CQ4, 16)
        kv_append(w, (1, 2, head, 3), kv_values(w.rng, 4, 16))
    dim = setup.get("dim", 16)
    configure_codec(w, setup.get("mode", CQ4), dim, outliers=setup.get("k", 2))
    before = (w.model.policy.dir.valid.copy(), dict(w.model.kv.slots), w.model.policy.hot_count())
    x = kv_values(w.rng, 4, dim)
    if setup.get("nonfinite"):
        x[0, 1, 2] = np.float16("nan")
    offered = len(w.model.rx) + w.model.rx_consumed
    kv_append(w, (1, 2, head, 3), x, framing_ok=setup.get("framing", True), tokens=setup.get("tokens"))
    assert w.model.inflight is None
    assert (w.model.rx_consumed + len(w.model.rx) > offered) == consumed and not w.model.rx
    after = (w.model.policy.dir.valid, w.model.kv.slots, w.model.policy.hot_count())
    assert np.array_equal(before[0], after[0]) and before[2] == after[2]
    assert before[1].keys() == after[1].keys()
    statuses = [line for line in w.lines if line.startswith("R 34 ")]
    assert statuses and int(statuses[-1].split()[2], 16) >> 16 & 0xFF == status


def test_full_set_is_dir_full():
    w = Workload(SIM, seed=2)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, CQ8, 8)
    d = w.model.policy.dir
    keys = [(6, 0, 0, b) for b in range(4096) if d.set_of(6, 0, 0, b) == d.set_of(6, 0, 0, 0)][:SIM.dir_ways + 1]
    for key in keys:
        kv_append(w, key, kv_values(w.rng, 2, 8))
    status = int([l for l in w.lines if l.startswith("R 34 ")][-1].split()[2], 16) >> 16 & 0xFF
    assert status == R.STATUS.DIR_FULL and d.lookup(*keys[-1]) is None


@pytest.mark.parametrize("how, status", [("absent", R.STATUS.NOT_FOUND), ("inserted", R.STATUS.BAD_STATE),
                                         ("index", R.STATUS.BAD_ARG)])
def test_a_refused_fetch_streams_a_zero_block(how, status):
    model = FrameModel(SIM)
    model.stored[("CQ_CTRL", "DIM")] = 16
    if how == "inserted":
        model.policy.execute(R.OPCODE.DIR_INSERT, 1, 0, 0, R.TIER.HOT, model.stored)
    got, out, events, _ = model.kv.fetch(1, 1 << 24 if how == "index" else 0, 0, 0, model.stored)
    assert got == status and out == bytes(8 * 32 * 16) and events == []
    assert len(to_beats(out, SIM.axis_bytes)) == 8 * 32 * 16 // SIM.axis_bytes


def test_directed_codec_scenario_reaches_every_status():
    w = Workload(SIM, seed=1)
    ensure_open(w, *MIX_SESSIONS)
    codec_directed(w)
    seen = {int(l.split()[2], 16) >> 16 & 0xFF for l in w.lines if l.startswith("R 34 ")}
    assert {R.STATUS.OK, R.STATUS.BAD_ARG, R.STATUS.DIR_FULL, R.STATUS.NOT_FOUND, R.STATUS.BAD_STATE} <= seen


def test_rom_write_beyond_the_rom_is_refused():
    w = Workload(SIM, seed=1)
    ensure_open(w, *MIX_SESSIONS)
    w.write(R.CQ_ROM_INDEX, SIM.cq_rom_entries)
    assert w.write(R.CQ_ROM_WRITE, 0x0302) == 2
    assert w.model.kv.rom == [0] * SIM.cq_rom_entries
    w.write(R.CQ_ROM_INDEX, SIM.cq_rom_entries - 1)
    assert w.write(R.CQ_ROM_WRITE, 0x0302) == 0
    assert w.read(R.CQ_ROM_DATA)[0] == 0x0302


# ------------------------------------------------------------- kvpath's sub-blocks in MyHDL
def _span_cases(rng, count):
    """BLOCK_FETCH arguments: random ones, and each refusal's edge on both sides."""
    T, top = BLOCK_TOKENS, 1 << BLOCK_INDEX_BITS
    cases = [(0, 1 << 16, 1), (T, 1 << 16, 64 * T), (0, 2 << 16, 32 * T), (0, 2 << 16, 32 * T + 1),
             (1, 1 << 16, 1), (0, 1 << 16, 0), (0, 0, 5), (0, 255 << 8 | 1 << 16, 1), (0, 255 << 8 | 2 << 16, 1),
             ((top - 1) * T, 1 << 16, T), ((top - 1) * T, 1 << 16, T + 1), (0, 65 << 16, 1), (0, 64 << 16, 1),
             (0, 8 << 16, 8 * T), (0, 8 << 16, 8 * T + 1), (0xFFFFFFE0, 1 << 16, 0xFFFFFFFF)]
    for _ in range(count):
        if rng.random() < 0.5:      # plausible: aligned, a few heads and blocks, near the limits
            arg0 = rng.choice([rng.randrange(1 << 12), top - rng.randrange(1, 70)]) * T
            arg1 = rng.randrange(1 << 16) | rng.randint(1, 9) << 16
            arg2 = rng.randint(1, 9 * T)
        else:
            arg0, arg1, arg2 = rng.randrange(1 << 32), rng.randrange(1 << 24), rng.randrange(1 << 32)
        cases.append((arg0 % (1 << 32), arg1, arg2))
    return cases


@pytest.mark.block
def test_span_check_is_golden_s_span():
    """hdl/kvpath/span.py's check against DataPlane.span on every refusal's edge and 2,000 random
    argument sets: the same verdict, and for a span it takes, its first and last block and head."""
    rng = random.Random(20)
    ports = dict(arg0_i=sig(32), arg1_i=sig(24), arg2_i=sig(32), ok_o=sig(1), first_block_o=sig(BLOCK_INDEX_BITS),
                 last_block_o=sig(BLOCK_INDEX_BITS), last_head_o=sig(8))
    plane = DataPlane(SIM, register_resets())
    cases = _span_cases(rng, 2000)
    got = []

    def step(n):
        if n:
            got.append(tuple(int(ports[k]) for k in ("ok_o", "first_block_o", "last_block_o", "last_head_o")))
        if n < len(cases):
            for k, v in zip(("arg0_i", "arg1_i", "arg2_i"), cases[n]):
                ports[k].next = v

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(span_check, (), ports, clk, rst, step, len(cases) + 1)
    taken = 0
    for (arg0, arg1, arg2), (ok, first, last, last_head) in zip(cases, got):
        want = plane.span(arg0, arg1, arg2)
        assert bool(ok) == (want is not None), (hex(arg0), hex(arg1), hex(arg2))
        if want:
            _, heads, first_block, blocks = want
            assert (first, last, last_head) == (first_block, first_block + blocks - 1, heads[-1])
            taken += 1
    assert 200 < taken < len(cases) - 200      # both verdicts well represented


@pytest.mark.block
def test_span_walk_visits_every_block_head_by_head_then_the_first_again():
    """hdl/kvpath/span.py's walk from a span's first key: every (kv_head, block) once in
    DataPlane._block_fetch's order (head by head, block by block), at_last on the last, then the
    first again (the fetch pass follows the resolve pass); a single block (not spanning) is last."""
    B = BLOCK_INDEX_BITS
    ports = dict(spanning_i=sig(1), block_i=sig(32), head_i=sig(8), first_block_i=sig(B), last_block_i=sig(B),
                 first_head_i=sig(8), last_head_i=sig(8), at_last_o=sig(1), next_block_o=sig(B), next_head_o=sig(8))
    spans = [((1 << B) - 3, 3, 250, 4), (0, 1, 7, 1), (5, 8, 0, 8), (9, 1, 3, 64)]   # first block, blocks, head, heads
    plan = []
    for first, blocks, head, heads in spans:
        keys = [(h, b) for h in range(head, head + heads) for b in range(first, first + blocks)]
        plan.append((first, blocks, head, heads, keys + keys[:1]))
    walked, state = [], {"span": 0, "key": None}

    def step(n):
        s = state["span"]
        if s == len(plan):
            return
        first, blocks, head, heads, keys = plan[s]
        if state["key"] is not None:      # the outputs for the key driven last cycle
            walked.append((s, state["key"], bool(ports["at_last_o"])))
            state["key"] = (int(ports["next_head_o"]), int(ports["next_block_o"]))
            if len([w for w in walked if w[0] == s]) == len(keys) - 1:
                state["span"], state["key"] = s + 1, None
                return step(n)
        else:
            state["key"] = keys[0]
        for k, v in (("spanning_i", blocks * heads > 1), ("first_block_i", first), ("last_block_i", first + blocks - 1),
                     ("first_head_i", head), ("last_head_i", head + heads - 1)):
            ports[k].next = v
        ports["head_i"].next, ports["block_i"].next = state["key"]

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(span_walk, (), ports, clk, rst, step, sum(len(p[4]) for p in plan) + 8)
    for s, (first, blocks, head, heads, keys) in enumerate(plan):
        mine = [(key, last) for t, key, last in walked if t == s]
        assert [key for key, _ in mine] == keys[:-1]
        assert [last for _, last in mine] == [False] * (len(keys) - 2) + [True]


@pytest.mark.block
def test_outlier_rom_reads_back_what_software_wrote_on_both_ports():
    """hdl/kvpath/outlier_rom.py against the golden model's ROM (a list written through
    CQ_ROM_WRITE): random writes and reads, beyond the ROM too (busy, nothing written, data 0), and
    the append port reading any entry in the same cycle."""
    rng = random.Random(21)
    ports = dict(index_i=sig(16), we_i=sig(1), ch0_i=sig(8), ch1_i=sig(8), ch2_i=sig(8), ch3_i=sig(8),
                 data_o=sig(32), busy_o=sig(1), append_index_i=sig(16), entry_o=sig(32))
    rom = [0] * SIM.cq_rom_entries
    errors, seen = [], {"busy": 0, "read": 0}

    def step(n):
        index, append = int(ports["index_i"]), int(ports["append_index_i"])
        busy = index >= len(rom)
        if bool(ports["busy_o"]) != busy or int(ports["data_o"]) != (0 if busy else rom[index]):
            errors.append((n, index))
        if int(ports["entry_o"]) != rom[append]:
            errors.append((n, "append", append))
        seen["busy"] += busy
        seen["read"] += not busy and rom[index] != 0
        if ports["we_i"] and not busy:
            rom[index] = sum(int(ports[f"ch{c}_i"]) << 8 * c for c in range(4))
        ports["index_i"].next = rng.randrange(len(rom) + 3)
        ports["we_i"].next = rng.random() < 0.3
        for c in range(4):
            ports[f"ch{c}_i"].next = rng.randrange(256)
        ports["append_index_i"].next = rng.randrange(len(rom))

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(outlier_rom, (SIM, clk), ports, clk, rst, step, 2000)
    assert errors == [] and seen["busy"] > 100 and seen["read"] > 100


# ----------------------------------------------------------- append and fetch, with the codec
AB, SHIFT = tier_addr_bits(SIM), slot_shift(SIM)
LANES, BEAT_BYTES = SIM.cq_lanes, SIM.axis_bytes
CODEC_CASES = [(CQ8, 16, 32, (), "ok"), (CQ4, 8, 1, (), "ok"), (CQ4, 24, 31, (), "ok"), (CQ4P, 16, 32, (1, 4), "ok"),
               (CQ4P, 16, 5, (0, 3, 9, 15), "ok"), (CQ4P, 32, 32, (), "ok"), (CQ4, 16, 32, (), "framing"),
               (CQ8, 8, 7, (), "nonfinite"), (CQ4P, 16, 32, (2, 5), "zeroed")]


def golden_block(rng, mode, dim, tokens, chans, fault):
    """The case's values, golden's status and, when stored, its StoredBlock (DataPlane.execute),
    appended by session 1 of a random codec profile; for "zeroed" the beats sent are random and
    golden's block is the zero beats the append takes instead (rx_zero_i, a starved stream)."""
    dp = configured(SIM, dim=dim, mode=cq.MODES[mode], sessions=())
    dp.sessions.open(1, 0, profile=rng.getrandbits(8), version=rng.getrandbits(8))
    dp.stored[("CQ_CTRL", "OUTLIERS")] = len(chans)
    dp.kv.rom[0] = sum(c << 8 * i for i, c in enumerate(chans))
    x = kv_values(rng, tokens, dim)
    if fault == "nonfinite":
        x[1, tokens - 1, dim - 1] = np.inf
    beats = to_beats(x.astype("<f2").tobytes(), BEAT_BYTES)
    taken = [0] * len(beats) if fault == "zeroed" else beats   # rx_zero_i: the append takes zero beats
    cpl = dp.execute(R.OPCODE.KV_APPEND, 1, 3, block_args(0, 0), tokens, taken, framing_err=fault == "framing")
    index = dp.policy.dir.lookup(1, 0, 0, 3)
    return dp, beats, cpl.status, None if index is None else dp.kv.slots[index]


def codec_config(ports, mode, dim, tokens, chans):
    """What kvpath shows the codec for a block: its mode, D, g and the outlier mask."""
    ports["mode_i"].next, ports["dim_i"].next, ports["outliers_i"].next = mode, dim, len(chans)
    ports["mask_i"].next = sum(1 << c for c in chans)
    ports["mask_ok_i"].next = True
    if "group_i" in ports:
        ports["group_i"].next = BLOCK_TOKENS
    else:
        ports["tokens_i"].next = tokens


@block
def _with_codec(block_fn, codec_fn, ports, codec_ports):
    return block_fn(SIM, **ports), codec_fn(codec_params(SIM), **codec_ports)


@pytest.mark.block
def test_append_with_the_compressor_stores_golden_s_slot_image():
    """hdl/kvpath/append.py with kvce_enc in MyHDL against golden (DataPlane's KV_APPEND and
    slot_image): every mode, partial blocks, CQ-4+ with 2 and 4 outlier channels, beats with gaps,
    a STORE port that stalls and acknowledges late; the words written are exactly the slot golden
    describes (header, K image, V image), slot_words_o is its length, and the append settles once
    every word is acknowledged. A wrong framing and a non-finite value are bad_o (golden: BAD_ARG).
    Beats taken while rx_zero_i is up are zero beats, whatever they held."""
    rng = random.Random(31)
    enc = enc_port_signals(codec_params(SIM))
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    enc["clk_i"], enc["rst_ni"] = clk, rst
    ports = dict(clk_i=clk, rst_ni=rst, load_i=sig(1), beats_i=sig(17), half_beats_i=sig(12), start_i=sig(1),
                 discard_i=sig(1), stream_i=sig(1), settle_i=sig(1), slot_i=sig(AB - SHIFT), mode_i=sig(2),
                 dim_i=sig(8), k_i=sig(3), tokens_i=sig(6), channels_i=sig(32), profile_i=sig(8), version_i=sig(8),
                 rx_valid_i=sig(1), rx_ready_o=sig(1), rx_pop_o=sig(1), rx_data_i=sig(8 * BEAT_BYTES), rx_zero_i=sig(1),
                 rx_last_i=sig(1),
                 enc_flush_o=enc["flush_i"], enc_tvalid_o=enc["s_axis_tvalid"], enc_tready_i=enc["s_axis_tready"],
                 enc_tdata_o=enc["s_axis_tdata"], enc_tuser_o=enc["s_axis_tuser"],
                 enc_out_tvalid_i=enc["m_axis_tvalid"], enc_out_tready_o=enc["m_axis_tready"],
                 enc_out_tdata_i=enc["m_axis_tdata"], enc_out_tkeep_i=enc["m_axis_tkeep"],
                 enc_out_tlast_i=enc["m_axis_tlast"],
                 store_valid_o=sig(1), store_ready_i=sig(1), store_addr_o=sig(AB), store_data_o=sig(8 * LANES),
                 store_ack_i=sig(1), watchdog_i=sig(16), consumed_o=sig(1), written_o=sig(1), bad_o=sig(1),
                 acked_o=sig(1), gave_up_o=sig(1), slot_words_o=sig(SHIFT + 1), in_bytes_o=sig(kv_amount_bits(SIM)),
                 stored_bytes_o=sig(kv_amount_bits(SIM)))
    errors, done = [], []

    def script():
        for n, (mode, dim, tokens, chans, fault) in enumerate(CODEC_CASES):
            dp, beats, status, blk = golden_block(rng, mode, dim, tokens, chans, fault)
            slot = rng.randrange(SIM.dir_entries)
            for name, v in dict(mode_i=mode, dim_i=dim, k_i=len(chans), tokens_i=tokens, slot_i=slot,
                                channels_i=sum(c << 8 * i for i, c in enumerate(chans)), watchdog_i=0,
                                rx_zero_i=fault == "zeroed",
                                beats_i=len(beats), half_beats_i=tokens * dim // LANES,
                                **dict(zip(("profile_i", "version_i"), dp.profile(1)))).items():
                ports[name].next = v
            codec_config(enc, mode, dim, tokens, chans)
            for strobe in ("load_i", "start_i"):
                ports[strobe].next = True
                yield
                ports[strobe].next = False
            memory, acks, cycle, phase = {}, [], 0, "stream_i"
            ports["stream_i"].next = True
            while cycle < 20_000:
                cycle += 1
                ports["rx_valid_i"].next = bool(beats) and rng.random() < 0.7
                if beats:
                    ports["rx_data_i"].next = beats[0]
                    ports["rx_last_i"].next = (len(beats) == 1) != (fault == "framing" and len(beats) <= 2)
                ports["store_ready_i"].next = rng.random() < 0.7
                due = bool(acks) and acks[0] <= cycle
                ports["store_ack_i"].next = due
                yield
                if due:
                    acks.pop(0)
                if ports["rx_pop_o"] != (ports["rx_ready_o"] and ports["rx_valid_i"]):
                    errors.append((n, "rx_ready_o is not the take without the beat", cycle))
                if ports["rx_ready_o"] and not beats:
                    errors.append((n, "ready for a beat after the last", cycle))
                if ports["rx_pop_o"]:
                    beats.pop(0)
                if ports["store_valid_o"] and ports["store_ready_i"]:
                    memory[int(ports["store_addr_o"])] = int(ports["store_data_o"])
                    acks.append(cycle + rng.randrange(0, 6))
                if phase == "stream_i" and ports["written_o"]:
                    bad = bool(ports["bad_o"])
                    phase = "settle_i"
                    ports["stream_i"].next, ports["settle_i"].next = False, True
                elif phase == "settle_i" and ports["acked_o"]:
                    ports["settle_i"].next = False
                    break
            yield
            want_bad = status == R.STATUS.BAD_ARG
            if want_bad != (fault in ("framing", "nonfinite")) or (blk is None) != want_bad:
                errors.append((n, "golden", status))
            if phase != "settle_i" or acks or bad != want_bad:
                errors.append((n, "ended", phase, len(acks), bad, status))
            if blk is not None:
                image = slot_image(blk, SIM)
                base = slot << SHIFT
                if memory != {base + i: w for i, w in enumerate(image)} or int(ports["slot_words_o"]) != len(image):
                    errors.append((n, "slot", sorted(memory)[:3], base, len(image), int(ports["slot_words_o"])))
            done.append(n)

    simulate(_with_codec, (append, kvce_enc, ports, enc), {}, clk, rst, drive(script()), 60_000)
    assert errors == []
    assert done == list(range(len(CODEC_CASES)))


@pytest.mark.block
def test_fetch_with_the_decompressor_streams_golden_s_block_and_zero_block():
    """hdl/kvpath/fetch.py with kvce_dec in MyHDL against golden: the slot golden_block's append
    stored (slot_image), streamed in with gaps, parses to the block's own configuration and comes
    out as golden's KV_FETCH output, beat for beat, through a stalling output queue, tlast on the
    last beat; a zero block is golden's zero_block. Every third block is skipped instead (a
    reader of another codec profile): its words are all taken, nothing goes to the stream."""
    rng = random.Random(32)
    dec = dec_port_signals(codec_params(SIM))
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    dec["clk_i"], dec["rst_ni"] = clk, rst
    ports = dict(clk_i=clk, rst_ni=rst, start_i=sig(1), header_i=sig(1), parse_i=sig(1), read_i=sig(1), skip_i=sig(1),
                 zero_i=sig(1), skip_done_o=sig(1), profile_o=sig(8), version_o=sig(8),
                 zero_load_i=sig(1), zero_beats_i=sig(16), last_i=sig(1),
                 fetch_data_valid_i=sig(1), fetch_data_ready_o=sig(1), fetch_data_i=sig(8 * LANES),
                 fetch_done_i=sig(1), fetch_timeout_i=sig(1),
                 dec_tvalid_o=dec["s_axis_tvalid"], dec_tready_i=dec["s_axis_tready"], dec_tdata_o=dec["s_axis_tdata"],
                 dec_tkeep_o=dec["s_axis_tkeep"], dec_tlast_o=dec["s_axis_tlast"], dec_tuser_o=dec["s_axis_tuser"],
                 dec_out_tvalid_i=dec["m_axis_tvalid"], dec_out_tready_o=dec["m_axis_tready"],
                 dec_out_tdata_i=dec["m_axis_tdata"], dec_out_tlast_i=dec["m_axis_tlast"],
                 tx_push_o=sig(1), tx_full_i=sig(1), tx_data_o=sig(8 * BEAT_BYTES), tx_last_o=sig(1),
                 header_done_o=sig(1), dim_o=sig(8), tokens_o=sig(6), mode_o=sig(2), k_o=sig(3), channels_o=sig(32),
                 block_end_o=sig(1), read_bytes_o=sig(kv_amount_bits(SIM)), out_bytes_o=sig(kv_amount_bits(SIM)))
    errors, done = [], []

    def stream_out(state, words):
        """Run `state` until the block's last beat leaves; -> the beats and their tlast flags."""
        out, cycle = [], 0
        ports[state].next = True
        while cycle < 20_000:
            cycle += 1
            ports["fetch_data_valid_i"].next = bool(words) and rng.random() < 0.7
            if words:
                ports["fetch_data_i"].next = words[0]
            ports["tx_full_i"].next = rng.random() < 0.3
            yield
            if ports["fetch_data_valid_i"] and ports["fetch_data_ready_o"]:
                words.pop(0)
            if ports["tx_push_o"]:
                out.append((int(ports["tx_data_o"]), bool(ports["tx_last_o"])))
            ends = {"header_i": "header_done_o", "skip_i": "skip_done_o"}.get(state, "block_end_o")
            if ports[ends]:
                break
        else:
            errors.append((state, "never ended"))
        ports[state].next = False
        ports["fetch_data_valid_i"].next = False
        return out

    def script():
        for n, (mode, dim, tokens, chans, fault) in enumerate(CODEC_CASES):
            dp, _, status, blk = golden_block(rng, mode, dim, tokens, chans, fault)
            ports["last_i"].next = n % 2 == 0
            if blk is None:           # a refused append: fetch a zero block instead
                want = zero_block(dp.stored)
                ports["zero_beats_i"].next = len(want) // BEAT_BYTES
                ports["zero_load_i"].next = True
                yield
                ports["zero_load_i"].next = False
                beats = yield from stream_out("zero_i", [])
            else:
                want = dp.execute(R.OPCODE.KV_FETCH, 1, 3, block_args(0, 0)).out
                words = slot_image(blk, SIM)
                ports["start_i"].next = True
                yield
                ports["start_i"].next = False
                yield from stream_out("header_i", words)
                ports["parse_i"].next = True
                yield
                ports["parse_i"].next = False
                yield
                shown = (int(ports["mode_o"]), int(ports["dim_o"]), int(ports["tokens_o"]), int(ports["k_o"]),
                         int(ports["channels_o"]), int(ports["profile_o"]), int(ports["version_o"]))
                if shown != (mode, dim, tokens, len(chans), sum(c << 8 * i for i, c in enumerate(chans)), *blk.profile):
                    errors.append((n, "header", shown))
                codec_config(dec, *shown[:3], chans)
                if n % 3 == 1:
                    want = b""
                beats = yield from stream_out("skip_i" if n % 3 == 1 else "read_i", words)
                if words:
                    errors.append((n, "words left", len(words)))
            got = b"".join(d.to_bytes(BEAT_BYTES, "little") for d, _ in beats)
            lasts = [last for _, last in beats]
            if got != want or lasts != ([False] * (len(beats) - 1) + [n % 2 == 0] if want else []):
                errors.append((n, "stream", len(got), len(want), lasts[-3:]))
            done.append(n)
            yield

    simulate(_with_codec, (fetch, kvce_dec, ports, dec), {}, clk, rst, drive(script()), 100_000)
    assert errors == []
    assert done == list(range(len(CODEC_CASES)))
