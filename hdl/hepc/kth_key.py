"""hepc's selection: the k-th smallest candidate key, by binary search over the key bits, one
select pass over the sets per bit counting the keys below a trial value (no sorting network;
golden: lowest_first in golden/hepc.py)."""
from myhdl import block, always_comb, always_seq, Signal, intbv

KEY_BITS = 16
KEY_ALL = 1 << KEY_BITS   # a bound above every key: take every candidate


@block
def kth_key(clk_i, rst_ni, all_i, search_i, want_i, tally_i, below_i, pass_end_i, took_equal_i,
            bound_o, equal_left_o, last_o):
    """At an edge, one of:
      all_i         take every candidate: bound_o above every key, none equal to it
      search_i      begin a search for the want_i-th smallest key (trial value 0x8000)
      tally_i       below_i: the candidates of one set with a key below bound_o, counted; with
                    pass_end_i (the pass's last set): keep the trial value while fewer than want_i
                    keys lie below it, and try the next bit. last_o: the pass on the last bit;
                    after it, the candidates to take are those with a key below bound_o and the
                    first equal_left_o (in index order) of those equal to it
      took_equal_i  the apply pass took one of those equal to it."""
    CB = len(bound_o)
    assert CB == KEY_BITS + 1 and len(want_i) == len(equal_left_o) == CB
    bound = Signal(intbv(0)[CB:])
    trial_bit = Signal(intbv(0)[CB:])
    accepted = Signal(intbv(0)[CB:])      # keys below `bound` once accepted
    count = Signal(intbv(0)[CB:])         # keys below the trial value, this pass
    equal_left = Signal(intbv(0)[CB:])

    @always_comb
    def outputs():
        bound_o.next = bound
        equal_left_o.next = equal_left
        last_o.next = trial_bit == 1

    @always_seq(clk_i.posedge, reset=rst_ni)
    def search():
        if all_i:
            bound.next = KEY_ALL
            equal_left.next = 0
        elif search_i:
            bound.next = 1 << (KEY_BITS - 1)
            trial_bit.next = 1 << (KEY_BITS - 1)
            accepted.next = 0
            count.next = 0
        elif tally_i:
            total = intbv(0)[CB:]
            total[:] = count
            for w in range(len(below_i)):
                if below_i[w]:
                    total[:] = total + 1
            count.next = total
            if pass_end_i:
                base = intbv(0)[CB:]
                base[:] = bound - trial_bit
                n_below = intbv(0)[CB:]
                n_below[:] = accepted
                if total < want_i:
                    base[:] = bound
                    n_below[:] = total
                accepted.next = n_below
                count.next = 0
                if trial_bit == 1:
                    bound.next = base
                    equal_left.next = want_i - n_below
                else:
                    trial_bit.next = trial_bit >> 1
                    bound.next = base + (trial_bit >> 1)
        elif took_equal_i:
            equal_left.next = equal_left - 1

    return outputs, search
