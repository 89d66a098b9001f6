"""The KV path's golden model (golden/kvpath.py) on its own: what KV_APPEND stores and KV_FETCH
returns, and every refusal. The RTL is held to it by the codec workloads (tests/test_die.py)."""
import numpy as np
import pytest

from golden import channelquant as cq
from golden import kv1_regs as R
from golden.frame import FrameModel
from golden.kvpath import to_beats
from golden.kvpath import kv_values
from golden.workload.driver import Workload, configure_codec, kv_append, kv_fetch, write_rom
from golden.workload.scenarios.kvpath import codec_directed
from golden import params as param_sets

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
    got, out, events = model.kv.fetch(1, 1 << 24 if how == "index" else 0, 0, 0, model.stored)
    assert got == status and out == bytes(8 * 32 * 16) and events == []
    assert len(to_beats(out, SIM.axis_bytes)) == 8 * 32 * 16 // SIM.axis_bytes


def test_directed_codec_scenario_reaches_every_status():
    w = Workload(SIM, seed=1)
    codec_directed(w)
    seen = {int(l.split()[2], 16) >> 16 & 0xFF for l in w.lines if l.startswith("R 34 ")}
    assert {R.STATUS.OK, R.STATUS.BAD_ARG, R.STATUS.DIR_FULL, R.STATUS.NOT_FOUND, R.STATUS.BAD_STATE} <= seen


def test_rom_write_beyond_the_rom_is_refused():
    w = Workload(SIM, seed=1)
    w.write(R.CQ_ROM_INDEX, SIM.cq_rom_entries)
    assert w.write(R.CQ_ROM_WRITE, 0x0302) == 2
    assert w.model.kv.rom == [0] * SIM.cq_rom_entries
    w.write(R.CQ_ROM_INDEX, SIM.cq_rom_entries - 1)
    assert w.write(R.CQ_ROM_WRITE, 0x0302) == 0
    assert w.read(R.CQ_ROM_DATA)[0] == 0x0302
