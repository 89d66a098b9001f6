"""perf: the cycle counter and one saturating counter per event, with snapshot and clear."""
from myhdl import block, always_comb, always_seq, Signal, intbv, ConcatSignal, concat


def kv_amount_bits(params):
    """Width of one byte amount: the KV path moves at most 4 * lanes bytes a cycle (fp32 out)."""
    return (4 * params.cq_lanes).bit_length()


@block
def counter(clk_i, rst_ni, amounts_i, snapshot_i, clear_i, shadow_o, index, amount_bits=1):
    """Adds amount `index` of amounts_i (amount_bits each; 1 bit: an event) every cycle,
    saturating; snapshot_i copies the count to shadow_o first, then clear_i zeroes it (a clearing
    cycle's amount is not counted).

    The counter slices the shared amount vector itself: a MyHDL slice signal of a ConcatSignal
    does not convert."""
    width = len(shadow_o)
    live = Signal(intbv(0)[width:])
    shadow = Signal(intbv(0)[width:])
    lsb = index * amount_bits

    @always_seq(clk_i.posedge, reset=rst_ni)
    def count():
        if snapshot_i:
            shadow.next = live
        if clear_i:
            live.next = 0
        elif amounts_i[lsb + amount_bits:lsb] != 0:
            # adding 0 changes nothing; testing for it first spares MyHDL the sum on the
            # (many) cycles without the event, and is the counter's clock enable in gates
            total = intbv(0)[width + 1:]
            total[:] = live + concat(intbv(0)[width - amount_bits:], amounts_i[lsb + amount_bits:lsb])
            if total[width]:
                live.next = 2**width - 1
            else:
                live.next = total[width:]

    @always_comb
    def output():
        shadow_o.next = shadow

    return count, output


@block
def perf(params, clk_i, rst_ni, host_events_i, hepc_events_i, kv_bytes_i, dma_events_i, move_words_i, late_i,
         snapshot_i, clear_i, cycle_o, count_o):
    """Event k of {hepc_events_i, host_events_i} (the PERF_EVENTS order) feeds counter k, read
    back as count_o[32k+31:32k]; after the events come the byte counters, amount j of kv_bytes_i
    (kv_amount_bits(params) each) added to counter n_events + j, then one counter per bit of
    dma_events_i, then one per move channel adding its amount of move_words_i (the slot-word
    width each: two amounts), then one adding late_i (the dma's late answers of the cycle)."""
    amount_bits = kv_amount_bits(params)
    n_events = len(host_events_i) + len(hepc_events_i)
    n_amounts = len(kv_bytes_i) // amount_bits
    n_dma = len(dma_events_i)
    words_bits = len(move_words_i) // 2
    assert n_amounts * amount_bits == len(kv_bytes_i) and 2 * words_bits == len(move_words_i)
    n = n_events + n_amounts + n_dma + 2 + 1
    if len(count_o) != 32 * n:
        raise ValueError(f"count_o must be {32 * n} bits for {n} events, got {len(count_o)}")
    every_cycle = Signal(intbv(1)[1:])
    u_cycle = counter(clk_i, rst_ni, every_cycle, snapshot_i, clear_i, cycle_o, index=0)
    events = Signal(intbv(0)[n_events:])

    @always_comb
    def gather():
        events.next = concat(hepc_events_i, host_events_i)

    shadows = [Signal(intbv(0)[32:]) for _ in range(n)]
    counters = [counter(clk_i, rst_ni, events, snapshot_i, clear_i, shadows[k], index=k)
                for k in range(n_events)]
    counters += [counter(clk_i, rst_ni, kv_bytes_i, snapshot_i, clear_i, shadows[n_events + j],
                         index=j, amount_bits=amount_bits) for j in range(n_amounts)]
    counters += [counter(clk_i, rst_ni, dma_events_i, snapshot_i, clear_i, shadows[n_events + n_amounts + j],
                         index=j) for j in range(n_dma)]
    counters += [counter(clk_i, rst_ni, move_words_i, snapshot_i, clear_i, shadows[n - 3 + j], index=j,
                         amount_bits=words_bits) for j in range(2)]
    counters.append(counter(clk_i, rst_ni, late_i, snapshot_i, clear_i, shadows[n - 1], index=0,
                            amount_bits=len(late_i)))
    shadows_flat = ConcatSignal(*reversed(shadows)) if n > 1 else shadows[0]

    @always_comb
    def output():
        count_o.next = shadows_flat

    return gather, u_cycle, counters, output
