"""kvpath's append: a KV_APPEND's stream beats through the compressor into the block's hot slot
(golden: KvPath.append; the slot's layout: golden.kvpath.slot_image)."""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, concat

from golden.kvpath import HEADER_FIELDS, header_field, header_words, slot_shift
from golden.policy_engine import BLOCK_TOKENS
from hdl.common.unroll import field, join, popcount, split, word_select
from hdl.kvpath.image_words import image_words


@block
def _lane_nonfinite(exp_i, bad_o):
    """An fp16 exponent of an infinity or NaN: no scale exists for it (golden.channelquant.as_fp16)."""
    @always_comb
    def check():
        bad_o.next = exp_i == 0x1F

    return check


@block
def append(params, clk_i, rst_ni, load_i, beats_i, half_beats_i, start_i, discard_i, stream_i, settle_i,
           slot_i, mode_i, dim_i, k_i, tokens_i, channels_i, profile_i, version_i,
           rx_valid_i, rx_ready_o, rx_pop_o, rx_data_i, rx_zero_i, rx_last_i,
           enc_flush_o, enc_tvalid_o, enc_tready_i, enc_tdata_o, enc_tuser_o,
           enc_out_tvalid_i, enc_out_tready_o, enc_out_tdata_i, enc_out_tkeep_i, enc_out_tlast_i,
           store_valid_o, store_ready_i, store_addr_o, store_data_o, store_ack_i, watchdog_i,
           consumed_o, written_o, bad_o, acked_o, gave_up_o, slot_words_o, in_bytes_o, stored_bytes_o):
    """load_i: a command starts; it consumes beats_i stream beats (0: none), half_beats_i codec
    beats are its K group. start_i: its slot slot_i is granted (the configuration mode_i ...
    channels_i is the block's, profile_i and version_i its session's codec profile). In the
    command's states:
      discard_i  its beats are consumed and dropped; consumed_o: the last one leaves (or none was left)
      stream_i   its beats fill codec beats (the in-gearbox: stream beats from the top) into the
                 compressor, K group then V group (a partial block closed with the codec's flush);
                 the two images go to the slot's words after the header's, then the header
                 (HEADER_FIELDS) to the first words, through the dma's STORE port; written_o: the
                 header's last word is written; bad_o: the framing was wrong (tlast not on the last
                 beat) or a value not finite
      settle_i   the hot memory acknowledges (store_ack_i, one per word); acked_o: every word
                 written is acknowledged; gave_up_o: DMA_WATCHDOG (watchdog_i, 0: never) cycles
                 passed without one
    rx_ready_o: it would take a beat now (its stream timeout counts while none comes); rx_zero_i:
    the beat it takes is a zero beat, whatever rx_data_i holds (a starved command's);
    slot_words_o: the words the slot holds; in_bytes_o, stored_bytes_o: bytes into the compressor
    and stored this cycle (perf)."""
    A, L = params.axis_bytes, params.cq_lanes
    R_IN = 2 * L // A                         # stream beats per codec beat
    BEAT, IW = 8 * A, 8 * L
    HW = header_words(params)
    HB = HW * IW
    SHIFT = slot_shift(params)
    AB = len(store_addr_o)
    assert len(slot_i) == AB - SHIFT and len(slot_words_o) == SHIFT + 1 and HB >= header_field(HEADER_FIELDS[-1][0])[0]

    beats_left = Signal(intbv(0)[len(beats_i):])    # stream beats still to consume
    half_beats = Signal(intbv(0)[len(half_beats_i):])
    framing_err = Signal(bool(0))
    gear = Signal(intbv(0)[16 * L:])
    gear_n = Signal(intbv(0)[max(1, R_IN.bit_length()):])
    enc_beats = Signal(intbv(0)[12:])            # codec beats accepted
    flush_now = Signal(bool(0))
    nonfinite = Signal(bool(0))
    wr_ptr = Signal(intbv(0)[SHIFT:])
    in_value = Signal(bool(0))
    key_bytes = Signal(intbv(0)[16:])
    value_bytes = Signal(intbv(0)[16:])
    stored = Signal(bool(0))                     # both images are in the slot
    hdr_idx = Signal(intbv(0)[max(1, HW.bit_length()):])   # header words written
    # durability: the append completes once the hot memory acknowledged every word it wrote
    pending = Signal(intbv(0)[SHIFT + 1:])       # words written, not acknowledged yet
    quiet = Signal(intbv(0)[len(watchdog_i):])   # settle cycles without an acknowledge
    rx_take, enc_valid, enc_go, store_go, hdr_go = (Signal(bool(0)) for _ in range(5))
    # a stored beat's bytes: counted at the width they need (popcount is a chain of increments,
    # each as wide as its count), widened by wiring for the byte counters that add it
    KEEP_BITS = len(enc_out_tkeep_i).bit_length()
    store_keep_n = Signal(intbv(0)[KEEP_BITS:])
    store_keep_wide = ConcatSignal(intbv(0)[len(key_bytes) - KEEP_BITS:], store_keep_n)
    u_store_keep = popcount(enc_out_tkeep_i, store_keep_n)
    lane_exps = [Signal(intbv(0)[5:]) for _ in range(L)]
    lane_bad = [Signal(bool(0)) for _ in range(L)]
    u_lanes = [field(gear, e, 16 * i + 10) for i, e in enumerate(lane_exps)]
    u_finite = [_lane_nonfinite(e, b) for e, b in zip(lane_exps, lane_bad)]
    beat_bad = join(lane_bad)
    # the header, from the block's configuration and its images' lengths
    parts = dict(dim=dim_i, tokens=tokens_i, mode=mode_i, outliers=k_i, pad=intbv(0)[dict(HEADER_FIELDS)["pad"]:],
                 channels=channels_i, key_bytes=key_bytes, value_bytes=value_bytes, profile=profile_i,
                 version=version_i)
    assert all(len(parts[name]) == width for name, width in HEADER_FIELDS)
    unused = HB - header_field(HEADER_FIELDS[-1][0])[0]
    header = ConcatSignal(intbv(0)[unused:], *reversed([parts[name] for name, _ in HEADER_FIELDS]))
    header_word = Signal(intbv(0)[IW:])
    header_parts = [Signal(intbv(0)[IW:]) for _ in range(HW)]
    u_header_split = split(header, header_parts)
    u_header_select = word_select(hdr_idx, header_parts, header_word)
    key_words, value_words = Signal(intbv(0)[SHIFT + 1:]), Signal(intbv(0)[SHIFT + 1:])
    u_words = [image_words(key_bytes, key_words, L), image_words(value_bytes, value_words, L)]

    @always_comb
    def slot_length():
        # the slot holds the header and both images
        slot_words_o.next = key_words + value_words + HW

    # in-gearbox: stream beats fill a codec beat from the top (its own process: the shift's
    # form depends on the beat ratio, chosen here rather than as a constant branch)
    if R_IN == 1:
        @always_seq(clk_i.posedge, reset=rst_ni)
        def gear_shift():
            if rx_take and stream_i:
                if rx_zero_i:
                    gear.next = 0
                else:
                    gear.next = rx_data_i
    else:
        zero_beat = Signal(intbv(0)[BEAT:])      # constant

        @always_seq(clk_i.posedge, reset=rst_ni)
        def gear_shift():
            if rx_take and stream_i:
                if rx_zero_i:
                    gear.next = concat(zero_beat, gear[len(gear):BEAT])
                else:
                    gear.next = concat(rx_data_i, gear[len(gear):BEAT])

    @always_comb
    def codec_valid():
        # apart from the handshakes: the codec's tready may follow its tvalid combinationally
        enc_valid.next = stream_i and gear_n == R_IN and not flush_now

    @always_comb
    def codec_out():
        enc_tvalid_o.next = enc_valid
        enc_flush_o.next = flush_now
        enc_tdata_o.next = gear
        eu = intbv(0)[len(enc_tuser_o):]
        eu[0] = enc_beats >= half_beats
        enc_tuser_o.next = eu

    @always_comb
    def handshakes():
        gear_full = gear_n == R_IN
        eg = enc_valid and enc_tready_i
        enc_go.next = eg
        ready = False
        if discard_i:
            ready = beats_left != 0
        elif stream_i:
            ready = beats_left != 0 and (not gear_full or eg)
        take = ready and rx_valid_i
        rx_ready_o.next = ready
        rx_take.next = take
        rx_pop_o.next = take
        consumed_o.next = beats_left == 0 or (beats_left == 1 and take)
        # store: images while they come, then the header
        sg = stream_i and enc_out_tvalid_i and store_ready_i and not stored
        store_go.next = sg
        enc_out_tready_o.next = stream_i and store_ready_i and not stored
        writing_header = stream_i and stored and hdr_idx != HW
        hg = writing_header and store_ready_i
        hdr_go.next = hg
        written_o.next = hdr_idx == HW - 1 and hg
        store_valid_o.next = sg or writing_header
        wa = intbv(0)[AB:]
        wa[AB:SHIFT] = slot_i
        if stored:
            wa[len(hdr_idx):] = hdr_idx
        else:
            wa[SHIFT:] = wr_ptr
        store_addr_o.next = wa
        if stored:
            store_data_o.next = header_word
        else:
            store_data_o.next = enc_out_tdata_i
        bad_o.next = framing_err or nonfinite
        acked_o.next = pending == 0 or (pending == 1 and store_ack_i)
        gave_up_o.next = watchdog_i != 0 and quiet >= watchdog_i
        if eg:
            in_bytes_o.next = 2 * L
        else:
            in_bytes_o.next = 0
        if sg:
            stored_bytes_o.next = store_keep_wide[len(stored_bytes_o):]
        else:
            stored_bytes_o.next = 0

    @always_seq(clk_i.posedge, reset=rst_ni)
    def stream():
        wrote = store_go or hdr_go
        if wrote and not store_ack_i:
            pending.next = pending + 1
        elif store_ack_i and not wrote and pending != 0:
            pending.next = pending - 1
        if rx_take:
            beats_left.next = beats_left - 1
            if rx_last_i != (beats_left == 1):
                framing_err.next = True
        if rx_take and stream_i:
            if enc_go:
                gear_n.next = 1
            else:
                gear_n.next = gear_n + 1
        elif enc_go:
            gear_n.next = 0
        flush_now.next = False
        if enc_go:
            if beat_bad != 0:
                nonfinite.next = True
            enc_beats.next = enc_beats + 1
            if tokens_i != BLOCK_TOKENS and (enc_beats + 1 == half_beats or enc_beats + 1 == half_beats << 1):
                flush_now.next = True
        if store_go:
            wr_ptr.next = wr_ptr + 1
            if in_value:
                value_bytes.next = value_bytes + store_keep_wide
            else:
                key_bytes.next = key_bytes + store_keep_wide
            if enc_out_tlast_i:
                in_value.next = True
                if in_value:
                    stored.next = True
        if hdr_go:
            hdr_idx.next = hdr_idx + 1
        if written_o:
            quiet.next = 0
        elif settle_i:
            if store_ack_i:
                quiet.next = 0
            elif quiet != (1 << len(quiet)) - 1:
                quiet.next = quiet + 1
        if load_i:
            framing_err.next = False
            beats_left.next = beats_i
            half_beats.next = half_beats_i
        if start_i:
            pending.next = 0       # what an append the watchdog gave up on left never comes
            enc_beats.next = 0
            gear_n.next = 0
            wr_ptr.next = HW
            in_value.next = False
            key_bytes.next = 0
            value_bytes.next = 0
            stored.next = False
            nonfinite.next = False
            hdr_idx.next = 0

    return (u_store_keep, u_lanes, u_finite, u_header_split, u_header_select, u_words, slot_length, gear_shift,
            codec_valid, codec_out, handshakes, stream)
