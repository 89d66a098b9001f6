"""rtbd: the request-tagged block directory's storage (DESIGN §3).

A hashed, set-associative directory: one memory bank per way, `sets` words deep, so a
whole set is read in one cycle (the lookup compares every way at once, and the HEPC scan
reads one set per cycle: banks = ways). A word is the 241-bit entry of golden/rtbd.py
plus the scan's three working flags above it. The set of a key is CRC-32 (zlib) of the
7-byte key modulo the set count (golden/rtbd.py), as one parity of the key per set bit
(hdl/common/set_hash.py). The banks have no reset (so they map to block RAM): after reset the
block clears them, one set per cycle, and holds ready_o low until done.

Read port: rd_set_i is sampled every cycle; rd_data_o shows that set's ways the next cycle,
with match_o (valid and key equal to the key sampled with it) and free_o (not valid).
Write port: wr_en_i has a bit per way, wr_data_i a word per way (way w at bits w*WORD).
Window port: the 32-byte slot of entry win_index_i (= set * ways + way) on win_data_o
the next cycle, zero for indices beyond the directory; its session (win_owner_o) and valid bit
(win_used_o) beside it, for the session table's guard of the window.
"""
from myhdl import block, always, always_comb, Signal, ConcatSignal, intbv, concat

from golden.rtbd import ENTRY_BITS, ENTRY_LAYOUT, SLOT_BYTES
from hdl.common.ram import ram_two_reads, reset_sweep
from hdl.common.set_hash import set_hash
from hdl.common.unroll import word_select

FLAG_BITS = 3                     # ev_cand, pf_cand, demoted (golden has no such state: scan-local)
WORD_BITS = ENTRY_BITS + FLAG_BITS
KEY_BITS = 56
FIELD = {}                        # name -> (lsb, width) in the word
_lsb = 0
for _name, _width in ENTRY_LAYOUT + (("ev_cand", 1), ("pf_cand", 1), ("demoted", 1)):
    FIELD[_name] = (_lsb, _width)
    _lsb += _width


def bounds(name):
    """(msb, lsb) of a field in the word: word[msb:lsb] is the field."""
    lsb, width = FIELD[name]
    return lsb + width, lsb


def field(word, name):
    """Slice of a word (MyHDL signal or intbv) holding a field."""
    lsb, width = FIELD[name]
    return word[lsb + width:lsb] if width > 1 else word[lsb]


@block
def way_compare(word_i, key_i, match_o, free_o):
    """A way's key compare: valid, session, layer, kv_head and token start = block * 32."""
    start_lsb = FIELD["token_start"][0]
    valid_bit = FIELD["valid"][0]

    @always_comb
    def compare():
        free_o.next = not word_i[valid_bit]
        match_o.next = (word_i[valid_bit] and word_i[16:0] == key_i[16:0]
                        and word_i[32:16] == key_i[32:16]
                        and word_i[start_lsb + 29:start_lsb + 5] == key_i[56:32]
                        and word_i[start_lsb + 32:start_lsb + 29] == 0
                        and word_i[start_lsb + 5:start_lsb] == 0)

    return compare


@block
def rtbd(params, clk_i, rst_ni, ready_o,
         key_session_i, key_layer_i, key_head_i, key_block_i, hash_set_o,
         rd_set_i, rd_data_o, match_o, free_o,
         wr_en_i, wr_set_i, wr_data_i,
         win_index_i, win_data_o, win_owner_o, win_used_o):
    ways, sets = params.dir_ways, params.dir_sets
    set_bits = (sets - 1).bit_length()
    way_bits = (ways - 1).bit_length()
    if sets < 2 or sets & (sets - 1) or ways < 2 or ways & (ways - 1):
        raise ValueError(f"rtbd needs power-of-two sets and ways, got {sets} x {ways}")
    assert len(rd_data_o) == len(wr_data_i) == ways * WORD_BITS and len(hash_set_o) == set_bits
    assert len(win_data_o) == 8 * SLOT_BYTES and len(win_owner_o) == FIELD["session"][1]

    key = Signal(intbv(0)[KEY_BITS:])
    key_q = Signal(intbv(0)[KEY_BITS:])
    insts = [set_hash(key, hash_set_o)]

    @always_comb
    def key_concat():
        key.next = concat(key_block_i, key_head_i, key_layer_i, key_session_i)

    @always(clk_i.posedge)
    def key_stage():
        key_q.next = key

    # reset clear: one set per cycle into every bank
    clearing = Signal(bool(1))
    clear_set = Signal(intbv(0)[set_bits:])
    insts.append(reset_sweep(clk_i, rst_ni, clearing, clear_set, sets))

    # banks
    win_set = Signal(intbv(0)[set_bits:])
    win_way = Signal(intbv(0)[way_bits:])
    win_way_q = Signal(intbv(0)[way_bits:])
    win_in_range = Signal(bool(0))
    win_in_range_q = Signal(bool(0))
    # the window's banks are read again only when its index changed or a bank was written
    win_read = Signal(bool(0))
    win_last_index = Signal(intbv(0)[len(win_index_i):])
    wrote = Signal(bool(0))
    rd_words, win_words, matches, frees = [], [], [], []
    for w in range(ways):
        we = Signal(bool(0))
        wset = Signal(intbv(0)[set_bits:])
        wword = Signal(intbv(0)[WORD_BITS:])
        rd_word = Signal(intbv(0)[WORD_BITS:])
        win_word = Signal(intbv(0)[ENTRY_BITS:])
        match, free = Signal(bool(0)), Signal(bool(0))
        insts += [_bank_write_port(clearing, clear_set, wr_en_i, wr_set_i, wr_data_i, we, wset, wword, w),
                  ram_two_reads(clk_i, we, wset, wword, rd_set_i, rd_word, win_set, win_word, sets, win_read),
                  way_compare(rd_word, key_q, match, free)]
        rd_words.append(rd_word)
        win_words.append(win_word)
        matches.append(match)
        frees.append(free)
    rd_vec = ConcatSignal(*reversed(rd_words))
    match_vec = ConcatSignal(*reversed(matches)) if ways > 1 else matches[0]
    free_vec = ConcatSignal(*reversed(frees)) if ways > 1 else frees[0]
    win_word_sel = Signal(intbv(0)[ENTRY_BITS:])
    insts.append(word_select(win_way_q, win_words, win_word_sel))
    N_ENTRIES = ways * sets
    SLOT_PAD = 8 * SLOT_BYTES - ENTRY_BITS

    @always_comb
    def read_outputs():
        ready_o.next = not clearing
        rd_data_o.next = rd_vec
        match_o.next = match_vec
        free_o.next = free_vec

    @always_comb
    def window_address():
        win_set.next = win_index_i[way_bits + set_bits:way_bits]
        win_way.next = win_index_i[way_bits:]

    if N_ENTRIES < 1 << len(win_index_i):
        @always_comb
        def window_range():
            win_in_range.next = win_index_i < N_ENTRIES
    else:  # every index names an entry
        @always_comb
        def window_range():
            win_in_range.next = not clearing

    @always(clk_i.posedge)
    def window_stage():
        win_way_q.next = win_way
        win_in_range_q.next = win_in_range and not clearing
        win_last_index.next = win_index_i
        wrote.next = clearing or wr_en_i != 0

    @always_comb
    def window_refresh():
        win_read.next = win_index_i != win_last_index or wrote

    OWNER_MSB, OWNER_LSB = bounds("session")
    USED = FIELD["valid"][0]

    @always_comb
    def window_out():
        if win_in_range_q:
            win_data_o.next = concat(intbv(0)[SLOT_PAD:], win_word_sel)
            win_owner_o.next = win_word_sel[OWNER_MSB:OWNER_LSB]
            win_used_o.next = win_word_sel[USED]
        else:
            win_data_o.next = 0
            win_owner_o.next = 0
            win_used_o.next = False

    return (insts, key_concat, key_stage, read_outputs, window_address, window_range, window_stage, window_refresh,
            window_out)


@block
def _bank_write_port(clearing, clear_set, wr_en_i, wr_set_i, wr_data_i, we_o, set_o, word_o, way):
    """Way `way`'s write port: the clear after reset, else the engine's write."""
    lsb = way * WORD_BITS
    msb = lsb + WORD_BITS

    @always_comb
    def mux():
        if clearing:
            we_o.next = True
            set_o.next = clear_set
            word_o.next = 0
        else:
            we_o.next = wr_en_i[way]
            set_o.next = wr_set_i
            word_o.next = wr_data_i[msb:lsb]

    return mux
