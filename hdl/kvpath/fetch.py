"""kvpath's fetch: a slot's words from the dma's FETCH channel through the decompressor into the
output stream, or a zero block (golden: KvPath.fetch, zero_block; the slot: golden.kvpath.slot_image)."""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, concat

from golden.kvpath import header_field, header_words, slot_shift
from hdl.common.fifo import fifo
from hdl.common.unroll import field, popcount
from hdl.kvpath.image_words import image_words
from hdl.kvce.kvce_enc import _log2

RSP_DEPTH = 4                 # slot words from the dma the engine can hold


@block
def fetch(params, clk_i, rst_ni, start_i, header_i, parse_i, read_i, skip_i, zero_i, zero_load_i, zero_beats_i, last_i,
          fetch_data_valid_i, fetch_data_ready_o, fetch_data_i, fetch_done_i, fetch_timeout_i,
          dec_tvalid_o, dec_tready_i, dec_tdata_o, dec_tkeep_o, dec_tlast_o, dec_tuser_o,
          dec_out_tvalid_i, dec_out_tready_o, dec_out_tdata_i, dec_out_tlast_i,
          tx_push_o, tx_full_i, tx_data_o, tx_last_o,
          header_done_o, dim_o, tokens_o, mode_o, k_o, channels_o, profile_o, version_o, skip_done_o,
          block_end_o, read_bytes_o, out_bytes_o):
    """start_i: a fetch's descriptor is out (the slot's words will come). In the command's states:
      header_i  the slot's header words arrive (kept unless the dma timed the fetch out);
                header_done_o: its last one is taken
      parse_i   the header's fields are the block's: dim_o ... channels_o show them (the fetch's
                decompressor configuration, kvpath's), profile_o and version_o the codec profile
                it was written under, and its images' lengths
      skip_i    the image words are taken and dropped (a block of another profile is not
                decoded); skip_done_o: the last one is taken
      read_i    the image words go into the decompressor (K, then V; tuser: the V group) and its
                fp32 words out through the out-gearbox to the stream
      zero_i    a zero block: the zero_beats_i beats zero_load_i loaded
    last_i: the block is the command's last (tlast on its last beat). block_end_o: the block's (or
    zero block's) last beat leaves. read_bytes_o, out_bytes_o: bytes into and out of the
    decompressor this cycle (perf)."""
    A, L = params.axis_bytes, params.cq_lanes
    R_OUT = 4 * L // A                        # stream beats per decompressor beat
    BEAT, IW = 8 * A, 8 * L
    HW = header_words(params)
    HB = HW * IW
    SHIFT = slot_shift(params)
    LOG_L = _log2(L)
    header = Signal(intbv(0)[HB:])               # the slot's header as read
    stored_key_bytes, stored_value_bytes = Signal(intbv(0)[16:]), Signal(intbv(0)[16:])
    shown = dict(dim=dim_o, tokens=tokens_o, mode=mode_o, outliers=k_o, channels=channels_o,
                 key_bytes=stored_key_bytes, value_bytes=stored_value_bytes, profile=profile_o, version=version_o)
    u_fields = [field(header, sig, header_field(name)[1]) for name, sig in shown.items()]
    stored_key_words, stored_value_words = Signal(intbv(0)[SHIFT + 1:]), Signal(intbv(0)[SHIFT + 1:])
    u_words = [image_words(stored_key_bytes, stored_key_words, L),
               image_words(stored_value_bytes, stored_value_words, L)]
    hdr_idx = Signal(intbv(0)[max(1, HW.bit_length()):])
    key_bytes = Signal(intbv(0)[16:])
    value_bytes = Signal(intbv(0)[16:])
    pop_word = Signal(intbv(0)[SHIFT + 1:])      # image words popped so far
    key_words = Signal(intbv(0)[SHIFT + 1:])
    all_words = Signal(intbv(0)[SHIFT + 1:])
    out_gear = Signal(intbv(0)[32 * L:])
    out_n = Signal(intbv(0)[max(1, R_OUT.bit_length()):])
    out_final = Signal(bool(0))                  # the gearbox holds the block's last beat
    groups_out = Signal(bool(0))                 # the K group has left the decompressor
    zero_left = Signal(intbv(0)[len(zero_beats_i):])
    # the slot stream from the dma
    rsp_push, rsp_pop = Signal(bool(0)), Signal(bool(0))
    rsp_data = Signal(intbv(0)[IW:])
    rsp_full, rsp_empty = Signal(bool(0)), Signal(bool(0))
    rsp_level = Signal(intbv(0)[3:])
    u_rsp = fifo(clk_i, rst_ni, rsp_push, fetch_data_i, rsp_full, rsp_pop, rsp_data, rsp_empty,
                 rsp_level, depth=RSP_DEPTH)
    gave_up = Signal(bool(0))                    # the dma's watchdog gave up on the slot: nothing comes
    # the header's words come in from the top (the shift's form depends on the word count)
    if HB == IW:
        @always_seq(clk_i.posedge, reset=rst_ni)
        def header_shift():
            if header_i and rsp_pop and not gave_up:
                header.next = rsp_data
    else:
        @always_seq(clk_i.posedge, reset=rst_ni)
        def header_shift():
            if header_i and rsp_pop and not gave_up:
                header.next = concat(rsp_data, header[HB:IW])
    dec_valid, dec_go, out_take, tx_go, skip_go = (Signal(bool(0)) for _ in range(5))
    read_keep = Signal(intbv(0)[L:])
    # a read word's bytes, counted at the width they need (see append's store_keep_n)
    KEEP_BITS = len(read_keep).bit_length()
    read_keep_n = Signal(intbv(0)[KEEP_BITS:])
    read_keep_wide = ConcatSignal(intbv(0)[len(read_bytes_o) - KEEP_BITS:], read_keep_n)
    u_read_keep = popcount(read_keep, read_keep_n)

    @always_comb
    def codec_valid():
        # apart from the handshakes: the codec's tready may follow its tvalid combinationally
        dec_valid.next = read_i and not rsp_empty

    @always_comb
    def codec_out():
        dec_tvalid_o.next = dec_valid
        du = intbv(0)[len(dec_tuser_o):]
        du[0] = pop_word >= key_words
        dec_tuser_o.next = du

    @always_comb
    def watchdog():
        gave_up.next = fetch_done_i and fetch_timeout_i

    @always_comb
    def handshakes():
        fetch_data_ready_o.next = not rsp_full
        rsp_push.next = fetch_data_valid_i and not rsp_full
        # image words into the decompressor; the out-gearbox takes a beat when it empties
        dg = dec_valid and dec_tready_i
        dec_go.next = dg
        sg = skip_i and not rsp_empty
        skip_go.next = sg
        skip_done_o.next = sg and pop_word + 1 == all_words
        pop = dg or sg or (header_i and not rsp_empty)
        rsp_pop.next = pop
        header_done_o.next = header_i and pop and hdr_idx == HW - 1 and not gave_up
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
        if zero_i:
            txg = zero_left != 0 and not tx_full_i
        elif out_n != 0:
            txg = not tx_full_i
        tx_go.next = txg
        tx_push_o.next = txg
        if zero_i:
            block_end_o.next = zero_left == 0 or (zero_left == 1 and txg)
            tx_data_o.next = 0
            tx_last_o.next = zero_left == 1 and last_i
        else:
            block_end_o.next = read_i and out_final and out_n == 1 and txg
            tx_data_o.next = out_gear[BEAT:]
            tx_last_o.next = out_final and out_n == 1 and last_i
        ot = read_i and (out_n == 0 or (out_n == 1 and txg))
        out_take.next = ot and dec_out_tvalid_i
        dec_out_tready_o.next = ot
        if dg:
            read_bytes_o.next = read_keep_wide
        else:
            read_bytes_o.next = 0
        if ot and dec_out_tvalid_i:
            out_bytes_o.next = 4 * L
        else:
            out_bytes_o.next = 0

    @always_seq(clk_i.posedge, reset=rst_ni)
    def read():
        if dec_go or skip_go:
            pop_word.next = pop_word + 1
        if out_take:
            out_gear.next = dec_out_tdata_i
            out_n.next = R_OUT
            if dec_out_tlast_i:
                groups_out.next = True
                out_final.next = groups_out
        elif tx_go and not zero_i:
            out_gear.next = out_gear >> BEAT
            out_n.next = out_n - 1
        if tx_go and zero_i:
            zero_left.next = zero_left - 1
        if zero_load_i:
            zero_left.next = zero_beats_i
        if header_i and rsp_pop and not gave_up:
            hdr_idx.next = hdr_idx + 1
        if parse_i:
            key_bytes.next = stored_key_bytes
            value_bytes.next = stored_value_bytes
            key_words.next = stored_key_words
            all_words.next = stored_key_words + stored_value_words
        if start_i:
            hdr_idx.next = 0
            pop_word.next = 0
            out_n.next = 0
            groups_out.next = False
            out_final.next = False

    return u_rsp, u_read_keep, u_fields, u_words, header_shift, codec_valid, codec_out, watchdog, handshakes, read
