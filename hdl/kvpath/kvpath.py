"""kvpath: KV_APPEND and KV_FETCH through the codec and the hot tier (golden/kvpath.py).

KV_APPEND  checks the token count (nothing consumed when refused), samples CQ_CTRL and reads the
           block's outlier ROM entry; a good configuration asks hepc whether the block can be
           inserted (a probe: status and entry index, nothing written). Then the s_axis beats go
           through the in-gearbox into kvce_enc (K group, then V group; a partial block is closed
           with the codec's flush), and the two images into the entry's hot-tier slot through the
           dma's STORE channel, the header last; it completes once the hot memory has
           acknowledged every word. A good framing then inserts the block and has the dma record
           the slot's length in words (stored_o). Any refusal before the stream discards the
           command's beats instead.
KV_FETCH   accesses the block through hepc (which refuses an entry without a stored image),
           hands the dma's FETCH channel the entry and the tier hepc answered for it, and
           takes the slot back as a stream: the header, then the K and V images into kvce_dec,
           and streams the fp32 words out through the out-gearbox. A refused fetch, and one the
           dma's watchdog gave up on (TIMEOUT), streams a zero block.
BLOCK_FETCH checks its span (golden.data_plane.span; BAD_ARG and a zero block when refused), then
           resolves every block of it, head by head and block by block, with hepc's probe
           access: the session's own block, else (session not 0) session 0's as a shared one.
           The first refusal ends the command with its status and one zero block. Then each
           block is fetched as KV_FETCH fetches it (its own access, with the key that resolved
           it); a timed-out block streams a zero block and the span goes on, completing with
           TIMEOUT. One stream: tlast on the span's last beat.

A slot is at most 2^SLOT_SHIFT words (lanes bytes each) at word address entry << SLOT_SHIFT:
header words, the K image, the V image. The header (HEADER_FIELDS, LSB first) makes a stored
block self-describing. The STORE port: valid/ready, word address, data; store_ack_i pulses once per
word the hot memory acknowledged.
"""
from myhdl import block, always_comb, always_seq, Signal, intbv, modbv, enum, concat

from golden.kv1_regs import OPCODE, STATUS, TIER
from golden.kvpath import ROM_CHANNELS, HEADER_BITS, header_words, slot_shift, tier_addr_bits
from golden.policy_engine import BLOCK_TOKENS, BLOCK_INDEX_BITS
from hdl.common.fifo import fifo
from hdl.common.unroll import field, split, join, word_select
from hdl.kvpath.outlier_rom import outlier_rom
from hdl.kvpath.span import span_check, span_walk
from hdl.kvce.kvce_enc import MODE_CQ4PLUS, _log2

HEADER_FIELDS = (("dim", 8), ("tokens", 6), ("mode", 2), ("outliers", 3), ("pad", 5),
                 ("channels", 8 * ROM_CHANNELS), ("key_bytes", 16), ("value_bytes", 16))
RSP_DEPTH = 4                 # slot words from the dma the engine can hold
KV_AMOUNTS = 5                # perf amounts: bytes into the compressor, stored, read, out of the decompressor; store timeouts


def _hdr(name):
    lsb = 0
    for n, w in HEADER_FIELDS:
        if n == name:
            return lsb + w, lsb
        lsb += w
    raise KeyError(name)


assert _hdr("value_bytes")[0] <= HEADER_BITS


@block
def _popcount(vec_i, count_o):
    @always_comb
    def count():
        n = intbv(0)[len(count_o):]
        for i in range(len(vec_i)):
            if vec_i[i]:
                n[:] = n + 1
        count_o.next = n

    return count


@block
def _lane_nonfinite(exp_i, bad_o):
    """An fp16 exponent of an infinity or NaN: no scale exists for it (golden.channelquant.as_fp16)."""
    @always_comb
    def check():
        bad_o.next = exp_i == 0x1F

    return check


@block
def _outlier_mask(channels_i, k_i, mask_o):
    """Bit c set for each of the first k_i of the four channels (8 bits each) in channels_i;
    channels at or beyond the mask's width set nothing. Four indexed sets, not a loop over the
    channels: this block is evaluated every cycle and the loop was a tenth of the Verilator
    model's time."""
    D = len(mask_o)
    LOG_D = _log2(D)
    assert LOG_D <= 8, "a channel number is 8 bits"
    c0, c1, c2, c3 = (Signal(intbv(0)[8:]) for _ in range(ROM_CHANNELS))
    u_split = split(channels_i, [c0, c1, c2, c3])

    @always_comb
    def decode():
        m = intbv(0)[D:]
        if k_i > 0 and c0 < D:
            m[c0[LOG_D:]] = 1
        if k_i > 1 and c1 < D:
            m[c1[LOG_D:]] = 1
        if k_i > 2 and c2 < D:
            m[c2[LOG_D:]] = 1
        if k_i > 3 and c3 < D:
            m[c3[LOG_D:]] = 1
        mask_o.next = m

    return u_split, decode


@block
def _channels_ok(channels_i, k_i, dim_i, ok_o):
    """The first k_i channels are strictly ascending and below dim_i."""
    c0, c1, c2, c3 = (Signal(intbv(0)[8:]) for _ in range(ROM_CHANNELS))
    u_split = split(channels_i, [c0, c1, c2, c3])

    @always_comb
    def check():
        ok = True
        if k_i > 0 and c0 >= dim_i:
            ok = False
        if k_i > 1 and (c1 <= c0 or c1 >= dim_i):
            ok = False
        if k_i > 2 and (c2 <= c1 or c2 >= dim_i):
            ok = False
        if k_i > 3 and (c3 <= c2 or c3 >= dim_i):
            ok = False
        ok_o.next = ok

    return u_split, check


@block
def kvpath(params, clk_i, rst_ni,
           req_i, opcode_i, session_i, arg0_i, arg1_i, arg2_i, done_o, status_o, bytes_o,
           mode_i, outliers_i, head_bits_i, dim_i,
           rom_index_i, rom_we_i, rom_ch0_i, rom_ch1_i, rom_ch2_i, rom_ch3_i, rom_data_o, rom_busy_o,
           dir_req_o, dir_opcode_o, dir_session_o, dir_arg0_o, dir_arg1_o, dir_arg2_o, dir_probe_o, dir_shared_o,
           dir_codec_o, dir_done_i, dir_status_i, dir_index_i,
           rx_valid_i, rx_pop_o, rx_data_i, rx_last_i, tx_push_o, tx_full_i, tx_data_o, tx_last_o,
           enc_mode_o, enc_dim_o, enc_group_o, enc_outliers_o, enc_flush_o,
           enc_tvalid_o, enc_tready_i, enc_tdata_o, enc_tuser_o, enc_mask_o, enc_mask_ok_o,
           enc_out_tvalid_i, enc_out_tready_o, enc_out_tdata_i, enc_out_tkeep_i, enc_out_tlast_i,
           dec_mode_o, dec_dim_o, dec_tokens_o, dec_outliers_o,
           dec_tvalid_o, dec_tready_i, dec_tdata_o, dec_tkeep_o, dec_tlast_o, dec_tuser_o,
           dec_mask_o, dec_mask_ok_o,
           dec_out_tvalid_i, dec_out_tready_o, dec_out_tdata_i, dec_out_tlast_i,
           store_valid_o, store_ready_i, store_addr_o, store_data_o, store_ack_i, watchdog_i,
           stored_o, stored_entry_o, stored_words_o, dir_tier_i,
           fetch_valid_o, fetch_ready_i, fetch_entry_o, fetch_src_o,
           fetch_data_valid_i, fetch_data_ready_o, fetch_data_i, fetch_done_i, fetch_timeout_i, kv_bytes_o):
    A, L = params.axis_bytes, params.cq_lanes
    DMAX, KMAX, ROMS = params.cq_dim, params.cq_outliers, params.cq_rom_entries
    if (2 * L) % A or (4 * L) % A:
        raise ValueError(f"kvpath: a codec beat ({2 * L} bytes in, {4 * L} out) must be whole stream beats of {A}")
    R_IN, R_OUT = 2 * L // A, 4 * L // A      # stream beats per codec beat, in and out
    BEAT, IW = 8 * A, 8 * L
    HW = header_words(params)
    HB = HW * IW                                # header register bits
    SHIFT = slot_shift(params)
    AB = len(store_addr_o)
    LOG_A, LOG_L = _log2(A), _log2(L)
    AMT = len(kv_bytes_o) // KV_AMOUNTS
    assert AB == tier_addr_bits(params) and HB >= _hdr("value_bytes")[0]
    assert len(fetch_entry_o) == len(stored_entry_o) == AB - SHIFT and len(stored_words_o) == SHIFT + 1
    assert KMAX <= ROM_CHANNELS == 4 and DMAX < 256
    # header fields (constants for the processes)
    H_DIM_H, H_DIM_L = _hdr("dim")
    H_TOKENS_H, H_TOKENS_L = _hdr("tokens")
    H_MODE_H, H_MODE_L = _hdr("mode")
    H_OUTLIERS_H, H_OUTLIERS_L = _hdr("outliers")
    H_CHANNELS_H, H_CHANNELS_L = _hdr("channels")
    H_KEY_BYTES_H, H_KEY_BYTES_L = _hdr("key_bytes")
    H_VALUE_BYTES_H, H_VALUE_BYTES_L = _hdr("value_bytes")

    LOG_B = _log2(BLOCK_TOKENS)
    t_state = enum("IDLE", "PROBE", "DISCARD", "STREAM", "SETTLE", "INSERT", "RESOLVE", "ACCESS", "ZERO",
                   "ASK", "HEADER", "PARSE", "READ", "DONE")
    state = Signal(t_state.IDLE)
    status = Signal(intbv(0)[8:])
    nbytes = Signal(intbv(0)[32:])
    # the command's configuration
    mode = Signal(intbv(0)[2:])
    dim = Signal(intbv(0)[8:])
    k = Signal(intbv(0)[3:])
    tokens = Signal(intbv(0)[6:])
    channels = Signal(intbv(0)[8 * ROM_CHANNELS:])
    slot = Signal(intbv(0)[AB - SHIFT:])
    cfg_ok = Signal(bool(0))
    zero_dim = Signal(intbv(0)[8:])             # CQ_CTRL.DIM at the start: a zero block's D
    # the directory key of the block at hand: BLOCK_FETCH walks it over its span
    key_block = Signal(intbv(0)[32:])
    key_head = Signal(intbv(0)[8:])
    borrow = Signal(bool(0))                    # looking at session 0's block (a shared prefix)
    spanning = Signal(bool(0))                  # a BLOCK_FETCH with blocks after this one
    # the span, from the command's arguments (cmdproc holds them until the command completes)
    span_ok = Signal(bool(0))
    first_block, last_block = Signal(intbv(0)[BLOCK_INDEX_BITS:]), Signal(intbv(0)[BLOCK_INDEX_BITS:])
    last_head = Signal(intbv(0)[8:])
    at_last = Signal(bool(0))                   # the span's (a KV_FETCH's only) block
    block_end = Signal(bool(0))                 # the block's (or its zero block's) last beat leaves
    # the key after this one: the span's first again after its last (the fetch pass follows the
    # resolve pass); modbv, since they are computed every cycle, from any key
    next_block = Signal(modbv(0)[BLOCK_INDEX_BITS:])
    next_head = Signal(modbv(0)[8:])
    rom_entry = Signal(intbv(0)[32:])            # the outlier ROM's entry of the append's (layer, kv_head)
    hdr_word = Signal(intbv(0)[IW:])
    # stream counters
    beats_left = Signal(intbv(0)[17:])          # s_axis beats still to consume
    framing_err = Signal(bool(0))
    gear = Signal(intbv(0)[16 * L:])
    gear_n = Signal(intbv(0)[max(1, R_IN.bit_length()):])
    enc_beats = Signal(intbv(0)[12:])            # codec beats accepted
    half_beats = Signal(intbv(0)[12:])           # codec beats of the K group
    flush_now = Signal(bool(0))
    # store side
    wr_ptr = Signal(intbv(0)[SHIFT:])
    in_value = Signal(bool(0))
    key_bytes = Signal(intbv(0)[16:])
    value_bytes = Signal(intbv(0)[16:])
    stored = Signal(bool(0))                     # both images are in the slot
    # durability: an append completes once the hot memory acknowledged every word it wrote
    pending = Signal(intbv(0)[SHIFT + 1:])       # words written, not acknowledged yet
    quiet = Signal(intbv(0)[len(watchdog_i):])   # SETTLE cycles without a write or an acknowledge
    store_timeout = Signal(bool(0))              # the watchdog gave up on an acknowledge (a perf amount)
    hdr_idx = Signal(intbv(0)[max(1, HW.bit_length()):])   # header words written / read
    header = Signal(intbv(0)[HB:])               # fetch: the slot's header as read
    new_header = Signal(intbv(0)[HB:])           # append: the header to write
    tier = Signal(intbv(0)[2:])                  # fetch: the tier hepc answered for the block
    # fetch side
    pop_word = Signal(intbv(0)[SHIFT + 1:])      # image words popped so far
    key_words = Signal(intbv(0)[SHIFT + 1:])
    all_words = Signal(intbv(0)[SHIFT + 1:])
    out_gear = Signal(intbv(0)[32 * L:])
    out_n = Signal(intbv(0)[max(1, R_OUT.bit_length()):])
    out_final = Signal(bool(0))                  # the gearbox holds the block's last beat
    groups_out = Signal(bool(0))                 # the K group has left the decompressor
    zero_left = Signal(intbv(0)[16:])
    # the slot stream from the dma
    rsp_push = Signal(bool(0))
    rsp_pop = Signal(bool(0))
    rsp_data = Signal(intbv(0)[IW:])
    rsp_full, rsp_empty = Signal(bool(0)), Signal(bool(0))
    rsp_level = Signal(intbv(0)[3:])
    # per-cycle handshakes and counts
    rx_take = Signal(bool(0))
    enc_go = Signal(bool(0))
    store_go = Signal(bool(0))
    hdr_go = Signal(bool(0))
    dec_go = Signal(bool(0))
    out_take = Signal(bool(0))
    tx_go = Signal(bool(0))
    store_keep_n = Signal(intbv(0)[LOG_L + 1:])
    read_keep = Signal(intbv(0)[L:])
    read_keep_n = Signal(intbv(0)[LOG_L + 1:])
    mask = Signal(intbv(0)[DMAX:])
    append_index = Signal(intbv(0)[16:])
    append_beats = Signal(intbv(0)[17:])

    u_rom = outlier_rom(params, clk_i, rom_index_i, rom_we_i, rom_ch0_i, rom_ch1_i, rom_ch2_i, rom_ch3_i,
                        rom_data_o, rom_busy_o, append_index, rom_entry)
    first_head = Signal(intbv(0)[8:])
    u_span_check = span_check(arg0_i, arg1_i, arg2_i, span_ok, first_block, last_block, last_head)
    u_span_walk = span_walk(spanning, key_block, key_head, first_block, last_block, first_head, last_head,
                            at_last, next_block, next_head)
    u_rsp = fifo(clk_i, rst_ni, rsp_push, fetch_data_i, rsp_full, rsp_pop, rsp_data, rsp_empty,
                 rsp_level, depth=RSP_DEPTH)
    u_mask = _outlier_mask(channels, k, mask)
    lane_exps = [Signal(intbv(0)[5:]) for _ in range(L)]
    lane_bad = [Signal(bool(0)) for _ in range(L)]
    u_lanes = [field(gear, e, 16 * i + 10) for i, e in enumerate(lane_exps)]
    u_finite = [_lane_nonfinite(e, b) for e, b in zip(lane_exps, lane_bad)]
    beat_bad = join(lane_bad)
    nonfinite = Signal(bool(0))
    hdr_words = [Signal(intbv(0)[IW:]) for _ in range(HW)]
    u_hdr_split = split(new_header, hdr_words)
    u_hdr_select = word_select(hdr_idx, hdr_words, hdr_word)
    rom_ok = Signal(bool(0))
    u_rom_ok = _channels_ok(rom_entry, outliers_i, dim_i, rom_ok)
    u_store_keep = _popcount(enc_out_tkeep_i, store_keep_n)
    u_read_keep = _popcount(read_keep, read_keep_n)

    @always_comb
    def first_head_of():
        first_head.next = arg1_i[16:8]

    @always_comb
    def append_setup():
        # the ROM entry of (layer, kv_head) and the beats a KV_APPEND consumes
        idx = intbv(0)[16:]
        idx[:] = (arg1_i[8:] << head_bits_i) | arg1_i[16:8]
        append_index.next = idx
        n = intbv(0)[17:]
        n[:] = ((arg2_i[6:] * dim_i) << 2) + (A - 1)
        append_beats.next = n >> LOG_A

    @always_comb
    def config_check():
        ok = True
        if mode_i > MODE_CQ4PLUS or dim_i == 0 or dim_i > DMAX or dim_i[LOG_L:] != 0:
            ok = False
        if mode_i == MODE_CQ4PLUS:
            if outliers_i > KMAX or outliers_i >= dim_i or (arg1_i[16:8] >> head_bits_i) != 0:
                ok = False
            if append_index >= ROMS or not rom_ok:
                ok = False
        cfg_ok.next = ok

    @always_comb
    def codec_ports():
        enc_mode_o.next = mode
        enc_dim_o.next = dim
        enc_group_o.next = BLOCK_TOKENS
        enc_outliers_o.next = k
        enc_mask_o.next = mask
        enc_mask_ok_o.next = True
        dec_mode_o.next = mode
        dec_dim_o.next = dim
        dec_tokens_o.next = tokens
        dec_outliers_o.next = k
        dec_mask_o.next = mask
        dec_mask_ok_o.next = True
        enc_flush_o.next = flush_now
        enc_tdata_o.next = gear
        eu = intbv(0)[len(enc_tuser_o):]
        eu[0] = enc_beats >= half_beats
        enc_tuser_o.next = eu
        du = intbv(0)[len(dec_tuser_o):]
        du[0] = pop_word >= key_words
        dec_tuser_o.next = du

    @always_comb
    def header_out():
        h = intbv(0)[HB:]
        h[H_DIM_H:H_DIM_L] = dim
        h[H_TOKENS_H:H_TOKENS_L] = tokens
        h[H_MODE_H:H_MODE_L] = mode
        h[H_OUTLIERS_H:H_OUTLIERS_L] = k
        h[H_CHANNELS_H:H_CHANNELS_L] = channels
        h[H_KEY_BYTES_H:H_KEY_BYTES_L] = key_bytes
        h[H_VALUE_BYTES_H:H_VALUE_BYTES_L] = value_bytes
        new_header.next = h

    enc_valid = Signal(bool(0))
    dec_valid = Signal(bool(0))

    @always_comb
    def codec_valid():
        # apart from the handshakes: the codec's tready may follow its tvalid combinationally
        enc_valid.next = state == t_state.STREAM and gear_n == R_IN and not flush_now
        dec_valid.next = state == t_state.READ and not rsp_empty

    @always_comb
    def codec_valid_out():
        enc_tvalid_o.next = enc_valid
        dec_tvalid_o.next = dec_valid

    @always_comb
    def handshakes():
        streaming = state == t_state.STREAM
        gear_full = gear_n == R_IN
        eg = enc_valid and enc_tready_i
        enc_go.next = eg
        take = False
        if state == t_state.DISCARD:
            take = rx_valid_i and beats_left != 0
        elif streaming:
            take = rx_valid_i and beats_left != 0 and (not gear_full or eg)
        rx_take.next = take
        rx_pop_o.next = take
        # store: images while they come, then the header
        sg = streaming and enc_out_tvalid_i and store_ready_i and not stored
        store_go.next = sg
        enc_out_tready_o.next = streaming and store_ready_i and not stored
        writing_header = streaming and stored and hdr_idx != HW
        hdr_go.next = writing_header and store_ready_i
        store_valid_o.next = sg or writing_header
        wa = intbv(0)[AB:]
        wa[AB:SHIFT] = slot
        if stored:
            wa[SHIFT:] = hdr_idx
        else:
            wa[SHIFT:] = wr_ptr
        store_addr_o.next = wa
        if stored:
            store_data_o.next = hdr_word
        else:
            store_data_o.next = enc_out_tdata_i
        # fetch: one descriptor, then the slot's words as the response FIFO has room
        fetch_valid_o.next = state == t_state.ASK
        fetch_entry_o.next = slot
        fetch_src_o.next = tier
        fetch_data_ready_o.next = not rsp_full
        rsp_push.next = fetch_data_valid_i and not rsp_full
        # image words into the decompressor; the out-gearbox takes a beat when it empties
        dg = dec_valid and dec_tready_i
        dec_go.next = dg
        rsp_pop.next = dg or (state == t_state.HEADER and not rsp_empty)
        dec_tdata_o.next = rsp_data
        last_k = pop_word + 1 == key_words
        last_v = pop_word + 1 == all_words
        dec_tlast_o.next = last_k or last_v
        keep = intbv(0)[L:]
        keep[:] = (1 << L) - 1
        rem = intbv(0)[LOG_L:]
        if last_k:
            rem[:] = key_bytes[LOG_L:]
        elif last_v:
            rem[:] = value_bytes[LOG_L:]
        if rem != 0:
            keep[:] = (1 << rem) - 1
        dec_tkeep_o.next = keep
        read_keep.next = keep
        txg = False
        if state == t_state.ZERO:
            txg = zero_left != 0 and not tx_full_i
        elif out_n != 0:
            txg = not tx_full_i
        tx_go.next = txg
        tx_push_o.next = txg
        if state == t_state.ZERO:
            block_end.next = zero_left == 0 or (zero_left == 1 and txg)
        else:
            block_end.next = state == t_state.READ and out_final and out_n == 1 and txg
        if state == t_state.ZERO:
            tx_data_o.next = 0
            tx_last_o.next = zero_left == 1 and at_last
        else:
            tx_data_o.next = out_gear[BEAT:]
            tx_last_o.next = out_final and out_n == 1 and at_last
        ot = state == t_state.READ and (out_n == 0 or (out_n == 1 and txg))
        out_take.next = ot and dec_out_tvalid_i
        dec_out_tready_o.next = ot

    @always_comb
    def directory_ports():
        resolving = state == t_state.RESOLVE
        dir_req_o.next = (state == t_state.PROBE or state == t_state.INSERT or state == t_state.ACCESS
                          or resolving)
        if state == t_state.ACCESS or resolving:
            dir_opcode_o.next = OPCODE.DIR_ACCESS
        else:
            dir_opcode_o.next = OPCODE.DIR_INSERT
        dir_probe_o.next = state == t_state.PROBE or resolving
        if borrow:
            dir_session_o.next = 0
        else:
            dir_session_o.next = session_i
        dir_arg0_o.next = key_block
        dir_arg1_o.next = concat(key_head, arg1_i[8:])
        dir_arg2_o.next = TIER.HOT       # KV_APPEND's insert puts the block in hot (an access ignores it)
        dir_shared_o.next = borrow and (state == t_state.ACCESS or resolving)   # never on the host's commands
        if state == t_state.ACCESS or resolving:
            dir_codec_o.next = 1          # any: the access needs a stored image
        elif state == t_state.PROBE or state == t_state.INSERT:
            dir_codec_o.next = mode + 1
        else:
            dir_codec_o.next = 0          # the host's own directory commands
        done_o.next = state == t_state.DONE
        status_o.next = status
        bytes_o.next = nbytes
        # the slot holds the header and both images, each rounded up to whole words
        n = intbv(0)[SHIFT + 1:]
        n[:] = HW + ((key_bytes + (L - 1)) >> LOG_L) + ((value_bytes + (L - 1)) >> LOG_L)
        # recorded in the dma's slot table (the fetches' and moves' descriptors)
        stored_words_o.next = n
        stored_o.next = state == t_state.INSERT and dir_done_i and dir_status_i == STATUS.OK
        stored_entry_o.next = slot

    @always_comb
    def amounts():
        v = intbv(0)[KV_AMOUNTS * AMT:]
        if enc_go:
            v[AMT:0] = 2 * L
        if store_go:
            v[2 * AMT:AMT] = store_keep_n
        if dec_go:
            v[3 * AMT:2 * AMT] = read_keep_n
        if out_take:
            v[4 * AMT:3 * AMT] = 4 * L
        if store_timeout:
            v[5 * AMT:4 * AMT] = 1
        kv_bytes_o.next = v

    @always_seq(clk_i.posedge, reset=rst_ni)
    def control():
        store_timeout.next = False
        wrote = store_go or hdr_go
        if wrote and not store_ack_i:
            pending.next = pending + 1
        elif store_ack_i and not wrote and pending != 0:
            pending.next = pending - 1
        if rx_take:
            beats_left.next = beats_left - 1
            if rx_last_i != (beats_left == 1):
                framing_err.next = True
        # in-gearbox: stream beats fill a codec beat from the top
        if rx_take and state == t_state.STREAM:
            if R_IN == 1:
                gear.next = rx_data_i
            else:
                gear.next = (rx_data_i << (BEAT * (R_IN - 1))) | (gear >> BEAT)
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
            if tokens != BLOCK_TOKENS and (enc_beats + 1 == half_beats or enc_beats + 1 == half_beats << 1):
                flush_now.next = True
        if store_go:
            wr_ptr.next = wr_ptr + 1
            if in_value:
                value_bytes.next = value_bytes + store_keep_n
            else:
                key_bytes.next = key_bytes + store_keep_n
            if enc_out_tlast_i:
                in_value.next = True
                if in_value:
                    stored.next = True
        if hdr_go:
            hdr_idx.next = hdr_idx + 1
        # fetch: header, image words, out-gearbox
        if dec_go:
            pop_word.next = pop_word + 1
        if out_take:
            out_gear.next = dec_out_tdata_i
            out_n.next = R_OUT
            if dec_out_tlast_i:
                groups_out.next = True
                out_final.next = groups_out
        elif tx_go and state != t_state.ZERO:
            out_gear.next = out_gear >> BEAT
            out_n.next = out_n - 1
        if tx_go and state == t_state.ZERO:
            zero_left.next = zero_left - 1

        if state == t_state.IDLE:
            if req_i:
                status.next = STATUS.OK
                nbytes.next = 0
                framing_err.next = False
                mode.next = mode_i
                dim.next = dim_i
                # the header keeps the block's k channels and zeros: a ROM entry the block does not
                # use (k = 0) may never have been written (undefined after reset, X in Icarus)
                kk = intbv(0)[len(outliers_i):]
                if mode_i == MODE_CQ4PLUS:
                    kk[:] = outliers_i
                k.next = kk
                ch = intbv(0)[8 * ROM_CHANNELS:]
                if kk > 0:
                    ch[8:0] = rom_entry[8:0]
                if kk > 1:
                    ch[16:8] = rom_entry[16:8]
                if kk > 2:
                    ch[24:16] = rom_entry[24:16]
                if kk > 3:
                    ch[32:24] = rom_entry[32:24]
                channels.next = ch
                tokens.next = arg2_i[6:]
                half_beats.next = (arg2_i[6:] * dim_i) >> LOG_L
                beats_left.next = append_beats
                zero_dim.next = dim_i
                key_block.next = arg0_i
                key_head.next = arg1_i[16:8]
                borrow.next = False
                spanning.next = False
                if opcode_i == OPCODE.BLOCK_FETCH:
                    key_block.next = arg0_i[32:LOG_B]
                    if span_ok:
                        spanning.next = True
                        state.next = t_state.RESOLVE
                    else:
                        status.next = STATUS.BAD_ARG
                        zero_left.next = dim_i << (8 - LOG_A)
                        state.next = t_state.ZERO
                elif opcode_i != OPCODE.KV_APPEND:
                    state.next = t_state.ACCESS
                elif arg2_i == 0 or arg2_i > BLOCK_TOKENS:
                    beats_left.next = 0
                    status.next = STATUS.BAD_ARG
                    state.next = t_state.DONE
                elif not cfg_ok:
                    status.next = STATUS.BAD_ARG
                    state.next = t_state.DISCARD
                else:
                    state.next = t_state.PROBE
        elif state == t_state.PROBE:
            if dir_done_i:
                if dir_status_i == STATUS.OK:
                    slot.next = dir_index_i[AB - SHIFT:]
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
                    state.next = t_state.STREAM
                else:
                    status.next = dir_status_i
                    state.next = t_state.DISCARD
        elif state == t_state.DISCARD:
            if beats_left == 0 or (beats_left == 1 and rx_take):
                state.next = t_state.DONE
        elif state == t_state.STREAM:
            if hdr_idx == HW - 1 and hdr_go:
                if framing_err or nonfinite:
                    status.next = STATUS.BAD_ARG
                quiet.next = 0
                state.next = t_state.SETTLE
        elif state == t_state.SETTLE:     # every word written is acknowledged, or the watchdog gives up
            if store_ack_i:
                quiet.next = 0
            elif quiet != (1 << len(quiet)) - 1:
                quiet.next = quiet + 1
            if pending == 0 or (pending == 1 and store_ack_i):
                if status == STATUS.OK:
                    state.next = t_state.INSERT
                else:
                    state.next = t_state.DONE
            elif watchdog_i != 0 and quiet >= watchdog_i:
                if status == STATUS.OK:
                    status.next = STATUS.TIMEOUT
                    store_timeout.next = True
                state.next = t_state.DONE
        elif state == t_state.INSERT:
            if dir_done_i:
                status.next = dir_status_i
                nbytes.next = (tokens * dim) << 2
                state.next = t_state.DONE
        elif state == t_state.RESOLVE or state == t_state.ACCESS:
            if dir_done_i:
                if dir_status_i == STATUS.OK:
                    borrow.next = False
                    if state == t_state.RESOLVE:
                        key_block.next = next_block
                        key_head.next = next_head
                        if at_last:     # all resolved: the fetch pass walks the span again
                            state.next = t_state.ACCESS
                    else:
                        slot.next = dir_index_i[AB - SHIFT:]
                        tier.next = dir_tier_i
                        hdr_idx.next = 0
                        pop_word.next = 0
                        out_n.next = 0
                        groups_out.next = False
                        out_final.next = False
                        state.next = t_state.ASK
                elif spanning and dir_status_i == STATUS.NOT_FOUND and not borrow and session_i != 0:
                    borrow.next = True  # ask for session 0's block as a shared one
                else:
                    status.next = dir_status_i
                    spanning.next = False
                    borrow.next = False
                    zero_left.next = zero_dim << (8 - LOG_A)
                    state.next = t_state.ZERO
        elif state == t_state.ASK:
            if fetch_ready_i:
                state.next = t_state.HEADER
        elif state == t_state.ZERO or state == t_state.READ:
            if block_end:       # its last beat left: the span's next block, or the end
                if state == t_state.READ:
                    nbytes.next = nbytes + ((tokens * dim) << 3)
                else:
                    nbytes.next = nbytes + (zero_dim << 8)
                key_block.next = next_block
                key_head.next = next_head
                if at_last:
                    state.next = t_state.DONE
                else:
                    state.next = t_state.ACCESS
        elif state == t_state.HEADER:
            if fetch_done_i and fetch_timeout_i:   # the dma streams nothing of a timed-out slot
                status.next = STATUS.TIMEOUT
                zero_left.next = zero_dim << (8 - LOG_A)
                state.next = t_state.ZERO
            elif rsp_pop:
                if HB > IW:
                    header.next = (rsp_data << (HB - IW)) | (header >> IW)
                else:
                    header.next = rsp_data
                hdr_idx.next = hdr_idx + 1
                if hdr_idx == HW - 1:
                    state.next = t_state.PARSE
        elif state == t_state.PARSE:
            # the stored block's own configuration
            dim.next = header[H_DIM_H:H_DIM_L]
            tokens.next = header[H_TOKENS_H:H_TOKENS_L]
            mode.next = header[H_MODE_H:H_MODE_L]
            k.next = header[H_OUTLIERS_H:H_OUTLIERS_L]
            channels.next = header[H_CHANNELS_H:H_CHANNELS_L]
            kb = intbv(0)[16:]
            vb = intbv(0)[16:]
            kb[:] = header[H_KEY_BYTES_H:H_KEY_BYTES_L]
            vb[:] = header[H_VALUE_BYTES_H:H_VALUE_BYTES_L]
            key_bytes.next = kb
            value_bytes.next = vb
            kw = intbv(0)[SHIFT + 1:]
            vw = intbv(0)[SHIFT + 1:]
            kw[:] = (kb + (L - 1)) >> LOG_L
            vw[:] = (vb + (L - 1)) >> LOG_L
            key_words.next = kw
            all_words.next = kw + vw
            state.next = t_state.READ
        else:   # DONE: cmdproc takes the status this cycle
            state.next = t_state.IDLE

    return (u_rom, u_span_check, u_span_walk, u_rsp, u_lanes, u_finite, u_mask, u_hdr_split, u_hdr_select, u_rom_ok, u_store_keep, u_read_keep, append_setup, first_head_of,
            config_check, codec_ports, header_out, codec_valid, codec_valid_out, handshakes, directory_ports, amounts, control)
