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
KV_FETCH   accesses the block through hepc (which refuses an entry without a stored image; a
           reference entry of the session's sends it to session 0's block of the key, as a
           shared access),
           hands the dma's FETCH channel the entry and the tier hepc answered for it, and
           takes the slot back as a stream: the header, then the K and V images into kvce_dec,
           and streams the fp32 words out through the out-gearbox. A refused fetch, and one the
           dma's watchdog gave up on (TIMEOUT), streams a zero block; so does a block whose header
           names another codec profile or version than the command's session (BAD_STATE): its
           image words are taken and dropped (SKIP).
BLOCK_FETCH checks its span (golden.data_plane.span; BAD_ARG and a zero block when refused), then
           resolves every block of it, head by head and block by block, with hepc's probe
           access: the session's own block, or session 0's as a shared one where the session's
           own entry is a reference to it.
           The first refusal ends the command with its status and one zero block. Then each
           block is fetched as KV_FETCH fetches it (its own access, with the key that resolved
           it); a timed-out block streams a zero block and the span goes on, completing with
           TIMEOUT. One stream: tlast on the span's last beat.
A command the session check refused (refuse_i: cmdproc's status, OK otherwise) completes with it
and does nothing else: a fetch streams a zero block, an append with a good token count discards
its beats.

A slot is at most 2^SLOT_SHIFT words (lanes bytes each) at word address entry << SLOT_SHIFT:
header words, the K image, the V image (golden.kvpath.slot_image). The header
(golden.kvpath.HEADER_FIELDS, LSB first) makes a stored block self-describing. This block runs
the commands; its sub-blocks stream: append (beats in, compressor, STORE) and fetch (slot words
in, decompressor, beats out). The STORE port: valid/ready, word address, data; store_ack_i pulses once per
word the hot memory acknowledged.
"""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, modbv, enum, concat

from golden.kv1_regs import OPCODE, STATUS, TIER
from golden.kvpath import ROM_CHANNELS, slot_shift, tier_addr_bits
from golden.policy_engine import BLOCK_TOKENS, BLOCK_INDEX_BITS
from hdl.common.unroll import split
from hdl.kvpath.append import append
from hdl.kvpath.fetch import fetch
from hdl.kvpath.outlier_rom import outlier_rom
from hdl.kvpath.span import span_check, span_walk
from hdl.kvce.kvce_enc import MODE_CQ4PLUS, _log2

KV_AMOUNTS = 5                # perf amounts: bytes into the compressor, stored, read, out of the decompressor; store timeouts


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
           req_i, opcode_i, session_i, arg0_i, arg1_i, arg2_i, refuse_i, profile_i, done_o, status_o, bytes_o,
           mode_i, outliers_i, head_bits_i, dim_i, shared_profile_i, shared_version_i,
           rom_index_i, rom_we_i, rom_ch0_i, rom_ch1_i, rom_ch2_i, rom_ch3_i, rom_data_o, rom_busy_o,
           dir_req_o, dir_opcode_o, dir_session_o, dir_arg0_o, dir_arg1_o, dir_arg2_o, dir_probe_o, dir_shared_o,
           dir_codec_o, dir_done_i, dir_status_i, dir_index_i,
           rx_valid_i, rx_ready_o, rx_pop_o, rx_data_i, rx_zero_i, rx_last_i, tx_push_o, tx_full_i, tx_data_o, tx_last_o,
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
    SHIFT = slot_shift(params)
    AB = len(store_addr_o)
    LOG_A, LOG_L = _log2(A), _log2(L)
    AMT = len(kv_bytes_o) // KV_AMOUNTS
    DIM_BITS, K_BITS = len(dim_i), len(outliers_i)
    ZERO_SHIFT = 8 - LOG_A                     # a zero block's beats: D x 256 bytes in beats of A
    assert AB == tier_addr_bits(params)
    assert len(fetch_entry_o) == len(stored_entry_o) == AB - SHIFT and len(stored_words_o) == SHIFT + 1
    assert KMAX <= ROM_CHANNELS == 4 and DMAX < 256

    LOG_B = _log2(BLOCK_TOKENS)
    t_state = enum("IDLE", "PROBE", "DISCARD", "STREAM", "SETTLE", "INSERT", "RESOLVE", "ACCESS", "ZERO",
                   "ASK", "HEADER", "PARSE", "READ", "SKIP", "DONE")
    state = Signal(t_state.IDLE)
    status = Signal(intbv(0)[8:])
    nbytes = Signal(intbv(0)[32:])
    # the block's configuration: the command's for an append, its stored header's for a fetch
    mode = Signal(intbv(0)[2:])
    dim = Signal(intbv(0)[8:])
    k = Signal(intbv(0)[3:])
    tokens = Signal(intbv(0)[6:])
    channels = Signal(intbv(0)[8 * ROM_CHANNELS:])
    slot = Signal(intbv(0)[AB - SHIFT:])
    # the command's session's codec profile and version (CQ_PROFILE's for session 0): an append
    # writes them into the header, a fetch decodes only a block whose header names them
    ses_profile, ses_version = Signal(intbv(0)[8:]), Signal(intbv(0)[8:])
    cfg_ok = Signal(bool(0))
    zero_dim = Signal(intbv(0)[DIM_BITS:])      # CQ_CTRL.DIM at the start: a zero block's D
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
    # the key after this one: the span's first again after its last (the fetch pass follows the
    # resolve pass); modbv, since they are computed every cycle, from any key
    next_block = Signal(modbv(0)[BLOCK_INDEX_BITS:])
    next_block_wide = ConcatSignal(intbv(0)[len(key_block) - BLOCK_INDEX_BITS:], next_block)
    next_head = Signal(modbv(0)[8:])
    rom_entry = Signal(intbv(0)[32:])            # the outlier ROM's entry of the append's (layer, kv_head)
    store_timeout = Signal(bool(0))              # the watchdog gave up on an acknowledge (a perf amount)
    tier = Signal(intbv(0)[2:])                  # fetch: the tier hepc answered for the block
    mask = Signal(intbv(0)[DMAX:])
    append_index = Signal(intbv(0)[16:])
    append_beats = Signal(intbv(0)[17:])

    u_rom = outlier_rom(params, clk_i, rom_index_i, rom_we_i, rom_ch0_i, rom_ch1_i, rom_ch2_i, rom_ch3_i,
                        rom_data_o, rom_busy_o, append_index, rom_entry)
    first_head = Signal(intbv(0)[8:])
    u_span_check = span_check(arg0_i, arg1_i, arg2_i, span_ok, first_block, last_block, last_head)
    u_span_walk = span_walk(spanning, key_block, key_head, first_block, last_block, first_head, last_head,
                            at_last, next_block, next_head)
    u_mask = _outlier_mask(channels, k, mask)
    rom_ok = Signal(bool(0))
    u_rom_ok = _channels_ok(rom_entry, outliers_i, dim_i, rom_ok)

    # the append (its own block): what the command does to it, and what it answers
    a_load, a_start, a_discard, a_stream, a_settle = (Signal(bool(0)) for _ in range(5))
    a_beats = Signal(intbv(0)[17:])
    a_half = Signal(intbv(0)[12:])
    a_consumed, a_written, a_bad, a_acked, a_gave_up = (Signal(bool(0)) for _ in range(5))
    amt_in, amt_stored, amt_read, amt_out = (Signal(intbv(0)[AMT:]) for _ in range(4))
    u_append = append(params, clk_i, rst_ni, a_load, a_beats, a_half, a_start, a_discard, a_stream, a_settle,
                      slot, mode, dim, k, tokens, channels, ses_profile, ses_version, rx_valid_i, rx_ready_o, rx_pop_o, rx_data_i, rx_zero_i, rx_last_i,
                      enc_flush_o, enc_tvalid_o, enc_tready_i, enc_tdata_o, enc_tuser_o,
                      enc_out_tvalid_i, enc_out_tready_o, enc_out_tdata_i, enc_out_tkeep_i, enc_out_tlast_i,
                      store_valid_o, store_ready_i, store_addr_o, store_data_o, store_ack_i, watchdog_i,
                      a_consumed, a_written, a_bad, a_acked, a_gave_up, stored_words_o, amt_in, amt_stored)
    # the fetch (its own block), likewise
    f_start, f_header, f_parse, f_read, f_skip, f_zero, f_zero_load = (Signal(bool(0)) for _ in range(7))
    f_zero_beats = Signal(intbv(0)[16:])
    f_header_done, block_end = Signal(bool(0)), Signal(bool(0))
    try_shared, slot_timed_out = Signal(bool(0)), Signal(bool(0))
    h_dim, h_tokens, h_mode, h_k = Signal(intbv(0)[8:]), Signal(intbv(0)[6:]), Signal(intbv(0)[2:]), Signal(intbv(0)[3:])
    h_channels = Signal(intbv(0)[8 * ROM_CHANNELS:])
    h_profile, h_version, f_skip_done = Signal(intbv(0)[8:]), Signal(intbv(0)[8:]), Signal(bool(0))
    u_fetch = fetch(params, clk_i, rst_ni, f_start, f_header, f_parse, f_read, f_skip, f_zero, f_zero_load, f_zero_beats,
                    at_last, fetch_data_valid_i, fetch_data_ready_o, fetch_data_i, fetch_done_i, fetch_timeout_i,
                    dec_tvalid_o, dec_tready_i, dec_tdata_o, dec_tkeep_o, dec_tlast_o, dec_tuser_o,
                    dec_out_tvalid_i, dec_out_tready_o, dec_out_tdata_i, dec_out_tlast_i,
                    tx_push_o, tx_full_i, tx_data_o, tx_last_o,
                    f_header_done, h_dim, h_tokens, h_mode, h_k, h_channels, h_profile, h_version, f_skip_done,
                    block_end, amt_read, amt_out)

    @always_comb
    def first_head_of():
        first_head.next = arg1_i[16:8]

    @always_comb
    def append_setup():
        # the ROM entry of (layer, kv_head) and the beats a KV_APPEND consumes
        idx = intbv(0)[16:]
        idx[8:] = arg1_i[8:]
        head = intbv(0)[16:]
        head[8:] = arg1_i[16:8]
        idx[:] = (idx << head_bits_i) | head
        append_index.next = idx
        n = intbv(0)[17:]
        n[:] = ((arg2_i[6:] * dim_i) << 2) + (A - 1)
        append_beats.next = n >> LOG_A

    @always_comb
    def config_check():
        ok = True
        k_wide = intbv(0)[DIM_BITS:]
        k_wide[K_BITS:] = outliers_i
        if mode_i > MODE_CQ4PLUS or dim_i == 0 or dim_i > DMAX or dim_i[LOG_L:] != 0:
            ok = False
        if mode_i == MODE_CQ4PLUS:
            if outliers_i > KMAX or k_wide >= dim_i or (arg1_i[16:8] >> head_bits_i) != 0:
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

    @always_comb
    def sub_block_controls():
        a_load.next = state == t_state.IDLE and req_i
        if opcode_i == OPCODE.KV_APPEND and (arg2_i == 0 or arg2_i > BLOCK_TOKENS):
            a_beats.next = 0
        else:
            a_beats.next = append_beats
        a_half.next = (arg2_i[6:] * dim_i) >> LOG_L
        a_start.next = state == t_state.PROBE and dir_done_i and dir_status_i == STATUS.OK
        a_discard.next = state == t_state.DISCARD
        a_stream.next = state == t_state.STREAM
        a_settle.next = state == t_state.SETTLE
        accessed = (state == t_state.ACCESS and dir_done_i and dir_status_i == STATUS.OK)
        f_start.next = accessed
        f_header.next = state == t_state.HEADER
        f_parse.next = state == t_state.PARSE
        f_read.next = state == t_state.READ
        f_skip.next = state == t_state.SKIP
        f_zero.next = state == t_state.ZERO
        # a zero block's beats: at CQ_CTRL.DIM (the command's start) for a refused span, a refused
        # block or a timed-out one
        # the session's own entry is a reference (hepc answers ISOLATION for the KV path's own
        # access to one): ask for session 0's block of the key as a shared one
        fallback = dir_status_i == STATUS.ISOLATION and not borrow and session_i != 0
        try_shared.next = fallback
        refused = ((state == t_state.RESOLVE or state == t_state.ACCESS) and dir_done_i and dir_status_i != STATUS.OK
                   and not fallback)
        gave_up = fetch_done_i and fetch_timeout_i
        slot_timed_out.next = gave_up
        timed_out = state == t_state.HEADER and gave_up
        skipped = state == t_state.SKIP and f_skip_done      # another profile's block: a zero block
        starting = state == t_state.IDLE and req_i
        refused_fetch = starting and refuse_i != STATUS.OK and opcode_i != OPCODE.KV_APPEND
        bad_span = starting and opcode_i == OPCODE.BLOCK_FETCH and not span_ok
        f_zero_load.next = refused or timed_out or skipped or bad_span or refused_fetch
        zb = intbv(0)[16:]
        if bad_span or refused_fetch:
            zb[DIM_BITS:] = dim_i
        else:
            zb[DIM_BITS:] = zero_dim
        zb[:] = zb << ZERO_SHIFT
        f_zero_beats.next = zb
        # fetch: one descriptor
        fetch_valid_o.next = state == t_state.ASK
        fetch_entry_o.next = slot
        fetch_src_o.next = tier

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
        # the slot's length (append's stored_words_o) is recorded in the dma's slot table
        stored_o.next = state == t_state.INSERT and dir_done_i and dir_status_i == STATUS.OK
        stored_entry_o.next = slot

    @always_comb
    def amounts():
        v = intbv(0)[KV_AMOUNTS * AMT:]
        v[AMT:0] = amt_in
        v[2 * AMT:AMT] = amt_stored
        v[3 * AMT:2 * AMT] = amt_read
        v[4 * AMT:3 * AMT] = amt_out
        if store_timeout:
            v[5 * AMT:4 * AMT] = 1
        kv_bytes_o.next = v

    @always_seq(clk_i.posedge, reset=rst_ni)
    def control():
        store_timeout.next = False
        if state == t_state.IDLE:
            if req_i:
                status.next = STATUS.OK
                nbytes.next = 0
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
                if session_i == 0:
                    ses_profile.next = shared_profile_i
                    ses_version.next = shared_version_i
                else:
                    ses_profile.next = profile_i[8:]
                    ses_version.next = profile_i[16:8]
                zero_dim.next = dim_i
                key_block.next = arg0_i
                key_head.next = arg1_i[16:8]
                borrow.next = False
                spanning.next = False
                if opcode_i == OPCODE.BLOCK_FETCH:
                    first = intbv(0)[32:]
                    first[32 - LOG_B:] = arg0_i[32:LOG_B]
                    key_block.next = first
                    if refuse_i != STATUS.OK:
                        status.next = refuse_i
                        state.next = t_state.ZERO
                    elif span_ok:
                        spanning.next = True
                        state.next = t_state.RESOLVE
                    else:
                        status.next = STATUS.BAD_ARG
                        state.next = t_state.ZERO
                elif opcode_i != OPCODE.KV_APPEND:
                    if refuse_i != STATUS.OK:
                        status.next = refuse_i
                        state.next = t_state.ZERO
                    else:
                        state.next = t_state.ACCESS
                elif arg2_i == 0 or arg2_i > BLOCK_TOKENS:
                    status.next = STATUS.BAD_ARG
                    state.next = t_state.DONE
                elif refuse_i != STATUS.OK:
                    status.next = refuse_i
                    state.next = t_state.DISCARD
                elif not cfg_ok:
                    status.next = STATUS.BAD_ARG
                    state.next = t_state.DISCARD
                else:
                    state.next = t_state.PROBE
        elif state == t_state.PROBE:
            if dir_done_i:
                if dir_status_i == STATUS.OK:     # the append starts (a_start)
                    slot.next = dir_index_i[AB - SHIFT:]
                    state.next = t_state.STREAM
                else:
                    status.next = dir_status_i
                    state.next = t_state.DISCARD
        elif state == t_state.DISCARD:
            if a_consumed:
                state.next = t_state.DONE
        elif state == t_state.STREAM:
            if a_written:
                if a_bad:
                    status.next = STATUS.BAD_ARG
                state.next = t_state.SETTLE
        elif state == t_state.SETTLE:     # every word written is acknowledged, or the watchdog gives up
            if a_acked:
                if status == STATUS.OK:
                    state.next = t_state.INSERT
                else:
                    state.next = t_state.DONE
            elif a_gave_up:
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
                        key_block.next = next_block_wide
                        key_head.next = next_head
                        if at_last:     # all resolved: the fetch pass walks the span again
                            state.next = t_state.ACCESS
                    else:                # the fetch starts (f_start)
                        slot.next = dir_index_i[AB - SHIFT:]
                        tier.next = dir_tier_i
                        state.next = t_state.ASK
                elif try_shared:
                    borrow.next = True  # ask for session 0's block as a shared one
                else:
                    status.next = dir_status_i
                    spanning.next = False
                    borrow.next = False
                    state.next = t_state.ZERO
        elif state == t_state.ASK:
            if fetch_ready_i:
                state.next = t_state.HEADER
        elif state == t_state.ZERO or state == t_state.READ:
            if block_end:       # its last beat left: the span's next block, or the end
                if state == t_state.READ:
                    nbytes.next = nbytes + ((tokens * dim) << 3)
                else:
                    zero_bytes = intbv(0)[32:]
                    zero_bytes[DIM_BITS:] = zero_dim
                    nbytes.next = nbytes + (zero_bytes << 8)
                key_block.next = next_block_wide
                key_head.next = next_head
                if at_last:
                    state.next = t_state.DONE
                else:
                    state.next = t_state.ACCESS
        elif state == t_state.HEADER:
            if slot_timed_out:   # the dma streams nothing of a timed-out slot
                status.next = STATUS.TIMEOUT
                state.next = t_state.ZERO
            elif f_header_done:
                state.next = t_state.PARSE
        elif state == t_state.PARSE:      # the stored block's own configuration (f_parse)
            dim.next = h_dim
            tokens.next = h_tokens
            mode.next = h_mode
            k.next = h_k
            channels.next = h_channels
            if h_profile != ses_profile or h_version != ses_version:
                status.next = STATUS.BAD_STATE
                state.next = t_state.SKIP
            else:
                state.next = t_state.READ
        elif state == t_state.SKIP:       # the slot's words are dropped (f_skip), then a zero block
            if f_skip_done:
                state.next = t_state.ZERO
        else:   # DONE: cmdproc takes the status this cycle
            state.next = t_state.IDLE

    return (u_rom, u_span_check, u_span_walk, u_mask, u_rom_ok, u_append, u_fetch, append_setup, first_head_of,
            config_check, codec_ports, sub_block_controls, directory_ports, amounts, control)
