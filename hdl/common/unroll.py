"""Small structures unrolled at elaboration.

Converted MyHDL cannot index a list of signals that sub-blocks drive, nor take a part
select with a loop variable; these helpers build the structure from one tiny process per
element instead, so the Verilog is plain continuous logic.
"""
from myhdl import block, always_comb, Signal, intbv


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
