"""rtbd in MyHDL against golden/rtbd.py: the hash that places a block."""
import random

import pytest
from myhdl import Signal, ResetSignal

from golden.rtbd import Directory
from golden import params as param_sets
from hdl.rtbd.rtbd import rtbd, WORD_BITS
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")



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
             win_data_o=sig(256), win_owner_o=sig(16), win_used_o=sig(1))
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
