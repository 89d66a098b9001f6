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
    ONES = (1 << width) - 1            # one element's bits

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
            keep[:] = 0
            for i in range(count):      # an element's mask at a time (a bit at a time was a tenth of the die's simulation)
                if below[i]:
                    keep[:] = keep | (ONES << (i * width))
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


@block
def expand(vec_i, drop_i, vec_o, width, stages):
    """The inverse of compact: element i of vec_o is the next unused element of vec_i (from
    element 0) where drop_i bit i is clear; where it is set, don't-care. At most `stages`
    bits of drop_i may be set."""
    count = len(drop_i)
    assert len(vec_i) == len(vec_o) == count * width
    bits = count * width
    ONES = (1 << width) - 1

    @always_comb
    def spread():
        v = intbv(0)[bits:]
        v[:] = vec_i
        d = intbv(0)[count:]
        d[:] = drop_i
        below = intbv(0)[count:]       # elements under the lowest dropped one not yet opened
        keep = intbv(0)[bits:]
        for _ in range(stages):
            seen = False
            for i in range(count):
                seen = seen or bool(d[i])
                below[i] = not seen
            keep[:] = 0
            for i in range(count):
                if below[i]:
                    keep[:] = keep | (ONES << (i * width))
            # open a gap at that element: everything from it up moves up one
            v[:] = (v & keep) | ((v << width) & ~keep)
            d[:] = d & ~(below + 1)
        vec_o.next = v

    return spread


@block
def nibble_unpacker(clk_i, rst_ni, s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tkeep, s_axis_tlast,
                    open_i, pop_i, count_i, clear_i, data_o, held_o, ended_o):
    """Beats of len(s_axis_tdata) bits in (bytes where tkeep is set, from byte 0), nibbles out:
    data_o shows the next beat's worth of held nibbles, nibble 0 in bits [3:0], zeros above
    held_o; pop_i drops count_i of them (all held, when fewer). A beat is taken only while
    open_i and until the image's tlast beat (ended_o); clear_i drops everything held and
    starts the next image."""
    nib = len(s_axis_tdata) // 4      # nibbles per beat
    assert len(data_o) == 4 * nib and len(s_axis_tkeep) == nib // 2
    cap = 2 * nib                      # at most one beat held before a beat is taken
    acc = Signal(intbv(0)[4 * cap:])
    held = Signal(intbv(0, min=0, max=cap + 1))
    ended = Signal(bool(0))
    take = Signal(bool(0))

    @always_comb
    def handshake():
        ready = open_i and not ended and not clear_i and held <= nib
        s_axis_tready.next = ready
        take.next = ready and s_axis_tvalid
        data_o.next = acc[4 * nib:]
        held_o.next = held
        ended_o.next = ended

    @always_seq(clk_i.posedge, reset=rst_ni)
    def store():
        a = intbv(0)[4 * cap:]
        a[:] = acc
        n = intbv(0, min=0, max=cap + 1)
        n[:] = held
        if clear_i:
            a[:] = 0
            n[:] = 0
            ended.next = 0
        elif pop_i:
            a[:] = a >> (4 * count_i)
            if count_i < n:
                n[:] = n - count_i
            else:
                n[:] = 0
        if take:
            beat = intbv(0)[4 * cap:]
            got = intbv(0, min=0, max=nib + 1)
            for i in range(4 * nib):
                beat[i] = s_axis_tdata[i] and s_axis_tkeep[i // 8]
            for j in range(nib // 2):
                if s_axis_tkeep[j]:
                    got[:] = got + 2
            beat[:] = beat << (4 * n)
            a[:] = a | beat
            n[:] = n + got
            if s_axis_tlast:
                ended.next = 1
        acc.next = a
        held.next = n

    return handshake, store
