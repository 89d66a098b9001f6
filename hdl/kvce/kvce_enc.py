"""kvce_enc: the ChannelQuant compressor (DESIGN §5; golden/channelquant.py encode_group).

fp16 tokens in, LANES values per beat (a token is D / LANES beats); one block image per group
out: scales | sidecar | payload (golden Group.image), the last beat with tlast and tkeep.

Two group buffers (ping-pong): while one group is being coded the next one streams in.
  ingest    stores the beats, keeps per-channel and per-token amax and the CQ-4+ outlier
            values (the sidecar), and closes the group after G tokens or on flush_i (a
            partial group ends at the token boundary at or after the flush)
  scales    LANES/2 scale units; the scales go out (outlier channels dropped) and into the
            tables the quantisers read
  sidecar   the raw outlier values, LANES/2 per cycle
  payload   one buffered beat per cycle through LANES quantisers, outlier lanes dropped,
            packed into the output beats by the nibble gearbox
The configuration (mode, D, G, k; kind on tuser, the outlier mask beside it) is sampled with a
group's first beat; a group's mask is zero unless it is a CQ-4+ key group. A configuration the engine cannot code holds tready low and raises cfg_err_o.
"""
from pathlib import Path

from myhdl import block, always_comb, always_seq, Signal, intbv, enum, concat

from golden.channelquant import MODES
from hdl.common.instance import signal, port_signals
from hdl.common.ram import ram
from hdl.common.unroll import split, join, max_tree, word_select, field
from hdl.kvce.cq_lanes import scale_unit, quant_lane, RECIP_BITS
from hdl.kvce.stream import compact, nibble_packer

MODE_CODE = {mode: code for code, mode in enumerate(MODES)}   # mode_i: CQ8 0, CQ4 1, CQ4plus 2
MODE_CQ8, MODE_CQ4PLUS = MODE_CODE["CQ8"], MODE_CODE["CQ4plus"]
SCALE_BITS = 15                        # scales are positive: the fp16 magnitude
TABLE_BITS = SCALE_BITS + RECIP_BITS   # a scale and its reciprocal


def _log2(n):
    assert n > 0 and n & (n - 1) == 0, f"{n} is not a power of two"
    return n.bit_length() - 1


@block
def _lane_amax(x_i, old_i, first_i, abs_o, new_o):
    """One lane's |x| and the running channel maximum (restarted by first_i)."""
    @always_comb
    def update():
        a = intbv(0)[15:]
        a[:] = x_i[15:0]
        abs_o.next = a
        if first_i or a > old_i:
            new_o.next = a
        else:
            new_o.next = old_i

    return update


@block
def _is(value, en_i, idx_i, out_o):
    """out_o = en_i and idx_i == value."""
    @always_comb
    def decode():
        out_o.next = en_i and idx_i == value

    return decode


@block
def _as_fp16(mag_i, out_o):
    """A positive fp16 from its 15-bit magnitude."""
    @always_comb
    def widen():
        out_o.next = mag_i

    return widen


@block
def _outlier_slot(index, clk_i, rst_ni, mask_i, base_i, accept_i, lanes, now_o):
    """Slot `index` of a token's outliers: the lane whose rank among this beat's outlier lanes
    is index - base (base: outliers of the token in earlier beats). now_o: the slot's value
    including this beat."""
    LB = max(1, (len(lanes) - 1).bit_length())
    sel = Signal(intbv(0)[LB:])
    hit = Signal(bool(0))
    lane = Signal(intbv(0)[16:])
    held = Signal(intbv(0)[16:])
    mux = word_select(sel, lanes, lane)

    @always_comb
    def rank():
        found = False
        at = intbv(0)[LB:]
        r = intbv(0)[len(base_i) + 1:]
        r[:] = base_i
        for i in range(len(mask_i)):
            if mask_i[i]:
                if r == index and not found:
                    found = True
                    at[:] = i
                r[:] = r + 1
        hit.next = found and accept_i
        sel.next = at

    @always_comb
    def value():
        if hit:
            now_o.next = lane
        else:
            now_o.next = held

    @always_seq(clk_i.posedge, reset=rst_ni)
    def hold():
        if hit:
            held.next = lane

    return mux, rank, value, hold


@block
def _sidecar_bank(index, bank_i, base_i, k_i, slots, we_i, we_o, waddr_o, data_o, bank_bits):
    """Bank `index` of the sidecar store at a token's end: it takes element j = (index - base)
    mod banks of the token's k outliers, at row (base + j) / banks of buffer bank_i."""
    BANKS = 1 << bank_bits
    SLOT_BITS = (len(slots) - 1).bit_length()
    sel = Signal(intbv(0)[SLOT_BITS:])
    mux = word_select(sel, slots, data_o)
    ROW_BITS = len(waddr_o) - 1

    @always_comb
    def place():
        j = intbv(0)[bank_bits:]
        j[:] = (index + BANKS - base_i[bank_bits:0]) % BANKS
        sel.next = j[SLOT_BITS:0]
        we_o.next = we_i and j < k_i
        row = intbv(0)[ROW_BITS:]
        row[:] = base_i >> bank_bits
        if index < base_i[bank_bits:0]:
            row[:] = row + 1
        waddr_o.next = concat(bank_i, row)

    return mux, place


@block
def kvce_enc(params, clk_i, rst_ni, mode_i, dim_i, group_i, outliers_i, flush_i,
             s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tuser,
             mask_i, mask_ok_i,
             m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tkeep, m_axis_tlast,
             cfg_err_o, busy_o):
    """s_axis_tuser = {ROM entry (unused here), kind}: kind 0 = keys, 1 = values. mask_i /
    mask_ok_i: the CQ-4+ outlier mask of that entry for the current D and k, and whether it
    names exactly k distinct channels below D (kvce's ROM)."""
    L, DMAX, GMAX, KMAX = params.cq_lanes, params.cq_dim, params.cq_group, params.cq_outliers
    B = L // 2                          # scale units; scale and sidecar elements per cycle
    BEATS = DMAX // L                   # beats per token at most
    LB, BB, TB = _log2(L), _log2(B), _log2(GMAX)
    BT = max(_log2(BEATS), 1)           # beat index bits
    assert 2 <= KMAX <= B and KMAX & (KMAX - 1) == 0 and B < GMAX
    assert len(s_axis_tdata) == 16 * L and len(m_axis_tdata) == 8 * L and len(mask_i) == DMAX
    SC_ROWS = GMAX * KMAX // B          # sidecar rows per bank and buffer
    SB = _log2(SC_ROWS)
    KB = (KMAX - 1).bit_length() + 1    # 0..KMAX
    EB = TB + KB + 1                    # sidecar elements of a group: 0..GMAX * KMAX
    DB = len(dim_i)

    # ------------------------------------------------------------------ group descriptors
    # buffer 0 and 1: written by ingest at a group's start and close, read by the coder
    full = [Signal(bool(0)) for _ in range(2)]
    d_wide = [Signal(bool(0)) for _ in range(2)]
    d_perch = [Signal(bool(0)) for _ in range(2)]
    d_beats = [Signal(intbv(0)[BT + 1:]) for _ in range(2)]   # D / L
    d_mask = [Signal(intbv(0)[DMAX:]) for _ in range(2)]    # CQ-4+ key outliers, else 0
    d_tokens = [Signal(intbv(0)[TB + 1:]) for _ in range(2)]
    d_sidecar = [Signal(intbv(0)[EB:]) for _ in range(2)]

    # ------------------------------------------------------------------ ingest state
    ibank = Signal(intbv(0)[1:])
    in_group = Signal(bool(0))
    itok = Signal(intbv(0)[TB:])
    ibeat = Signal(intbv(0)[BT:])
    flush_pend = Signal(bool(0))
    cur_group = Signal(intbv(0)[TB + 1:])
    cur_k = Signal(intbv(0)[KB:])
    mask_work = Signal(intbv(0)[DMAX:])  # the mask from the next beat's channels up
    sc_count = Signal(intbv(0)[KB:])     # outliers of this token in earlier beats
    sc_base = Signal(intbv(0)[EB:])      # sidecar elements of earlier tokens
    tmax = Signal(intbv(0)[15:])         # running token amax
    # per beat
    accept, first_beat, token_end, close, first_token, plus_now = (Signal(bool(0)) for _ in range(6))
    beat_mask = signal(L)
    slot_base = signal(KB)
    grp_k = signal(KB)
    base_now = signal(EB)
    tmax_new = signal(15)

    x_lanes = [signal(16) for _ in range(L)]
    x_insts = split(s_axis_tdata, x_lanes)
    # channel amax: half-words (lanes below B, lanes from B) per beat and buffer
    CM_DEPTH = 2 * (1 << BT)
    cm_addr = signal(1 + BT)
    cm_lo, cm_hi = signal(15 * B), signal(15 * B)
    cm_lo_old = [signal(15) for _ in range(B)]
    lo_insts = split(cm_lo, cm_lo_old)
    cm_hi_old = [signal(15) for _ in range(B)]
    hi_insts = split(cm_hi, cm_hi_old)
    abs_lanes = [signal(15) for _ in range(L)]
    new_lanes = [signal(15) for _ in range(L)]
    lane_insts = [_lane_amax(x_lanes[i], (cm_lo_old + cm_hi_old)[i], first_token, abs_lanes[i],
                             new_lanes[i]) for i in range(L)]
    cm_lo_new, cm_hi_new = join(new_lanes[:B]), join(new_lanes[B:])
    beat_max = signal(15)
    bmax_insts = max_tree(abs_lanes, beat_max)
    slot_now = [signal(16) for _ in range(KMAX)]
    slots = [_outlier_slot(j, clk_i, rst_ni, beat_mask, slot_base, accept, x_lanes, slot_now[j])
             for j in range(KMAX)]

    # ------------------------------------------------------------------ coder state
    Phase = enum("IDLE", "SCALES", "SIDECAR", "PAYLOAD", "DRAIN")
    phase = Signal(Phase.IDLE)
    ebank = Signal(intbv(0)[1:])
    step = Signal(intbv(0)[max(TB, BT + 1, SB) + 1:])   # scale or sidecar step
    e_wide, e_perch = Signal(bool(0)), Signal(bool(0))
    e_beats = Signal(intbv(0)[BT + 1:])
    e_tokens = Signal(intbv(0)[TB + 1:])
    e_sidecar = Signal(intbv(0)[EB:])
    e_mask = Signal(intbv(0)[DMAX:])
    scale_mask = Signal(intbv(0)[DMAX:])  # the mask from this scale step's channels up
    # payload pipeline: stage 0 addresses the buffer, stage 1 holds the word read
    p0_valid, p0_tok, p0_beat = Signal(bool(0)), signal(TB), signal(BT)
    p0_mask = Signal(intbv(0)[DMAX:])
    p1_valid, p1_tok, p1_beat, p1_last = Signal(bool(0)), signal(TB), signal(BT), Signal(bool(0))
    p1_mask = signal(L)
    advance, push, push_end, bank_done = (Signal(bool(0)) for _ in range(4))
    su_source = signal(2)                 # scale units read: 0 token amax, 1 / 2 channel half-words
    push_data = signal(8 * L)
    push_count = Signal(intbv(0, min=0, max=2 * L + 1))
    pk_ready, pk_closing = Signal(bool(0)), Signal(bool(0))

    # ------------------------------------------------------------------ memories
    GB_DEPTH = 2 * GMAX * (1 << BT)
    gb_waddr, gb_raddr = signal(1 + TB + BT), signal(1 + TB + BT)
    gb_rdata = signal(16 * L)
    gbuf = ram(clk_i, accept, gb_waddr, s_axis_tdata, gb_raddr, gb_rdata, GB_DEPTH, registered=True)
    cm_raddr_e = signal(1 + BT)
    cm_lo_e, cm_hi_e = signal(15 * B), signal(15 * B)
    # the ingest read-modify-write port and the coder's read port: two copies, one write
    cmax = [ram(clk_i, accept, cm_addr, cm_lo_new, cm_addr, cm_lo, CM_DEPTH),
            ram(clk_i, accept, cm_addr, cm_hi_new, cm_addr, cm_hi, CM_DEPTH),
            ram(clk_i, accept, cm_addr, cm_lo_new, cm_raddr_e, cm_lo_e, CM_DEPTH),
            ram(clk_i, accept, cm_addr, cm_hi_new, cm_raddr_e, cm_hi_e, CM_DEPTH)]
    # token amax: token t in bank t % B, row t / B
    TA_DEPTH = 2 * GMAX // B
    ta_we = [Signal(bool(0)) for _ in range(B)]
    ta_waddr, ta_raddr = signal(1 + TB - BB), signal(1 + TB - BB)
    ta_rdata = [signal(15) for _ in range(B)]
    itok_bank = signal(BB)
    ta_dec = [_is(i, token_end, itok_bank, ta_we[i]) for i in range(B)]
    tamax = [ram(clk_i, ta_we[i], ta_waddr, tmax_new, ta_raddr, ta_rdata[i], TA_DEPTH)
             for i in range(B)]
    # sidecar: element e of a group in bank e % B, row e / B
    sc_we = [Signal(bool(0)) for _ in range(B)]
    sc_waddr = [signal(1 + SB) for _ in range(B)]
    sc_wdata = [signal(16) for _ in range(B)]
    sc_raddr = signal(1 + SB)
    sc_rdata = [signal(16) for _ in range(B)]
    sc_banks = [_sidecar_bank(i, ibank, base_now, grp_k, slot_now, token_end, sc_we[i], sc_waddr[i],
                              sc_wdata[i], BB) for i in range(B)]
    sidecar = [ram(clk_i, sc_we[i], sc_waddr[i], sc_wdata[i], sc_raddr, sc_rdata[i], 2 * SC_ROWS)
               for i in range(B)]

    # ------------------------------------------------------------------ scale units
    su_amax = [signal(15) for _ in range(B)]
    su_scale = [signal(SCALE_BITS) for _ in range(B)]
    su_recip = [signal(RECIP_BITS) for _ in range(B)]
    su_fp16 = [signal(16) for _ in range(B)]
    cm_e_lo = [signal(15) for _ in range(B)]
    cm_e_lo_insts = split(cm_lo_e, cm_e_lo)
    cm_e_hi = [signal(15) for _ in range(B)]
    cm_e_hi_insts = split(cm_hi_e, cm_e_hi)
    su_pick = [word_select(su_source, [ta_rdata[i], cm_e_lo[i], cm_e_hi[i]], su_amax[i])
               for i in range(B)]
    units = [scale_unit(su_amax[i], e_wide, su_scale[i], su_recip[i]) for i in range(B)]
    su_widen = [_as_fp16(su_scale[i], su_fp16[i]) for i in range(B)]
    su_tables = [join([su_scale[i], su_recip[i]]) for i in range(B)]
    su_table_word = join(su_tables)
    # per-channel tables (half-words like cmax) and per-token tables (banked like tamax)
    ch_we_lo, ch_we_hi, tk_we = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    ch_waddr, ch_raddr = signal(BT), signal(BT)
    ch_lo, ch_hi = signal(TABLE_BITS * B), signal(TABLE_BITS * B)
    ch_tables = [ram(clk_i, ch_we_lo, ch_waddr, su_table_word, ch_raddr, ch_lo, 1 << BT),
                 ram(clk_i, ch_we_hi, ch_waddr, su_table_word, ch_raddr, ch_hi, 1 << BT)]
    tk_waddr, tk_raddr = signal(TB - BB), signal(TB - BB)
    tk_rdata = [signal(TABLE_BITS) for _ in range(B)]
    tk_tables = [ram(clk_i, tk_we, tk_waddr, su_tables[i], tk_raddr, tk_rdata[i], GMAX // B)
                 for i in range(B)]
    tk_sel = signal(BB)
    tk_entry = signal(TABLE_BITS)
    tk_insts = [word_select(tk_sel, tk_rdata, tk_entry)]

    # ------------------------------------------------------------------ quantisers
    q_x = [signal(16) for _ in range(L)]
    q_insts = split(gb_rdata, q_x)
    ch_entries = [signal(TABLE_BITS) for _ in range(L)]
    ch_insts = split(join([ch_lo, ch_hi]), ch_entries)
    lane_table = [signal(TABLE_BITS) for _ in range(L)]
    table_insts = [word_select(e_perch, [tk_entry, ch_entries[i]], lane_table[i]) for i in range(L)]
    lane_scale, lane_recip, codes, code_nibbles, lt_insts, nib_insts = [], [], [], [], [], []
    for i in range(L):
        sc, rc, c = signal(SCALE_BITS), signal(RECIP_BITS), signal(8)
        lt_insts.append(field(lane_table[i], sc, 0))
        lt_insts.append(field(lane_table[i], rc, SCALE_BITS))
        lane_scale.append(sc)
        lane_recip.append(rc)
        codes.append(c)
        n = signal(4)
        nib_insts.append(field(c, n, 0))
        code_nibbles.append(n)
    quants = [quant_lane(q_x[i], lane_scale[i], lane_recip[i], e_wide, codes[i]) for i in range(L)]
    codes8 = join(codes)
    codes4 = join(code_nibbles)
    codes4_kept = signal(4 * L)
    squeeze_codes = compact(codes4, p1_mask, codes4_kept, 4, KMAX)
    scale_drop = signal(B)
    scales_kept = signal(16 * B)
    squeeze_scales = compact(join(su_fp16), scale_drop, scales_kept, 16, KMAX)
    sc_word = join(sc_rdata)

    packer = nibble_packer(clk_i, rst_ni, push, push_data, push_count, push_end, pk_ready, pk_closing,
                           m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tkeep, m_axis_tlast)

    # ------------------------------------------------------------------ ingest
    @always_comb
    def ingest_comb():
        plus = mode_i == MODE_CQ4PLUS and not s_axis_tuser[0]
        plus_now.next = plus
        ok = (mode_i <= MODE_CQ4PLUS and dim_i != 0 and dim_i <= DMAX and dim_i[LB:0] == 0
              and group_i != 0 and group_i <= GMAX)
        if plus and not mask_ok_i:
            ok = False
        cfg_err_o.next = s_axis_tvalid and not in_group and not full[ibank] and not ok
        flushing = (flush_i or flush_pend) and in_group and ibeat == 0
        ready = not full[ibank] and (in_group or ok) and not flushing
        s_axis_tready.next = ready
        acc = s_axis_tvalid and ready
        accept.next = acc
        first_beat.next = acc and not in_group
        first_token.next = itok == 0 or not in_group
        beats = intbv(0)[BT + 1:]
        grp = intbv(0)[TB + 1:]
        k = intbv(0)[KB:]
        m = intbv(0)[L:]                # this beat's mask bits
        if in_group:
            beats[:] = d_beats[ibank]
            grp[:] = cur_group
            k[:] = cur_k
            base_now.next = sc_base
            if ibeat == 0:
                m[:] = d_mask[ibank][L:0]
            else:
                m[:] = mask_work[L:0]
        else:
            beats[:] = dim_i[DB:LB]
            grp[:] = group_i
            if plus:
                k[:] = outliers_i
                m[:] = mask_i[L:0]
            base_now.next = 0
        grp_k.next = k
        beat_mask.next = m
        tend = acc and ibeat + 1 == beats
        token_end.next = tend
        close.next = (tend and (itok + 1 == grp or flush_i or flush_pend)) or flushing
        gb_waddr.next = concat(ibank, itok, ibeat)
        cm_addr.next = concat(ibank, ibeat)
        ta_waddr.next = concat(ibank, itok[TB:BB])
        itok_bank.next = itok[BB:0]
        slot_base.next = 0 if ibeat == 0 else sc_count
        if ibeat == 0 or beat_max > tmax:
            tmax_new.next = beat_max
        else:
            tmax_new.next = tmax

    @always_seq(clk_i.posedge, reset=rst_ni)
    def ingest():
        if accept:
            n = intbv(0)[KB:]
            n[:] = slot_base
            for i in range(L):
                if beat_mask[i]:
                    n[:] = n + 1
            sc_count.next = n
            tmax.next = tmax_new
            if first_beat:
                in_group.next = 1
                cur_group.next = group_i
                cur_k.next = grp_k
                sc_base.next = 0
                d_wide[ibank].next = mode_i == MODE_CQ8
                d_perch[ibank].next = mode_i != MODE_CQ8 and not s_axis_tuser[0]
                d_beats[ibank].next = dim_i[DB:LB]
                if plus_now:
                    d_mask[ibank].next = mask_i
                    mask_work.next = mask_i >> L
                else:
                    d_mask[ibank].next = 0
                    mask_work.next = 0
            elif ibeat == 0:
                mask_work.next = d_mask[ibank] >> L
            else:
                mask_work.next = mask_work >> L
            if token_end:
                ibeat.next = 0
                if not close:           # a full group of GMAX tokens always closes
                    itok.next = itok + 1
                sc_base.next = base_now + grp_k
            else:
                ibeat.next = ibeat + 1
        if flush_i and not close:
            flush_pend.next = in_group or accept
        if close:
            flush_pend.next = 0
            in_group.next = 0
            itok.next = 0
            ibeat.next = 0
            ibank.next = not ibank
            if token_end:
                d_tokens[ibank].next = itok + 1
                d_sidecar[ibank].next = base_now + grp_k
            else:
                d_tokens[ibank].next = itok
                d_sidecar[ibank].next = sc_base

    @always_seq(clk_i.posedge, reset=rst_ni)
    def bank_state():
        for b in range(2):
            if close and ibank == b:
                full[b].next = 1
            elif bank_done and ebank == b:
                full[b].next = 0

    # ------------------------------------------------------------------ coder
    @always_comb
    def coder_comb():
        adv = pk_ready and (phase == Phase.SCALES or phase == Phase.SIDECAR or phase == Phase.PAYLOAD)
        advance.next = adv
        bank_done.next = phase == Phase.DRAIN and not pk_closing
        scales = phase == Phase.SCALES
        # scale step s: channels s*B.. (half s % 2 of cmax word s / 2) or tokens s*B..
        if not e_perch:
            su_source.next = 0
        elif step[0]:
            su_source.next = 2
        else:
            su_source.next = 1
        cm_raddr_e.next = concat(ebank, step[BT + 1:1])
        ta_raddr.next = concat(ebank, step[TB - BB:0])
        scale_drop.next = scale_mask[B:0]
        ch_waddr.next = step[BT + 1:1]
        ch_we_lo.next = adv and scales and e_perch and not step[0]
        ch_we_hi.next = adv and scales and e_perch and step[0]
        tk_waddr.next = step[TB - BB:0]
        tk_we.next = adv and scales and not e_perch
        sc_raddr.next = concat(ebank, step[SB:0])
        # payload: read stage 0's word when advancing, else stage 1's again
        if adv:
            gb_raddr.next = concat(ebank, p0_tok, p0_beat)
        else:
            gb_raddr.next = concat(ebank, p1_tok, p1_beat)
        ch_raddr.next = p1_beat
        tk_raddr.next = p1_tok[TB:BB]
        tk_sel.next = p1_tok[BB:0]
        # the chunk for the packer
        cnt = intbv(0, min=0, max=2 * L + 1)
        data = intbv(0)[8 * L:]
        kept_scales = intbv(0, min=0, max=B + 1)
        kept_codes = intbv(0, min=0, max=L + 1)
        tokens_left = intbv(0)[TB + 2:]
        elements_left = intbv(0)[EB + 1:]
        if scales:
            data[:] = scales_kept
            if e_perch:
                kept_scales[:] = B
                for i in range(B):
                    if scale_mask[i]:
                        kept_scales[:] = kept_scales - 1
                cnt[:] = 4 * kept_scales
            else:
                tokens_left[:] = e_tokens - step * B
                if tokens_left >= B:
                    cnt[:] = 4 * B
                else:
                    cnt[:] = 4 * tokens_left
        elif phase == Phase.SIDECAR:
            data[:] = sc_word
            elements_left[:] = e_sidecar - step * B
            if elements_left >= B:
                cnt[:] = 4 * B
            else:
                cnt[:] = 4 * elements_left
        elif e_wide:
            data[:] = codes8
            cnt[:] = 2 * L
        else:
            data[:] = codes4_kept
            kept_codes[:] = L
            for i in range(L):
                if p1_mask[i]:
                    kept_codes[:] = kept_codes - 1
            cnt[:] = kept_codes
        push_data.next = data
        push_count.next = cnt
        push.next = adv and (phase != Phase.PAYLOAD or p1_valid)
        push_end.next = adv and phase == Phase.PAYLOAD and p1_valid and p1_last
        busy_o.next = phase != Phase.IDLE or in_group or full[0] or full[1]

    @always_seq(clk_i.posedge, reset=rst_ni)
    def coder():
        if phase == Phase.IDLE:
            if full[ebank]:
                e_wide.next = d_wide[ebank]
                e_perch.next = d_perch[ebank]
                e_beats.next = d_beats[ebank]
                e_tokens.next = d_tokens[ebank]
                e_sidecar.next = d_sidecar[ebank]
                e_mask.next = d_mask[ebank]
                scale_mask.next = d_mask[ebank]
                step.next = 0
                phase.next = Phase.SCALES
        elif phase == Phase.SCALES or phase == Phase.SIDECAR:
            if advance:
                step.next = step + 1
                scale_mask.next = scale_mask >> B
                done = False
                if phase == Phase.SIDECAR:
                    done = (step + 1) * B >= e_sidecar
                elif e_perch:
                    done = (step + 1) * B >= e_beats * L
                else:
                    done = (step + 1) * B >= e_tokens
                if done:
                    step.next = 0
                    if phase == Phase.SCALES and e_sidecar != 0:
                        phase.next = Phase.SIDECAR
                    else:
                        phase.next = Phase.PAYLOAD
                        p0_valid.next = 1
                        p0_tok.next = 0
                        p0_beat.next = 0
                        p0_mask.next = e_mask
                        p1_valid.next = 0
        elif phase == Phase.PAYLOAD:
            if advance:
                p1_valid.next = p0_valid
                p1_tok.next = p0_tok
                p1_beat.next = p0_beat
                p1_mask.next = p0_mask[L:0]
                p1_last.next = p0_tok + 1 == e_tokens and p0_beat + 1 == e_beats
                if p0_valid:
                    if p0_beat + 1 == e_beats:
                        p0_beat.next = 0
                        p0_mask.next = e_mask
                        if p0_tok + 1 == e_tokens:
                            p0_valid.next = 0
                        else:
                            p0_tok.next = p0_tok + 1
                    else:
                        p0_beat.next = p0_beat + 1
                        p0_mask.next = p0_mask >> L
                if p1_valid and p1_last:
                    phase.next = Phase.DRAIN
                    p1_valid.next = 0
        elif bank_done:                   # DRAIN: the image's last beat has left the packer
            phase.next = Phase.IDLE
            ebank.next = not ebank

    return (x_insts, lo_insts, hi_insts, lane_insts, bmax_insts, slots, gbuf, cmax, ta_dec, tamax,
            sc_banks, sidecar, cm_e_lo_insts, cm_e_hi_insts, su_pick, units, su_widen, ch_tables,
            tk_tables, tk_insts, q_insts, ch_insts, table_insts, lt_insts, nib_insts, quants,
            squeeze_codes, squeeze_scales, packer, ingest_comb, ingest, bank_state, coder_comb, coder)


def enc_port_signals(params):
    """Fresh signals for every kvce_enc port of a parameter set, keyed by port name."""
    L = params.cq_lanes
    return port_signals(kvce_enc, {
        "mode_i": 2, "dim_i": params.cq_dim.bit_length(), "group_i": params.cq_group.bit_length(),
        "outliers_i": params.cq_outliers.bit_length(), "s_axis_tdata": 16 * L,
        "s_axis_tuser": 1 + max(1, (params.cq_rom_entries - 1).bit_length()),
        "mask_i": params.cq_dim, "m_axis_tdata": 8 * L, "m_axis_tkeep": L})


def convert(params, out_dir):
    """Write kvce_enc.v for the parameter set into out_dir; -> its path. MyHDL's output depends
    on the hash seed: `python -m hdl.gen --block kvce_enc` pins it (hdl.kvce.generate)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kvce_enc(params, **enc_port_signals(params)).convert(hdl="Verilog", path=str(out_dir), name="kvce_enc",
                                                           no_myhdl_header=True, testbench=False)
    return out_dir / "kvce_enc.v"

