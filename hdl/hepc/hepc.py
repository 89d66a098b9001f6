"""hepc: the directory and policy engine (DESIGN §2-§4; golden/policy_engine.py, golden/hepc.py).

Runs the directory and policy commands cmdproc hands over (req/done), on rtbd's banks:
a keyed command looks its set up (one cycle to read, one to decide and write); a
STEP_ADVANCE runs the scan as passes over the sets, every way of a set per cycle:

  update   R decay, S, D, P saturated to 16 bits, guards; marks evict candidates (hot,
           unprotected) and prefetch candidates (warm/cold, P > threshold) in the word
           (scan_lane, one per way)
  select   only when more candidates than slots: the k-th smallest key by binary search,
           one pass per key bit counting keys below the trial value (kth_key; no sorting)
  apply    in index order: demote (evict) or promote (prefetch) the selected entries,
           one per cycle, each pushed to its queue; a full queue stalls the pass
  hints    PREFETCH hints within the horizon, earliest target first, while room lasts
           (hint_table: held, searched a slot per cycle)
This block sequences the passes and owns the directory port; the sub-blocks compute them.
A SESSION_CLOSE (cmdproc's, once the session table closed the session) sweeps the sets in order,
as the apply pass walks them: every entry of the session is deleted, one per cycle, with its
hint and its image (forget), and the hot count goes down for each hot one; a reference entry
also counts its reference off its shared block (phase 3 below), then the sweep goes on. A
SESSION_SET_STATE (cmdproc's, once the table archived the session or took it out of ARCHIVED)
sweeps the same way: to ARCHIVED it parks each entry of the session but its references as EVICT
to cold does (unpinned, out of quarantine, its hint dropped; a move pushed to the evict queue
unless it is cold); to IDLE (the warm-up) it moves each cold one that is not quarantined to warm
through the prefetch queue. A full queue stalls the sweep, which takes completions meanwhile.

References are per session (golden Hepc.take_reference, drop_reference): a tenant's SHARE_PREFIX
or RELEASE runs in three phases, a lookup each: (1) session 0's block of the key, checked only;
(2) the tenant's own key: its reference entry (prefix bit, count 1, cold, quarantined, no image)
entered or deleted; (3) session 0's block again, its count written. A reference entry refuses
MARK_HOT and PREFETCH, and the KV path's own access to one answers ISOLATION: kvpath then asks
for session 0's block as a shared access.

Moves: the scan and EVICT write the new tier at once and push (entry, source tier, destination
tier) to the evict or prefetch queue, which the dma drains into its channels. Each move's
completion comes back on cpl_*: hepc writes it into the entry (completion: the slot address when it
moved; the source tier back when it timed out), in two cycles through the one directory write port, and
takes it whenever it is idle, finishing a command, or stalled on a full queue. That last case
is what keeps a long scan from deadlocking against the channels; the pass resumes by reading
its set again. A command completes (done_o) only once both queues are empty, no move is in
flight (moves_busy_i) and every completion is written: a command's moves are part of it. A
timed-out move changes the hot count only then, so the scan's decisions stay the golden ones.

The KV path's accesses: probe_i decides only (status and entry index, nothing written, nothing
counted), for KV_APPEND's insert check and BLOCK_FETCH's resolve pass; shared_i asks for
session 0's block on another session's behalf, which only a prefix block with references may
be (ISOLATION otherwise, before the stored-image check's BAD_STATE). A host's SHARE_PREFIX or
RELEASE of a session other than 0 is such an access too (golden REFERENCE_OPCODES): it names
session 0's block of the key, and one the management domain has not marked prefix answers
ISOLATION, nothing written.

Evicting selects the lowest P (key = P) and prefetching the highest (key = 0xFFFF - P);
ties go to the lowest index in both, which is the golden order. The weights, window,
watermarks, threshold and horizon are sampled at the scan's start.
"""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, enum, concat

from golden.kv1_regs import OPCODE, STATUS, TIER, SESSION_STATE
from hdl.common.fifo import fifo
from hdl.common.unroll import field, join, one_hot, split
from hdl.hepc.completion import completion
from hdl.hepc.hint_table import hint_table
from hdl.hepc.kth_key import kth_key
from hdl.hepc.scan_lane import LANE_OPS, scan_lane
from hdl.rtbd.rtbd import FIELD, WORD_BITS, bounds

HEPC_EVENTS = ("DIR_HITS", "DIR_MISSES", "HEPC_EVICTS", "HEPC_PREFETCHES", "HEPC_SCAN_CYCLES")
BLOCK_SHIFT = 5           # 32 tokens per block (golden.policy_engine.BLOCK_TOKENS)


@block
def hepc(params, clk_i, rst_ni,
         req_i, opcode_i, session_i, arg0_i, arg1_i, arg2_i, probe_i, codec_i, shared_i, done_o, status_o, index_o,
         w_r_i, w_f_i, w_s_i, w_d_i, window_i, horizon_i, high_i, low_i, threshold_i,
         dir_ready_i, key_session_o, key_layer_o, key_head_o, key_block_o, hash_set_i,
         rd_set_o, rd_data_i, match_i, free_i, wr_en_o, wr_set_o, wr_data_o,
         evq_pop_i, evq_valid_o, evq_entry_o, evq_src_o, evq_dst_o,
         pfq_pop_i, pfq_valid_o, pfq_entry_o, pfq_src_o, pfq_dst_o,
         cpl_valid_i, cpl_entry_i, cpl_tier_i, cpl_timeout_i, cpl_take_o, moves_busy_i, tier_o,
         forget_o, forget_entry_o,
         scan_sessions_o, scan_decode_i, step_o, hot_o, hints_o, events_o, way_quota_i, hint_quota_i):
    WAYS, SETS = params.dir_ways, params.dir_sets
    WB = (WAYS - 1).bit_length()
    SB = (SETS - 1).bit_length()
    IB = WB + SB                       # entry index bits
    LAST_SET = SETS - 1
    assert len(events_o) == len(HEPC_EVENTS) and IB <= 16 and len(evq_entry_o) == len(cpl_entry_i) == IB

    V = FIELD["valid"][0]
    PIN = FIELD["pinned"][0]
    QUA = FIELD["quarantined"][0]
    PRE = FIELD["prefix"][0]
    SES_H, SES_L = bounds("session")
    LAY_H, LAY_L = bounds("layer")
    HEAD_H, HEAD_L = bounds("kv_head")
    CT_H, CT_L = bounds("codec_tier")
    TS_H, TS_L = bounds("token_start")
    TE_H, TE_L = bounds("token_end")
    TI_H, TI_L = bounds("tier")
    AD_H, AD_L = bounds("addr")
    AS_H, AS_L = bounds("access_step")
    RC_H, RC_L = bounds("ref_count")
    R_H, R_L = bounds("r")
    F_H, F_L = bounds("f")

    # ------------------------------------------------------------- the ways
    words = [Signal(intbv(0)[WORD_BITS:]) for _ in range(WAYS)]
    insts = [field(rd_data_i, words[w], w * WORD_BITS) for w in range(WAYS)]
    way_tiers = [Signal(intbv(0)[2:]) for _ in range(WAYS)]
    insts += [field(rd_data_i, way_tiers[w], w * WORD_BITS + TI_L) for w in range(WAYS)]
    new_words = [Signal(intbv(0)[WORD_BITS:]) for _ in range(WAYS)]
    wr_vec = ConcatSignal(*reversed(new_words))

    lane_op = Signal(LANE_OPS.COMMAND)
    cmd_word = Signal(intbv(0)[WORD_BITS:])
    bound = Signal(intbv(0)[17:])       # kth_key's: select: trial value; apply: the k-th key
    mode_pf = Signal(bool(0))           # selecting prefetch (else eviction) candidates
    # each way's scan lane (its own block): candidates and the compare with the bound
    new_ev, new_pf, below, equal, hint_ok, valid, pf_flag = ([Signal(bool(0)) for _ in range(WAYS)]
                                                             for _ in range(7))
    new_ev_vec, new_pf_vec, below_vec, equal_vec = join(new_ev), join(new_pf), join(below), join(equal)
    hint_ok_vec, valid_vec, pf_flag_vec = join(hint_ok), join(valid), join(pf_flag)
    insts += [field(rd_data_i, valid[w], w * WORD_BITS + FIELD["valid"][0]) for w in range(WAYS)]
    insts += [field(rd_data_i, pf_flag[w], w * WORD_BITS + FIELD["pf_cand"][0]) for w in range(WAYS)]

    # latched configuration and state
    step = Signal(intbv(0)[32:])
    cw_r, cw_f, cw_s, cw_d = (Signal(intbv(0)[8:]) for _ in range(4))
    cwindow = Signal(intbv(0)[8:])
    chorizon = Signal(intbv(0)[8:])
    chigh = Signal(intbv(0)[17:])    # watermarks, widened to the occupancy count
    clow = Signal(intbv(0)[17:])
    cthr = Signal(intbv(0)[16:])
    # the DECODE guard: each way's session, as read, goes to the session block's DECODE set, which
    # answers in the same cycle whether that session is in DECODE
    lane_session = [Signal(intbv(0)[SES_H - SES_L:]) for _ in range(WAYS)]
    u_lane_sessions = [field(rd_data_i, lane_session[w], w * WORD_BITS + SES_L) for w in range(WAYS)]
    lane_session_vec = join(lane_session)
    lane_flag = [Signal(bool(0)) for _ in range(WAYS)]
    insts.append(split(scan_decode_i, lane_flag))
    # the completion writer (its own block)
    cpl_addr = Signal(intbv(0)[AD_H - AD_L:])
    cpl_one = Signal(intbv(0)[WAYS:])
    cpl_take, settle, move_failed = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    hot_back = Signal(intbv(0)[17:])      # timed-out evictions: blocks back in hot at the end
    hot_gone = Signal(intbv(0)[17:])      # timed-out prefetches: blocks not in hot after all
    u_completion = completion(params, clk_i, rst_ni, cpl_entry_i, cpl_tier_i, cpl_timeout_i, way_tiers, cpl_one, cpl_addr, cpl_take, settle, move_failed, hot_back, hot_gone)

    lane_args = (step, cw_r, cw_f, cw_s, cw_d, cwindow, cthr, mode_pf, bound, lane_op, cmd_word, cpl_tier_i,
                 cpl_timeout_i, cpl_addr)
    u_lanes = [scan_lane(words[w], lane_flag[w], *lane_args, new_words[w], new_ev[w], new_pf[w],
                         below[w], equal[w], hint_ok[w]) for w in range(WAYS)]

    # -------------------------------------------------------------- queues
    # a queue entry: destination tier, source tier, entry index
    evq_push, pfq_push = Signal(bool(0)), Signal(bool(0))
    q_in = Signal(intbv(0)[IB + 4:])
    evq_out, pfq_out = Signal(intbv(0)[IB + 4:]), Signal(intbv(0)[IB + 4:])
    evq_full, pfq_full = Signal(bool(0)), Signal(bool(0))
    evq_empty, pfq_empty = Signal(bool(0)), Signal(bool(0))
    depth = params.policy_queue_depth
    evq_level, pfq_level = (Signal(intbv(0)[depth.bit_length():]) for _ in range(2))
    insts += [fifo(clk_i, rst_ni, evq_push, q_in, evq_full, evq_pop_i, evq_out, evq_empty,
                   evq_level, depth=depth),
              fifo(clk_i, rst_ni, pfq_push, q_in, pfq_full, pfq_pop_i, pfq_out, pfq_empty,
                   pfq_level, depth=depth)]

    @always_comb
    def queue_heads():
        evq_valid_o.next = not evq_empty
        evq_entry_o.next = evq_out[IB:]
        evq_src_o.next = evq_out[IB + 2:IB]
        evq_dst_o.next = evq_out[IB + 4:IB + 2]
        pfq_valid_o.next = not pfq_empty
        pfq_entry_o.next = pfq_out[IB:]
        pfq_src_o.next = pfq_out[IB + 2:IB]
        pfq_dst_o.next = pfq_out[IB + 4:IB + 2]

    # ------------------------------------------------------------ controller
    t_state = enum("INIT", "IDLE", "LOOKUP", "DECIDE", "UPDATE", "SELECT", "APPLY",
                   "HINT_WALK", "HINT_FIND", "HINT_CHECK", "SWEEP", "CPL_READ", "CPL_WRITE", "DRAIN", "DONE")
    state = Signal(t_state.INIT)
    resume = Signal(t_state.IDLE)         # where a completion's write returns to
    op = Signal(intbv(0)[8:])
    session = Signal(intbv(0)[16:])
    # a tenant's SHARE_PREFIX / RELEASE runs in phases: 1 checks session 0's block (nothing
    # written), 2 enters or deletes the tenant's reference entry, 3 counts the reference on the
    # shared block; a close's sweep runs phase 3 for each reference entry it deletes (sweep_back)
    tenant = Signal(intbv(0)[16:])
    ref_phase = Signal(intbv(0)[2:])
    sweep_back = Signal(bool(0))
    # a sweep of a session's entries: a close's deletes them; SESSION_SET_STATE's parks them in
    # cold (to ARCHIVED) or warms its cold ones up (to IDLE)
    parking = Signal(bool(0))
    warming = Signal(bool(0))
    sweep_go = Signal(bool(0))            # the sweep's pick is written (and its move pushed) now
    ref_entry = Signal(bool(0))           # the hit is a tenant's reference entry
    block_idx = Signal(intbv(0)[24:])
    layer = Signal(intbv(0)[8:])
    head = Signal(intbv(0)[8:])
    arg2 = Signal(intbv(0)[32:])
    probe = Signal(bool(0))               # DIR_INSERT, DIR_ACCESS: decide only (the KV path's checks)
    codec = Signal(intbv(0)[2:])          # the KV path's commands: insert's codec tier; access needs one
    shared = Signal(bool(0))              # an access to session 0's block on another session's behalf
    no_image = Signal(bool(0))            # an access that needs a stored image finds none
    referenced = Signal(bool(0))          # the hit is a prefix block with references (never evicted)
    isolated = Signal(bool(0))            # a shared access to a block that is not a referenced prefix
    unpublished = Signal(bool(0))         # a tenant's reference to a shared block not marked prefix
    entry = Signal(intbv(0)[16:])         # the entry a keyed command resolved
    entry_tier = Signal(intbv(0)[2:])     # ... and its tier then (where KV_FETCH reads it)
    evict_dst = Signal(intbv(0)[2:])      # EVICT: the tier ARG2 names
    evict_move = Signal(bool(0))          # EVICT: the block moves (hot, or warm to cold)
    status = Signal(intbv(0)[8:])
    cur_set = Signal(intbv(0)[SB:])
    in_step = Signal(bool(0))
    hot_count = Signal(intbv(0)[17:])
    # pass control
    scan_set = Signal(intbv(0)[SB:])
    issuing = Signal(bool(0))
    pipe_v = Signal(bool(0))
    pipe_set = Signal(intbv(0)[SB:])
    fresh = Signal(bool(0))
    done_mask = Signal(intbv(0)[WAYS:])
    ev_count = Signal(intbv(0)[17:])      # evict candidates found by the update pass
    pf_count = Signal(intbv(0)[17:])      # prefetch candidates still warm/cold
    want = Signal(intbv(0)[17:])          # k: entries to select
    # the selection (its own block) and the scan's decisions, this cycle
    ev_total = Signal(intbv(0)[17:])      # evict candidates, with the set the update pass consumes
    pf_total = Signal(intbv(0)[17:])
    evicting = Signal(bool(0))            # hot occupancy above the high watermark
    evict_want = Signal(intbv(0)[17:])    # ... the blocks to evict for below the low one
    update_end, select_end, evict_end, threshold_start = (Signal(bool(0)) for _ in range(4))
    select_all, select_search, select_tally, select_last, took_equal = (Signal(bool(0)) for _ in range(5))
    equal_left = Signal(intbv(0)[17:])
    u_select = kth_key(clk_i, rst_ni, select_all, select_search, want, select_tally, below_vec, select_end,
                       took_equal, bound, equal_left, select_last)
    room = Signal(intbv(0)[17:])
    hint_target = Signal(intbv(0)[16:])
    # per-cycle decisions
    hit_way = Signal(intbv(0)[WB + 1:])
    free_way = Signal(intbv(0)[WB + 1:])
    pick = Signal(intbv(0)[WAYS:])
    pick_way = Signal(intbv(0)[WB + 1:])
    pick_equal = Signal(bool(0))
    hit_word = Signal(intbv(0)[WORD_BITS:])
    # the hint table (its own block): what the controller does to it this cycle
    expire, drop, hint = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    drop_index = Signal(intbv(0)[16:])
    hint_held, hints_full, hints_at_quota = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    restart, unvisit, walking, walk_last, visit = (Signal(bool(0)) for _ in range(5))
    best_found = Signal(bool(0))
    best_idx = Signal(intbv(0)[16:])
    hint_way = Signal(intbv(0)[WB:])
    free_one = Signal(intbv(0)[WAYS:])
    hint_one = Signal(intbv(0)[WAYS:])
    pick_tier = Signal(intbv(0)[2:])
    hint_tier = Signal(intbv(0)[2:])
    insts += [one_hot(hint_way, hint_one)]

    @always_comb
    def decide():
        # first way that matches (at most one does) and lowest free way; WAYS when none
        hw = intbv(0)[WB + 1:]
        fw = intbv(0)[WB + 1:]
        hit_found = False
        free_found = False
        word = intbv(0)[WORD_BITS:]
        for w in range(WAYS):
            if not hit_found:
                if match_i[w]:
                    hit_found = True
                    word[:] = words[w]
                else:
                    hw[:] = hw + 1
            if not free_found:
                if free_i[w]:
                    free_found = True
                else:
                    fw[:] = fw + 1
        hit_way.next = hw
        free_way.next = fw
        lowest_free = intbv(0)[WAYS:]
        taken = False
        for w in range(WAYS):
            if free_i[w] and not taken:
                taken = True
                lowest_free[w] = 1
        free_one.next = lowest_free
        hit_word.next = word
        # the next entry to apply: lowest way among the selected ones not yet done
        eligible = intbv(0)[WAYS:]
        if state == t_state.SWEEP:
            for w in range(WAYS):
                # the session's entries (but its references when parking or warming up; cold and
                # out of quarantine to warm up)
                eligible[w] = valid_vec[w] and lane_session[w] == session and not done_mask[w] and not (
                    (parking or warming) and words[w][PRE]) and not (
                    warming and (words[w][TI_H:TI_L] != TIER.COLD or words[w][QUA]))
        elif equal_left != 0:
            eligible[:] = (below_vec | equal_vec) & ~done_mask
        else:
            eligible[:] = below_vec & ~done_mask
        one = intbv(0)[WAYS:]
        pw = intbv(0)[WB + 1:]
        found = False
        for w in range(WAYS):
            if not found:
                if eligible[w]:
                    found = True
                    one[w] = 1
                else:
                    pw[:] = pw + 1
        pick.next = one
        pick_way.next = pw
        pick_equal.next = found and (below_vec & one) == 0
        pt = intbv(0)[2:]
        ht = intbv(0)[2:]
        for w in range(WAYS):
            if one[w]:
                pt[:] = way_tiers[w]
            if hint_one[w]:
                ht[:] = way_tiers[w]
        pick_tier.next = pt
        hint_tier.next = ht

    @always_comb
    def hint_target_way():
        hint_way.next = hint_target[WB:]

    @always_comb
    def command_word():
        # the word a keyed command writes (DECIDE), from the hit word or a fresh entry
        word = intbv(0)[WORD_BITS:]
        word[:] = hit_word
        if op == OPCODE.DIR_INSERT or ref_phase == 2:
            # a fresh entry: a block, or a tenant's reference entry (its phase 2; RELEASE deletes it)
            word[:] = 0
            if op != OPCODE.RELEASE:
                word[SES_H:SES_L] = session
                word[LAY_H:LAY_L] = layer
                word[HEAD_H:HEAD_L] = head
                word[TS_H:TS_L] = concat(intbv(0)[32 - 24 - BLOCK_SHIFT:], block_idx, intbv(0)[BLOCK_SHIFT:])
                word[TE_H:TE_L] = concat(intbv(0)[32 - 24 - BLOCK_SHIFT:], block_idx,
                                         intbv((1 << BLOCK_SHIFT) - 1)[BLOCK_SHIFT:])
                word[V] = 1
                if ref_phase == 2:           # cold, quarantined, no image: the scans never move it
                    word[TI_H:TI_L] = TIER.COLD
                    word[RC_H:RC_L] = 1
                    word[PRE] = 1
                    word[QUA] = 1
                else:
                    word[TI_H:TI_L] = arg2[2:]
                    word[R_H:R_L] = 255
                    word[F_H:F_L] = 1
                    word[AS_H:AS_L] = step
                    word[CT_H:CT_L] = codec
        elif op == OPCODE.DIR_ACCESS:
            word[R_H:R_L] = 255
            if hit_word[F_H:F_L] != 255:
                word[F_H:F_L] = hit_word[F_H:F_L] + 1
            word[AS_H:AS_L] = step
        elif op == OPCODE.DIR_DELETE or op == OPCODE.SESSION_CLOSE:
            word[:] = 0
        elif op == OPCODE.MARK_HOT:
            word[PIN] = 1
            word[QUA] = 0
        elif op == OPCODE.EVICT:
            word[PIN] = 0
            word[QUA] = 0
            if evict_move:
                word[TI_H:TI_L] = evict_dst
        elif op == OPCODE.SHARE_PREFIX:
            word[PRE] = 1
            if hit_word[RC_H:RC_L] != 255:   # at 255 the command is refused, nothing written
                word[RC_H:RC_L] = hit_word[RC_H:RC_L] + 1
        elif op == OPCODE.RELEASE:
            if hit_word[RC_H:RC_L] != 0:     # likewise at 0
                word[RC_H:RC_L] = hit_word[RC_H:RC_L] - 1
        cmd_word.next = word

    set_room = Signal(bool(0))       # the session may enter a block into the set read

    @always_comb
    def way_quota():
        # a free way, and fewer of the set's ways than SESSION_QUOTA.DIR_WAYS (0: none) hold the
        # session's entries (golden Directory.has_room)
        own = intbv(0)[len(way_quota_i):]
        set_room.next = free_way != WAYS
        if way_quota_i != 0:           # (no count without a quota: a simulator skips it)
            for w in range(WAYS):
                if valid_vec[w] and lane_session[w] == session:
                    own[:] = own + 1
            if own >= way_quota_i:
                set_room.next = False

    # what the current cycle writes and pushes (the controller below commits it)
    hit = Signal(bool(0))
    hit_hot = Signal(bool(0))
    hit_index = Signal(intbv(0)[16:])
    pick_index = Signal(intbv(0)[16:])
    insert_index = Signal(intbv(0)[16:])
    apply_go = Signal(bool(0))
    hint_go = Signal(bool(0))
    u_hints = hint_table(params, clk_i, rst_ni, step, chorizon, expire, arg0_i, drop, drop_index,
                         hint, hit_index, arg2, session, hint_quota_i, hint_held, hints_full, hints_at_quota,
                         restart, unvisit, walking, walk_last, best_found, best_idx, visit, hints_o)

    @always_comb
    def indices():
        hi = intbv(0)[16:]
        hi[IB:WB] = cur_set
        hi[WB:] = hit_way[WB:]
        hit_index.next = hi
        pi = intbv(0)[16:]
        pi[IB:WB] = scan_set
        pi[WB:] = pick_way[WB:]
        pick_index.next = pi
        ii = intbv(0)[16:]
        ii[IB:WB] = cur_set
        ii[WB:] = free_way[WB:]
        insert_index.next = ii
        hit.next = match_i != 0
        hit_hot.next = hit_word[TI_H:TI_L] == TIER.HOT
        no_image.next = codec != 0 and hit_word[CT_H:CT_L] == 0
        held = hit_word[PRE] and hit_word[RC_H:RC_L] != 0
        referenced.next = held
        reference = hit_word[PRE] and session != 0
        ref_entry.next = reference
        # a shared access to a block not held, or the KV path's own access to a reference entry
        # (ISOLATION: kvpath then asks for session 0's block of the key as a shared one)
        isolated.next = (shared and not held) or (codec != 0 and not shared and reference)
        unpublished.next = shared and (op == OPCODE.SHARE_PREFIX or op == OPCODE.RELEASE) and not hit_word[PRE]
        evict_dst.next = TIER.WARM
        if arg2[2:] == TIER.COLD:
            evict_dst.next = TIER.COLD
        evict_move.next = (hit_word[TI_H:TI_L] == TIER.HOT
                           or (hit_word[TI_H:TI_L] == TIER.WARM and arg2[2:] == TIER.COLD))

    @always_comb
    def datapath():
        rd = intbv(0)[SB:]
        we = intbv(0)[WAYS:]
        ws = intbv(0)[SB:]
        lane_op.next = LANE_OPS.COMMAND
        ev_push = False
        pf_push = False
        qi = intbv(0)[IB:]
        qs = intbv(0)[2:]
        qd = intbv(0)[2:]
        forget = False
        c_we = False
        entering = False
        a_go = False
        h_go = False
        s_go = False
        if state == t_state.LOOKUP:
            rd[:] = hash_set_i
        elif state == t_state.DECIDE:
            rd[:] = cur_set
            ws[:] = cur_set
            qi[:] = hit_index[IB:]
            qs[:] = hit_word[TI_H:TI_L]
            qd[:] = evict_dst
            entering = ref_phase == 2 and op == OPCODE.SHARE_PREFIX   # (a reference entry goes in)
            if ref_phase == 1:             # session 0's block, checked only
                c_we = False
            elif ref_phase == 2:           # the tenant's reference entry
                if entering:
                    c_we = not hit and set_room
                else:
                    c_we = hit and hit_word[PRE]
            elif hit and status == STATUS.OK:
                if unpublished:
                    c_we = False
                elif op == OPCODE.EVICT:
                    if referenced:
                        c_we = False
                    elif evict_move:
                        c_we = not evq_full
                        ev_push = not evq_full
                    else:
                        c_we = True
                elif op != OPCODE.PREFETCH and op != OPCODE.DIR_INSERT:
                    c_we = not (op == OPCODE.DIR_ACCESS and (no_image or isolated or probe))
                    if op == OPCODE.DIR_DELETE and referenced:     # its readers hold it
                        c_we = False
                    if op == OPCODE.MARK_HOT and ref_entry:
                        c_we = False
                    if op == OPCODE.SHARE_PREFIX and hit_word[RC_H:RC_L] == 255:
                        c_we = False
                    if op == OPCODE.RELEASE and hit_word[RC_H:RC_L] == 0:
                        c_we = False
            elif not hit and op == OPCODE.DIR_INSERT and status == STATUS.OK and set_room:
                c_we = not probe
            if c_we:
                if op == OPCODE.DIR_INSERT or entering:
                    we[:] = free_one
                else:
                    we[:] = match_i
            # a new entry holds no image until kvpath stores one; a deleted one none
            forget = c_we and (op == OPCODE.DIR_INSERT or op == OPCODE.DIR_DELETE or ref_phase == 2)
            if op == OPCODE.DIR_INSERT or entering:
                qi[:] = insert_index[IB:]
        elif state == t_state.UPDATE or state == t_state.SELECT:
            rd[:] = scan_set
            ws[:] = pipe_set
            if state == t_state.UPDATE:
                lane_op.next = LANE_OPS.UPDATE
                if pipe_v:
                    we[:] = valid_vec
        elif state == t_state.APPLY:
            rd[:] = scan_set
            ws[:] = scan_set
            qi[:] = pick_index[IB:]
            if mode_pf:
                lane_op.next = LANE_OPS.PROMOTE
                qs[:] = pick_tier
                qd[:] = TIER.HOT
            else:
                lane_op.next = LANE_OPS.DEMOTE
                qs[:] = TIER.HOT
                qd[:] = TIER.WARM
            if fresh and pick != 0:
                if mode_pf:
                    a_go = not pfq_full
                else:
                    a_go = not evq_full
                if a_go:
                    we[:] = pick
                    ev_push = not mode_pf
                    pf_push = bool(mode_pf)
        elif state == t_state.SWEEP:
            rd[:] = scan_set
            ws[:] = scan_set
            qi[:] = pick_index[IB:]
            qs[:] = pick_tier
            if parking:                     # to cold through the evict queue, as EVICT does
                lane_op.next = LANE_OPS.PARK
                qd[:] = TIER.COLD
            elif warming:                   # cold to warm through the prefetch queue
                lane_op.next = LANE_OPS.WARM
                qd[:] = TIER.WARM
            if fresh and pick != 0:
                if warming:
                    s_go = not pfq_full
                    pf_push = not pfq_full
                elif parking and pick_tier != TIER.COLD:
                    s_go = not evq_full
                    ev_push = not evq_full
                else:
                    s_go = True
                if s_go:
                    we[:] = pick
                    forget = not parking and not warming   # a closed session's entry goes, with its image
        elif state == t_state.HINT_FIND:
            rd[:] = best_idx[IB:WB]
        elif state == t_state.HINT_CHECK:
            rd[:] = hint_target[IB:WB]
            ws[:] = hint_target[IB:WB]
            qi[:] = hint_target[IB:]
            qs[:] = hint_tier
            qd[:] = TIER.HOT
            lane_op.next = LANE_OPS.PROMOTE
            if hint_ok_vec[hint_way] and not pfq_full:
                h_go = True
                pf_push = True
                we[:] = hint_one
        elif state == t_state.CPL_READ or state == t_state.CPL_WRITE:
            rd[:] = cpl_entry_i[IB:WB]
            ws[:] = cpl_entry_i[IB:WB]
            lane_op.next = LANE_OPS.COMPLETE
            if state == t_state.CPL_WRITE:
                we[:] = cpl_one
        rd_set_o.next = rd
        forget_o.next = forget
        forget_entry_o.next = qi
        wr_en_o.next = we
        wr_set_o.next = ws
        evq_push.next = ev_push
        pfq_push.next = pf_push
        q_in.next = concat(qd, qs, qi)
        apply_go.next = a_go
        hint_go.next = h_go
        sweep_go.next = s_go

    @always_comb
    def outputs():
        wr_data_o.next = wr_vec
        key_session_o.next = session
        key_layer_o.next = layer
        key_head_o.next = head
        key_block_o.next = block_idx
        done_o.next = state == t_state.DONE
        status_o.next = status
        index_o.next = entry
        tier_o.next = entry_tier
        cpl_take_o.next = state == t_state.CPL_WRITE
        step_o.next = step
        hot_o.next = hot_count[16:]

    ev_hit, ev_miss = Signal(bool(0)), Signal(bool(0))
    events_vec = ConcatSignal(in_step, pfq_push, evq_push, ev_miss, ev_hit)

    @always_comb
    def events():
        access = (state == t_state.DECIDE and op == OPCODE.DIR_ACCESS and hit
                  and not (no_image or isolated or probe))
        ev_hit.next = access and hit_hot
        ev_miss.next = access and not hit_hot
        events_o.next = events_vec

    @always_comb
    def decode_guard():
        scan_sessions_o.next = lane_session_vec

    @always_comb
    def scan_decisions():
        # what the update pass and the hint pass decide at their ends (the other states never look)
        ne = intbv(0)[17:]
        np = intbv(0)[17:]
        ne[:] = ev_count
        np[:] = pf_count
        k = intbv(0)[17:]
        over = False
        u_end = False
        t_start = False
        if state == t_state.UPDATE:
            if pipe_v:
                for w in range(WAYS):
                    if new_ev_vec[w]:
                        ne[:] = ne + 1
                    if new_pf_vec[w]:
                        np[:] = np + 1
            if hot_count >= clow:
                k[:] = hot_count - clow
                k[:] = k + 1
            over = hot_count > chigh and hot_count >= clow
            u_end = pipe_v and pipe_set == LAST_SET
        elif state == t_state.HINT_FIND:
            t_start = not (best_found and room != 0) and room != 0 and pf_count != 0
        else:
            t_start = False
        ev_total.next = ne
        pf_total.next = np
        evict_want.next = k
        evicting.next = over
        update_end.next = u_end
        threshold_start.next = t_start
        select_end.next = state == t_state.SELECT and pipe_v and pipe_set == LAST_SET
        evict_end.next = (state == t_state.APPLY and fresh and pick == 0 and scan_set == LAST_SET
                          and not mode_pf)
        select_all.next = (u_end and over and ne <= k) or (t_start and pf_count <= room)
        select_search.next = (u_end and over and ne > k) or (t_start and pf_count > room)
        select_tally.next = state == t_state.SELECT and pipe_v
        took_equal.next = apply_go and pick_equal

    @always_comb
    def sub_block_controls():
        deciding = state == t_state.DECIDE and hit
        expire.next = (state == t_state.IDLE and req_i and opcode_i == OPCODE.STEP_ADVANCE
                       and arg0_i >= step)
        # the entry leaves (deleted, evicted, promoted): its hint goes
        dr = False
        di = intbv(0)[16:]
        if deciding and op == OPCODE.DIR_DELETE:
            dr = not referenced
            di[:] = hit_index
        elif deciding and op == OPCODE.EVICT:
            dr = not referenced and not (evict_move and evq_full)
            di[:] = hit_index
        elif apply_go and mode_pf:
            dr = True
            di[:] = pick_index
        elif hint_go:
            dr = True
            di[:] = hint_target
        elif sweep_go and not warming:
            dr = True
            di[:] = pick_index
        drop.next = dr
        drop_index.next = di
        hint.next = deciding and op == OPCODE.PREFETCH and arg2 >= step and not ref_entry   # a refused hint changes nothing
        # the hint pass: restart the search at its start and after each hint checked
        restart.next = (update_end or evict_end
                        or (state == t_state.HINT_CHECK
                            and not (hint_ok_vec[hint_way] and not hint_go and cpl_valid_i)))
        unvisit.next = update_end or evict_end
        walking.next = state == t_state.HINT_WALK
        visit.next = state == t_state.HINT_FIND and best_found and room != 0
        cpl_take.next = state == t_state.CPL_WRITE
        settle.next = state == t_state.DRAIN and not cpl_valid_i and evq_empty and pfq_empty and not moves_busy_i

    @always_seq(clk_i.posedge, reset=rst_ni)
    def control():
        if state == t_state.INIT:
            if dir_ready_i:
                state.next = t_state.IDLE
        elif state == t_state.IDLE:
            if req_i:
                op.next = opcode_i
                session.next = session_i
                block_idx.next = arg0_i[24:]
                layer.next = arg1_i[8:]
                head.next = arg1_i[16:8]
                arg2.next = arg2_i
                probe.next = probe_i
                codec.next = codec_i
                shared.next = shared_i
                tenant.next = session_i
                ref_phase.next = 0
                sweep_back.next = False
                if (opcode_i == OPCODE.SHARE_PREFIX or opcode_i == OPCODE.RELEASE) and session_i != 0:
                    session.next = 0            # a tenant's reference: to session 0's block of the key
                    shared.next = True
                    ref_phase.next = 1
                status.next = STATUS.OK
                state.next = t_state.DRAIN
                if opcode_i == OPCODE.STEP_ADVANCE:
                    if arg0_i < step:
                        status.next = STATUS.BAD_ARG
                    else:
                        step.next = arg0_i
                        cw_r.next = w_r_i
                        cw_f.next = w_f_i
                        cw_s.next = w_s_i
                        cw_d.next = w_d_i
                        cwindow.next = window_i
                        chorizon.next = horizon_i
                        chigh.next = concat(False, high_i)
                        clow.next = concat(False, low_i)
                        cthr.next = threshold_i
                        in_step.next = True
                        ev_count.next = 0
                        pf_count.next = 0
                        scan_set.next = 0
                        issuing.next = True
                        pipe_v.next = False
                        state.next = t_state.UPDATE
                elif (opcode_i == OPCODE.DIR_INSERT or opcode_i == OPCODE.DIR_ACCESS
                      or opcode_i == OPCODE.DIR_DELETE or opcode_i == OPCODE.MARK_HOT
                      or opcode_i == OPCODE.EVICT or opcode_i == OPCODE.PREFETCH
                      or opcode_i == OPCODE.SHARE_PREFIX or opcode_i == OPCODE.RELEASE):
                    if arg0_i[32:24] != 0 or ((opcode_i == OPCODE.DIR_INSERT or opcode_i == OPCODE.EVICT)
                                              and arg2_i > TIER.COLD):
                        status.next = STATUS.BAD_ARG
                    else:
                        state.next = t_state.LOOKUP
                elif opcode_i == OPCODE.SESSION_CLOSE or opcode_i == OPCODE.SESSION_SET_STATE:
                    # the table closed it (its entries go), archived it or warms it up
                    parking.next = opcode_i == OPCODE.SESSION_SET_STATE and arg0_i == SESSION_STATE.ARCHIVED
                    warming.next = opcode_i == OPCODE.SESSION_SET_STATE and arg0_i != SESSION_STATE.ARCHIVED
                    scan_set.next = 0
                    fresh.next = False
                    done_mask.next = 0
                    state.next = t_state.SWEEP
                else:
                    status.next = STATUS.BAD_ARG
            elif cpl_valid_i:
                resume.next = t_state.IDLE
                state.next = t_state.CPL_READ
        elif state == t_state.LOOKUP:
            cur_set.next = hash_set_i
            state.next = t_state.DECIDE
        elif state == t_state.DECIDE:
            state.next = t_state.DRAIN
            entry.next = hit_index
            entry_tier.next = hit_word[TI_H:TI_L]
            if ref_phase == 1:               # session 0's block of a tenant's reference
                if not hit:
                    status.next = STATUS.NOT_FOUND
                elif unpublished:
                    status.next = STATUS.ISOLATION
                elif op == OPCODE.SHARE_PREFIX and hit_word[RC_H:RC_L] == 255:
                    status.next = STATUS.BAD_ARG
                elif op == OPCODE.RELEASE and hit_word[RC_H:RC_L] == 0:
                    status.next = STATUS.BAD_ARG
                else:                        # then the tenant's own entry of the key
                    session.next = tenant
                    shared.next = False
                    ref_phase.next = 2
                    state.next = t_state.LOOKUP
            elif ref_phase == 2:             # its reference entry: entered or deleted (datapath)
                if op == OPCODE.SHARE_PREFIX and hit:
                    status.next = STATUS.BAD_ARG      # held already, or a block of its own
                elif op == OPCODE.SHARE_PREFIX and not set_room:
                    status.next = STATUS.DIR_FULL
                elif op == OPCODE.RELEASE and not (hit and hit_word[PRE]):
                    status.next = STATUS.BAD_ARG      # it holds no reference there
                else:                        # then the count on the shared block
                    session.next = 0
                    shared.next = True
                    ref_phase.next = 3
                    state.next = t_state.LOOKUP
            elif op == OPCODE.DIR_INSERT:
                entry.next = insert_index
                if hit:
                    status.next = STATUS.BAD_ARG
                elif not set_room:
                    status.next = STATUS.DIR_FULL
                elif arg2[2:] == TIER.HOT and not probe:
                    hot_count.next = hot_count + 1
            elif not hit:
                status.next = STATUS.NOT_FOUND
            elif (op == OPCODE.MARK_HOT or op == OPCODE.PREFETCH) and ref_entry:
                status.next = STATUS.BAD_STATE
            elif op == OPCODE.DIR_ACCESS and isolated:
                status.next = STATUS.ISOLATION
            elif op == OPCODE.DIR_ACCESS and no_image:
                status.next = STATUS.BAD_STATE
            elif op == OPCODE.DIR_DELETE:
                if referenced:
                    status.next = STATUS.BAD_STATE
                elif hit_hot:
                    hot_count.next = hot_count - 1
            elif op == OPCODE.EVICT:
                if referenced:
                    status.next = STATUS.BAD_STATE
                elif evict_move and evq_full:     # wait for room in the evict queue
                    state.next = t_state.DECIDE
                    if cpl_valid_i:
                        resume.next = t_state.LOOKUP
                        state.next = t_state.CPL_READ
                elif hit_hot:
                    hot_count.next = hot_count - 1
            elif op == OPCODE.PREFETCH:      # the hint table holds it (hint)
                if arg2 < step:
                    status.next = STATUS.BAD_ARG
                elif not hint_held and (hints_full or hints_at_quota):
                    status.next = STATUS.DIR_FULL
            elif unpublished:
                status.next = STATUS.ISOLATION
            elif op == OPCODE.SHARE_PREFIX:
                if hit_word[RC_H:RC_L] == 255:
                    status.next = STATUS.BAD_ARG
            elif op == OPCODE.RELEASE:
                if hit_word[RC_H:RC_L] == 0:
                    status.next = STATUS.BAD_ARG
            if sweep_back:                   # a reference the sweep deleted is counted off: on with the sweep
                session.next = tenant
                op.next = OPCODE.SESSION_CLOSE
                shared.next = False
                ref_phase.next = 0
                sweep_back.next = False
                status.next = STATUS.OK
                fresh.next = False
                done_mask.next = 0
                state.next = t_state.SWEEP
        elif state == t_state.UPDATE or state == t_state.SELECT:
            # a pass: issue one set per cycle, consume it the next
            pipe_set.next = scan_set
            pipe_v.next = issuing
            if issuing:
                if scan_set == LAST_SET:
                    issuing.next = False
                else:
                    scan_set.next = scan_set + 1
            if state == t_state.UPDATE:
                ev_count.next = ev_total
                pf_count.next = pf_total
                if update_end:
                    # the scan's evict decision, on the hot occupancy (kth_key: all or search)
                    mode_pf.next = False
                    want.next = 0
                    state.next = t_state.HINT_WALK
                    if evicting:
                        want.next = evict_want
                        scan_set.next = 0
                        if ev_total <= evict_want:
                            fresh.next = False
                            done_mask.next = 0
                            state.next = t_state.APPLY
                        else:
                            issuing.next = True
                            state.next = t_state.SELECT
                    room.next = 0
                    if hot_count < chigh:
                        room.next = chigh - hot_count
            elif select_end:      # kth_key tried one more key bit
                scan_set.next = 0
                if select_last:
                    fresh.next = False
                    done_mask.next = 0
                    state.next = t_state.APPLY
                else:
                    issuing.next = True
        elif state == t_state.APPLY:
            fresh.next = True
            if fresh:
                if pick != 0:
                    if not apply_go and cpl_valid_i:   # stalled on a full queue: take a completion
                        fresh.next = False
                        resume.next = t_state.APPLY
                        state.next = t_state.CPL_READ
                    if apply_go:
                        done_mask.next = done_mask | pick
                        if mode_pf:
                            hot_count.next = hot_count + 1
                        else:
                            hot_count.next = hot_count - 1
                else:
                    done_mask.next = 0
                    fresh.next = False
                    if scan_set == LAST_SET:
                        scan_set.next = 0
                        if mode_pf:
                            state.next = t_state.DRAIN
                        else:
                            state.next = t_state.HINT_WALK
                            if hot_count < chigh:
                                room.next = chigh - hot_count
                            else:
                                room.next = 0
                    else:
                        scan_set.next = scan_set + 1
        elif state == t_state.SWEEP:         # a set per visit, one of the session's entries per cycle
            fresh.next = True
            if fresh:
                if pick != 0 and not sweep_go:
                    if cpl_valid_i:          # stalled on a full queue: take a completion
                        fresh.next = False
                        resume.next = t_state.SWEEP
                        state.next = t_state.CPL_READ
                elif pick != 0:
                    done_mask.next = done_mask | pick
                    if pick_tier == TIER.HOT:       # deleted, or parked in cold
                        hot_count.next = hot_count - 1
                    for w in range(WAYS):    # (read here, where it is used: the sweep is rare)
                        if pick[w] and words[w][PRE]:   # a reference: its shared block's count goes down (phase 3)
                            session.next = 0            # (tenant holds the closed session since IDLE)
                            shared.next = True
                            op.next = OPCODE.RELEASE
                            layer.next = words[w][LAY_H:LAY_L]
                            head.next = words[w][HEAD_H:HEAD_L]
                            block_idx.next = words[w][TS_L + BLOCK_SHIFT + 24:TS_L + BLOCK_SHIFT]
                            ref_phase.next = 3
                            sweep_back.next = True
                            state.next = t_state.LOOKUP
                else:
                    done_mask.next = 0
                    fresh.next = False
                    if scan_set == LAST_SET:
                        state.next = t_state.DRAIN
                    else:
                        scan_set.next = scan_set + 1
        elif state == t_state.HINT_WALK:     # the hint table looks at one slot (walking)
            if walk_last:
                state.next = t_state.HINT_FIND
        elif state == t_state.HINT_FIND:
            if best_found and room != 0:
                hint_target.next = best_idx
                state.next = t_state.HINT_CHECK
            elif threshold_start:
                # threshold prefetch: every candidate if they fit, else select the best `room`
                mode_pf.next = True
                want.next = room
                scan_set.next = 0
                if pf_count <= room:
                    fresh.next = False
                    done_mask.next = 0
                    state.next = t_state.APPLY
                else:
                    issuing.next = True
                    pipe_v.next = False
                    state.next = t_state.SELECT
            else:
                state.next = t_state.DRAIN
        elif state == t_state.HINT_CHECK and hint_ok_vec[hint_way] and not hint_go and cpl_valid_i:
            resume.next = t_state.HINT_FIND      # stalled on a full queue: take a completion
            state.next = t_state.CPL_READ
        elif state == t_state.HINT_CHECK:
            if not hint_ok_vec[hint_way]:
                state.next = t_state.HINT_WALK
            elif hint_go:
                hot_count.next = hot_count + 1
                room.next = room - 1
                if pf_flag_vec[hint_way]:
                    pf_count.next = pf_count - 1
                state.next = t_state.HINT_WALK
        elif state == t_state.CPL_READ:
            state.next = t_state.CPL_WRITE
        elif state == t_state.CPL_WRITE:
            state.next = resume
        elif state == t_state.DRAIN:
            in_step.next = False
            if cpl_valid_i:
                resume.next = t_state.DRAIN
                state.next = t_state.CPL_READ
            elif settle:
                hot_count.next = hot_count + hot_back - hot_gone
                if move_failed and status == STATUS.OK:
                    status.next = STATUS.TIMEOUT
                state.next = t_state.DONE
        else:  # DONE: cmdproc takes the status this cycle
            state.next = t_state.IDLE

    return insts, u_lane_sessions, u_hints, u_completion, u_lanes, u_select, decode_guard, way_quota, scan_decisions, sub_block_controls, queue_heads, decide, hint_target_way, command_word, indices, datapath, outputs, events, control
