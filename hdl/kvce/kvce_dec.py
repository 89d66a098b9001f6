"""kvce_dec: the ChannelQuant decompressor (DESIGN §5; golden/channelquant.py decode_group).

One block image in (scales | sidecar | payload, L bytes per beat, tlast on its last beat), its
fp32 reconstruction out: L values per beat, token after token, D / L beats per token, tlast on
the group's last beat.
  scales    L/2 scales per cycle into two banked tables: per channel (the outlier channels'
            slots left empty, so a beat's L channels read one row) or per token
  sidecar   one token's k raw outliers per cycle (CQ-4+ keys)
  payload   one output beat per cycle: its keep channels' codes leave the nibble unpacker,
            spread over the lanes around the outlier lanes; each lane multiplies its code by
            its scale, an outlier lane widens its sidecar value (dequant_lane, exact)
The configuration (mode, D, tokens g, k; kind on tuser, the outlier mask beside it) is sampled
when an image's first beat is offered; one the engine cannot decode holds tready low and raises
cfg_err_o. A malformed image (tlast early, or bytes beyond the image) still gives g x D values,
zeros where bytes were missing, and pulses image_err_o when it ends.
"""
from pathlib import Path

from myhdl import block, always_comb, always_seq, Signal, intbv, enum

from hdl.common.instance import signal, port_signals
from hdl.common.ram import ram
from hdl.common.unroll import split, join, field
from hdl.kvce.cq_lanes import dequant_lane
from hdl.kvce.kvce_enc import MODE_CQ8, MODE_CQ4PLUS, _log2
from hdl.kvce.stream import expand, nibble_unpacker


@block
def _sign_extend(nib_i, code_o):
    """An INT4 code as an INT8 code."""
    @always_comb
    def widen():
        if nib_i[3]:
            code_o.next = nib_i | 0xF0
        else:
            code_o.next = nib_i

    return widen


@block
def _lane_operands(index, mask_i, base_i, row_i, perch_i, ch_scale_i, tok_scale_i, scale_o, raw_o):
    """Lane `index` of a payload beat. An outlier lane (mask bit set) takes its sidecar value:
    element base + (outlier lanes below it) of the token's row; any other lane its channel's
    or its token's scale."""
    RB = (len(base_i) + index).bit_length() + 1

    @always_comb
    def pick():
        rank = intbv(0)[RB:]
        rank[:] = base_i
        for i in range(index):
            if mask_i[i]:
                rank[:] = rank + 1
        raw_o.next = mask_i[index]
        if mask_i[index]:
            scale_o.next = (row_i >> (16 * rank)) & 0xFFFF
        elif perch_i:
            scale_o.next = ch_scale_i
        else:
            scale_o.next = tok_scale_i

    return pick


@block
def kvce_dec(params, clk_i, rst_ni, mode_i, dim_i, tokens_i, outliers_i,
             s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tkeep, s_axis_tlast, s_axis_tuser,
             mask_i, mask_ok_i,
             m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tlast,
             cfg_err_o, image_err_o, busy_o):
    """s_axis_tuser = {ROM entry (unused here), kind}: kind 0 = keys, 1 = values. mask_i /
    mask_ok_i: the CQ-4+ outlier mask of that entry for the current D and k, and whether it
    names exactly k distinct channels below D (kvce's ROM). tokens_i: the group's g."""
    L, DMAX, GMAX, KMAX = params.cq_lanes, params.cq_dim, params.cq_group, params.cq_outliers
    B = L // 2                          # scales or sidecar values per input beat
    LB, TB = _log2(L), _log2(GMAX)
    BT = max(_log2(DMAX // L), 1)       # beat index bits
    KB = KMAX.bit_length()              # 0..KMAX
    NB = (4 * L).bit_length()           # nibble counts 0..4L (the unpacker's capacity)
    ROWS = max(DMAX, GMAX) // L         # scale table rows: a beat's channels or L tokens
    SB = max(_log2(ROWS), 1)
    STEPS = max(2 * DMAX, GMAX) // B    # scale steps at most
    assert 2 <= KMAX <= B and len(s_axis_tdata) == 8 * L and len(m_axis_tdata) == 32 * L
    assert len(mask_i) == DMAX and ROWS >= 2
    DB = len(dim_i)

    Phase = enum("IDLE", "SCALES", "SIDECAR", "PAYLOAD", "FINISH")
    phase = Signal(Phase.IDLE)
    int8, perch = Signal(bool(0)), Signal(bool(0))
    beats = Signal(intbv(0)[BT + 1:])
    tokens = Signal(intbv(0)[TB + 1:])
    k = Signal(intbv(0)[KB:])
    mask = Signal(intbv(0)[DMAX:])      # CQ-4+ key outliers, else 0
    step = Signal(intbv(0, min=0, max=max(STEPS, GMAX) + 1))
    step_mask = Signal(intbv(0)[DMAX:])  # the mask from this step's channels up
    bad = Signal(bool(0))               # this image was short
    # payload: the next beat to decode, then stage 1 (codes on their lanes), then the output
    p_valid, p_tok, p_beat = Signal(bool(0)), signal(TB), signal(BT)
    p_base = signal(KB)                 # the token's outliers in earlier beats
    s1_valid, s1_last, s1_perch = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    s1_tok, s1_beat, s1_base = signal(TB), signal(BT), signal(KB)
    s1_mask, s1_codes = signal(L), signal(8 * L)
    go, advance, start = (Signal(bool(0)) for _ in range(3))

    # ------------------------------------------------------------------ unpacker
    u_open, u_pop, u_clear, u_ended = (Signal(bool(0)) for _ in range(4))
    u_count = Signal(intbv(0)[NB:])
    u_data = signal(8 * L)
    u_held = Signal(intbv(0, min=0, max=4 * L + 1))
    unpacker = nibble_unpacker(clk_i, rst_ni, s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tkeep,
                               s_axis_tlast, u_open, u_pop, u_count, u_clear, u_data, u_held, u_ended)

    # ------------------------------------------------------------------ scale and sidecar tables
    spread_scales = signal(8 * L)       # B scales on their channels' slots
    half_mask = signal(B)
    scale_spread = expand(u_data, half_mask, spread_scales, 16, KMAX)
    st_we = [Signal(bool(0)) for _ in range(2)]
    st_wdata = signal(8 * L)
    st_waddr, st_raddr = signal(SB), signal(SB)
    st_rdata = [signal(8 * L) for _ in range(2)]
    scale_tables = [ram(clk_i, st_we[i], st_waddr, st_wdata, st_raddr, st_rdata[i], ROWS) for i in range(2)]
    row_scales = join(st_rdata)         # lane i of the row: bank i / B, element i % B
    sc_we = Signal(bool(0))
    sc_wdata, sc_rdata = signal(16 * KMAX), signal(16 * KMAX)
    sc_waddr = signal(TB)
    sc_cut = field(u_data, sc_wdata, 0)
    sidecar = ram(clk_i, sc_we, sc_waddr, sc_wdata, s1_tok, sc_rdata, GMAX)

    # ------------------------------------------------------------------ codes onto lanes
    nibbles = [signal(4) for _ in range(L)]
    nib_cut = split(u_data, nibbles)    # the low half of the word
    narrow = [signal(8) for _ in range(L)]
    widen = [_sign_extend(nibbles[i], narrow[i]) for i in range(L)]
    codes_in, codes_lanes = signal(8 * L), signal(8 * L)
    beat_mask = signal(L)
    code_spread = expand(codes_in, beat_mask, codes_lanes, 8, KMAX)
    narrow_word = join(narrow)

    # ------------------------------------------------------------------ lanes
    codes = [signal(8) for _ in range(L)]
    code_cut = split(s1_codes, codes)
    ch_scales = [signal(16) for _ in range(L)]
    ch_cut = split(row_scales, ch_scales)
    tok_scale = signal(16)
    lane_scale = [signal(16) for _ in range(L)]
    lane_raw = [Signal(bool(0)) for _ in range(L)]
    operands = [_lane_operands(i, s1_mask, s1_base, sc_rdata, s1_perch, ch_scales[i], tok_scale,
                               lane_scale[i], lane_raw[i]) for i in range(L)]
    ys = [signal(32) for _ in range(L)]
    lanes = [dequant_lane(codes[i], lane_scale[i], lane_raw[i], ys[i]) for i in range(L)]
    y_word = join(ys)

    @always_comb
    def control():
        plus = mode_i == MODE_CQ4PLUS and not s_axis_tuser[0]
        ok = (mode_i <= MODE_CQ4PLUS and dim_i != 0 and dim_i <= DMAX and dim_i[LB:0] == 0
              and tokens_i != 0 and tokens_i <= GMAX)
        if plus and not (mask_ok_i and outliers_i <= KMAX):
            ok = False
        cfg_err_o.next = phase == Phase.IDLE and s_axis_tvalid and not ok
        start.next = phase == Phase.IDLE and s_axis_tvalid and ok
        u_open.next = phase != Phase.IDLE
        adv = not m_axis_tvalid or m_axis_tready
        advance.next = adv
        half_mask.next = step_mask[B:0]
        beat_mask.next = step_mask[L:0]
        if int8:
            codes_in.next = u_data
        else:
            codes_in.next = narrow_word
        # nibbles this cycle's step needs
        need = intbv(0)[NB:]
        dropped = intbv(0)[KB + 1:]
        left = intbv(0)[TB + 2:]
        if phase == Phase.SCALES:
            if perch:
                for i in range(B):
                    if step_mask[i]:
                        dropped[:] = dropped + 1
                need[:] = 4 * (B - dropped)
            else:
                left[:] = tokens - step * B
                if left >= B:
                    need[:] = 4 * B
                else:
                    need[:] = 4 * left
        elif phase == Phase.SIDECAR:
            need[:] = 4 * k
        elif phase == Phase.PAYLOAD:
            for i in range(L):
                if step_mask[i]:
                    dropped[:] = dropped + 1
            if int8:
                need[:] = 2 * (L - dropped)
            else:
                need[:] = L - dropped
        else:
            need[:] = u_held            # FINISH: whatever follows the image is dropped
        have = u_held >= need or u_ended
        g = False
        if phase == Phase.SCALES or phase == Phase.SIDECAR:
            g = have
        elif phase == Phase.PAYLOAD:
            g = have and p_valid and adv
        go.next = g
        u_pop.next = g or (phase == Phase.FINISH and not u_ended)
        u_count.next = need
        u_clear.next = phase == Phase.FINISH and u_ended and not s1_valid
        # table ports
        st_waddr.next = step[SB + 1:1]
        st_we[0].next = g and phase == Phase.SCALES and not step[0]
        st_we[1].next = g and phase == Phase.SCALES and step[0]
        if perch:
            st_wdata.next = spread_scales
            st_raddr.next = s1_beat
        else:
            st_wdata.next = u_data
            st_raddr.next = s1_tok >> LB    # the row of L tokens (row 0 when G = L)
        sc_we.next = g and phase == Phase.SIDECAR
        sc_waddr.next = step[TB:0]
        tok_scale.next = (row_scales >> (16 * s1_tok[LB:0])) & 0xFFFF
        busy_o.next = phase != Phase.IDLE or m_axis_tvalid

    @always_seq(clk_i.posedge, reset=rst_ni)
    def step_state():
        image_err_o.next = 0
        if advance:
            m_axis_tvalid.next = s1_valid
            m_axis_tdata.next = y_word
            m_axis_tlast.next = s1_last
            s1_valid.next = go and phase == Phase.PAYLOAD
        if go and phase == Phase.PAYLOAD:
            s1_codes.next = codes_lanes
            s1_mask.next = step_mask[L:0]
            s1_tok.next = p_tok
            s1_beat.next = p_beat
            s1_base.next = p_base
            s1_perch.next = perch
            s1_last.next = p_tok + 1 == tokens and p_beat + 1 == beats
        if go and u_held < u_count:
            bad.next = 1                # tlast came before the image's last byte
        if phase == Phase.IDLE:
            if start:
                int8.next = mode_i == MODE_CQ8
                perch.next = mode_i != MODE_CQ8 and not s_axis_tuser[0]
                beats.next = dim_i[DB:LB]
                tokens.next = tokens_i
                if mode_i == MODE_CQ4PLUS and not s_axis_tuser[0]:
                    mask.next = mask_i
                    step_mask.next = mask_i
                    k.next = outliers_i
                else:
                    mask.next = 0
                    step_mask.next = 0
                    k.next = 0
                step.next = 0
                bad.next = 0
                p_tok.next = 0          # the payload's counters, ready for its phase
                p_beat.next = 0
                p_base.next = 0
                phase.next = Phase.SCALES
        elif phase == Phase.SCALES:
            if go:
                step.next = step + 1
                step_mask.next = step_mask >> B
                done = False
                if perch:
                    done = (step + 1) * B >= beats * L
                else:
                    done = (step + 1) * B >= tokens
                if done:
                    step.next = 0
                    step_mask.next = mask
                    if k != 0:
                        phase.next = Phase.SIDECAR
                    else:
                        phase.next = Phase.PAYLOAD
                        p_valid.next = 1
        elif phase == Phase.SIDECAR:
            if go:
                step.next = step + 1
                if step + 1 == tokens:
                    step.next = 0
                    phase.next = Phase.PAYLOAD
                    p_valid.next = 1
        elif phase == Phase.PAYLOAD:
            if go:
                dropped = intbv(0)[KB + 1:]
                for i in range(L):
                    if step_mask[i]:
                        dropped[:] = dropped + 1
                if p_beat + 1 == beats:
                    p_beat.next = 0
                    p_base.next = 0
                    step_mask.next = mask
                    if p_tok + 1 == tokens:
                        p_valid.next = 0
                        phase.next = Phase.FINISH
                    else:
                        p_tok.next = p_tok + 1
                else:
                    p_beat.next = p_beat + 1
                    p_base.next = p_base + dropped
                    step_mask.next = step_mask >> L
        elif u_clear:                   # FINISH: the last beat left stage 1, tlast is in
            image_err_o.next = bad or u_held > 1
            phase.next = Phase.IDLE
        elif not u_ended:
            bad.next = 1                # bytes beyond the image

    return (unpacker, scale_spread, scale_tables, sc_cut, sidecar, nib_cut, widen, code_spread, code_cut,
            ch_cut, operands, lanes, control, step_state)


def dec_port_signals(params):
    """Fresh signals for every kvce_dec port of a parameter set, keyed by port name."""
    L = params.cq_lanes
    return port_signals(kvce_dec, {
        "mode_i": 2, "dim_i": params.cq_dim.bit_length(), "tokens_i": params.cq_group.bit_length(),
        "outliers_i": params.cq_outliers.bit_length(), "s_axis_tdata": 8 * L, "s_axis_tkeep": L,
        "s_axis_tuser": 1 + max(1, (params.cq_rom_entries - 1).bit_length()),
        "mask_i": params.cq_dim, "m_axis_tdata": 32 * L})


def convert(params, out_dir):
    """Write kvce_dec.v for the parameter set into out_dir; -> its path (see kvce_enc.convert)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kvce_dec(params, **dec_port_signals(params)).convert(hdl="Verilog", path=str(out_dir), name="kvce_dec",
                                                           no_myhdl_header=True, testbench=False)
    return out_dir / "kvce_dec.v"
