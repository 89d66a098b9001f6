"""Small structures unrolled at elaboration.

Converted MyHDL cannot index a list of signals that sub-blocks drive, nor take a part
select with a loop variable; these helpers build the structure from one tiny process per
element instead, so the Verilog is plain continuous logic.
"""
from myhdl import block, always_comb, Signal, ConcatSignal, intbv, modbv


@block
def _select_stage(sel_i, word_i, prev_i, out_o, index):
    @always_comb
    def stage():
        if sel_i == index:
            out_o.next = word_i
        else:
            out_o.next = prev_i

    return stage


@block
def _first_stage(word_i, out_o):
    # index 0 (and any out-of-range select, which callers never make) picks word 0
    @always_comb
    def stage():
        out_o.next = word_i

    return stage


@block
def word_select(sel_i, words, out_o):
    """out_o = words[sel_i]: a chain of two-way multiplexers."""
    chain = [Signal(intbv(0)[len(out_o):]) for _ in words[1:]] + [out_o]
    insts = [_first_stage(words[0], chain[0])]
    for k in range(1, len(words)):
        insts.append(_select_stage(sel_i, words[k], chain[k - 1], chain[k], k))
    return insts


@block
def one_hot(index_i, one_o):
    """one_o: bit index_i set, the others clear (a modbv counter: no integer compare)."""
    IB, N = len(index_i), len(one_o)

    @always_comb
    def decode():
        position = modbv(0)[IB:]
        one = intbv(0)[N:]
        for k in range(N):
            if position == index_i:
                one[k] = 1
            position[:] = position + 1
        one_o.next = one

    return decode


@block
def popcount(vec_i, count_o):
    """count_o: the set bits of vec_i."""
    @always_comb
    def count():
        n = intbv(0)[len(count_o):]
        for i in range(len(vec_i)):
            if vec_i[i]:
                n[:] = n + 1
        count_o.next = n

    return count


@block
def field(vec_i, out_o, lsb):
    """out_o = vec_i[lsb + len(out_o):lsb]."""
    msb = lsb + len(out_o)

    @always_comb
    def cut():
        out_o.next = vec_i[msb:lsb]

    return cut


@block
def split(vec_i, fields):
    """Drives each signal of `fields` from vec_i, field 0 at bit 0, side by side."""
    lsb = [sum(len(f) for f in fields[:i]) for i in range(len(fields))]
    return [field(vec_i, f, at) for f, at in zip(fields, lsb)]


def join(fields):
    """One read-only signal of the fields side by side, field 0 at bit 0."""
    return ConcatSignal(*reversed(fields)) if len(fields) > 1 else fields[0]


@block
def _max2(a_i, b_i, out_o):
    @always_comb
    def larger():
        if a_i > b_i:
            out_o.next = a_i
        else:
            out_o.next = b_i

    return larger


@block
def max_tree(values, out_o):
    """out_o = the largest of the unsigned values, by a balanced tree of comparators."""
    insts = []
    level = list(values)
    while len(level) > 2:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            out = Signal(intbv(0)[len(level[i]):])
            insts.append(_max2(level[i], level[i + 1], out))
            nxt.append(out)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    insts.append(_max2(level[0], level[1], out_o))
    return insts


@block
def _and_or_stage(pick_i, word_i, prev_i, out_o):
    @always_comb
    def stage():
        if pick_i:
            out_o.next = prev_i | word_i
        else:
            out_o.next = prev_i

    return stage


@block
def one_hot_select(picks, words, out_o):
    """out_o = the OR of the words whose pick is set (words[k] when picks[k] alone is; zero when
    none is): an AND-OR, with no index to encode and decode."""
    chain = [Signal(intbv(0)[len(out_o):]) for _ in words[:-1]] + [out_o]
    zero = Signal(intbv(0)[len(out_o):])
    return [_and_or_stage(picks[k], words[k], chain[k - 1] if k else zero, chain[k]) for k in range(len(words))]
