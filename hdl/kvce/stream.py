"""Stream plumbing of the codec: dropping outlier lanes, and nibble gearboxes between
variable-length chunks and fixed AXI4-Stream beats."""
from myhdl import block, always_comb, always_seq, Signal, intbv


@block
def compact(vec_i, drop_i, vec_o, width, stages):
    """vec_o: the elements of vec_i (`width` bits each) whose drop_i bit is clear, in order,
    from element 0; above them, don't-care. At most `stages` elements may be dropped."""
    count = len(drop_i)
    assert len(vec_i) == len(vec_o) == count * width
    bits = count * width

    @always_comb
    def squeeze():
        v = intbv(0)[bits:]
        v[:] = vec_i
        d = intbv(0)[count:]
        d[:] = drop_i
        below = intbv(0)[count:]       # elements under the first dropped one
        keep = intbv(0)[bits:]         # ... as a bit mask
        for _ in range(stages):
            seen = False
            for i in range(count):
                seen = seen or bool(d[i])
                below[i] = not seen
            for i in range(bits):
                keep[i] = below[i // width]
            # the first dropped element leaves; everything above it moves down one
            v[:] = (v & keep) | ((v >> width) & ~keep)
            d[:] = (d & below) | ((d >> 1) & ~below)
        vec_o.next = v

    return squeeze


@block
def nibble_packer(clk_i, rst_ni, push_i, data_i, count_i, end_i, ready_o, closing_o,
                  m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tkeep, m_axis_tlast):
    """Chunks of count_i nibbles (data_i from nibble 0; the rest is ignored) in, beats of
    len(m_axis_tdata) bits out, nibble 0 in bits [3:0]. end_i marks the chunk that closes an
    image: its last beat carries tlast and only the bytes it holds in tkeep (an odd nibble
    is padded with 0). ready_o: a chunk may be pushed this cycle (room for one whatever the
    output does). closing_o: an image is closed but not all out yet; push nothing then."""
    nib = len(m_axis_tdata) // 4      # nibbles per beat
    assert len(data_i) == 4 * nib and len(m_axis_tkeep) == nib // 2
    cap = 3 * nib                      # held below 2 beats before a push of at most one
    acc = Signal(intbv(0)[4 * cap:])
    held = Signal(intbv(0, min=0, max=cap + 1))
    closing = Signal(bool(0))
    take = Signal(bool(0))

    @always_comb
    def handshake():
        ready_o.next = held < 2 * nib and not closing
        closing_o.next = closing
        take.next = (not m_axis_tvalid or m_axis_tready) and (held >= nib or (closing and held != 0))

    @always_seq(clk_i.posedge, reset=rst_ni)
    def gearbox():
        a = intbv(0)[4 * cap:]
        a[:] = acc
        n = intbv(0, min=0, max=cap + 1)
        n[:] = held
        if m_axis_tvalid and m_axis_tready:
            m_axis_tvalid.next = 0
        if take:
            m_axis_tvalid.next = 1
            m_axis_tdata.next = a[4 * nib:]
            keep = intbv(0)[nib // 2:]
            for i in range(nib // 2):
                keep[i] = 2 * i < n
            m_axis_tkeep.next = keep
            m_axis_tlast.next = closing and n <= nib
            if closing and n <= nib:
                closing.next = 0
            a[:] = a >> (4 * nib)
            if n > nib:
                n[:] = n - nib
            else:
                n[:] = 0
        if push_i:
            chunk = intbv(0)[4 * cap:]
            for i in range(4 * nib):
                chunk[i] = data_i[i] and (i // 4) < count_i
            chunk[:] = chunk << (4 * n)
            a[:] = a | chunk
            n[:] = n + count_i
            if end_i:
                closing.next = 1
        acc.next = a
        held.next = n

    return handshake, gearbox
