"""One way of hepc's scan (DESIGN §4; golden: Hepc.step_advance, Hepc.priorities, Hepc.protected):
what the passes compute from the entry the way read, and the word it writes back."""
from myhdl import block, always_comb, intbv, enum

from golden.kv1_regs import TIER
from hdl.rtbd.rtbd import FIELD, WORD_BITS, bounds

P_MAX = 0xFFFF
LANE_OPS = enum("UPDATE", "DEMOTE", "PROMOTE", "COMMAND", "COMPLETE", "PARK", "WARM")


@block
def scan_lane(word_i, in_decode_i, step_i, w_r_i, w_f_i, w_s_i, w_d_i, window_i, threshold_i,
              mode_pf_i, bound_i, op_i, cmd_word_i, cpl_tier_i, cpl_quarantine_i, cpl_addr_i,
              word_o, ev_o, pf_o, below_o, equal_o, hint_ok_o):
    """From word_i (in_decode_i: its session is in DECODE):
      update   R decays by one, P from the new R (saturated, 0xFFFF when pinned); ev_o: an
               unprotected hot entry (an evict candidate), pf_o: a warm or cold one with
               P > threshold_i (a prefetch candidate); neither when quarantined
      select   below_o / equal_o: a candidate of the mode (mode_pf_i: prefetch, key 0xFFFF - P;
               else evict, key P, as the update pass marked them) with key < / == bound_i
      hint_ok_o: a hint may promote it (valid, not hot, not demoted in this step, not quarantined)
    word_o: the word the pass op_i writes (UPDATE: new R, P and candidate marks; DEMOTE: to warm;
    PROMOTE: to hot; COMMAND: cmd_word_i; COMPLETE: what the completion writer names, the tier
    cpl_tier_i and either the quarantine (cpl_quarantine_i) or the slot address cpl_addr_i; PARK:
    an archive's, as EVICT to cold: unpinned, out of quarantine, cold; WARM: a warm-up's, warm)."""
    V, PIN, QUA, PRE = FIELD["valid"][0], FIELD["pinned"][0], FIELD["quarantined"][0], FIELD["prefix"][0]
    EVC, PFC, DEM = FIELD["ev_cand"][0], FIELD["pf_cand"][0], FIELD["demoted"][0]
    TI_H, TI_L = bounds("tier")
    AD_H, AD_L = bounds("addr")
    PR_H, PR_L = bounds("priority")
    AS_H, AS_L = bounds("access_step")
    RC_H, RC_L = bounds("ref_count")
    R_H, R_L = bounds("r")
    F_H, F_L = bounds("f")
    AGE_BITS = len(step_i)

    @always_comb
    def lane():
        word = intbv(0)[WORD_BITS:]
        word[:] = word_i
        is_hot = word[TI_H:TI_L] == TIER.HOT
        hint_ok_o.next = word[V] and not is_hot and not word[DEM] and not word[QUA]
        # update: R decay, then P from the new R
        r_new = intbv(0)[8:]
        if word[R_H:R_L] != 0:
            r_new[:] = word[R_H:R_L] - 1
        age = intbv(0)[AGE_BITS:]
        age[:] = step_i - word[AS_H:AS_L]
        s_term = intbv(0)[8:]
        if age < window_i:
            s_term[:] = window_i - age[8:]
        d_term = intbv(0)[8:]
        if word[PRE]:
            d_term[:] = 255
        p_wide = intbv(0)[18:]
        p_wide[:] = w_r_i * r_new + w_f_i * word[F_H:F_L] + w_s_i * s_term + w_d_i * d_term
        p_new = intbv(0)[16:]
        if word[PIN] or p_wide > P_MAX:
            p_new[:] = P_MAX
        else:
            p_new[:] = p_wide[16:]
        guarded = ((word[PRE] and word[RC_H:RC_L] != 0) or word[PIN]
                   or (in_decode_i and age < window_i))
        ev_new = word[V] and is_hot and not guarded and not word[QUA]
        pf_new = word[V] and not is_hot and p_new > threshold_i and not word[QUA]
        ev_o.next = ev_new
        pf_o.next = pf_new
        # select / apply: the mode's candidates compared with the bound
        key = intbv(0)[len(bound_i):]
        cand = False
        if mode_pf_i:
            key[16:] = P_MAX - word[PR_H:PR_L]
            cand = word[PFC] and not is_hot
        else:
            key[16:] = word[PR_H:PR_L]
            cand = word[EVC]
        below_o.next = cand and key < bound_i
        equal_o.next = cand and key == bound_i
        out = intbv(0)[WORD_BITS:]
        out[:] = word
        if op_i == LANE_OPS.UPDATE:
            out[R_H:R_L] = r_new
            out[PR_H:PR_L] = p_new
            out[EVC] = ev_new
            out[PFC] = pf_new
            out[DEM] = 0
        elif op_i == LANE_OPS.DEMOTE:
            out[TI_H:TI_L] = TIER.WARM
            out[EVC] = 0
            out[DEM] = 1
        elif op_i == LANE_OPS.PROMOTE:
            out[TI_H:TI_L] = TIER.HOT
            out[PFC] = 0
        elif op_i == LANE_OPS.PARK:
            out[TI_H:TI_L] = TIER.COLD
            out[PIN] = 0
            out[QUA] = 0
        elif op_i == LANE_OPS.WARM:
            out[TI_H:TI_L] = TIER.WARM
        elif op_i == LANE_OPS.COMPLETE:
            out[TI_H:TI_L] = cpl_tier_i
            if cpl_quarantine_i:
                out[QUA] = 1         # the scans leave it where it is
            else:
                out[AD_H:AD_L] = cpl_addr_i
        else:
            out[:] = cmd_word_i
        word_o.next = out

    return lane
