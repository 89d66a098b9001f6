"""hepc's hint table: the PREFETCH hints, each an entry index and a target step (golden: Hepc.hints,
Hepc.prefetch, the hint order of Hepc.step_advance)."""
from myhdl import block, always_comb, always_seq, Signal, intbv

from hdl.common.unroll import popcount


@block
def hint_table(params, clk_i, rst_ni, step_i, horizon_i,
               expire_i, expire_step_i, drop_i, drop_index_i,
               hint_i, hint_index_i, hint_target_i, hint_session_i, quota_i, held_o, full_o, at_quota_o,
               restart_i, unvisit_i, walk_i, walk_last_o, best_found_o, best_index_o, visit_i,
               count_o):
    """At an edge, at most one of:
      expire_i   a STEP_ADVANCE to expire_step_i: drop every hint whose target is before it
      drop_i     entry drop_index_i left (deleted, evicted, promoted): drop its hint
      hint_i     PREFETCH of hint_index_i (a block of session hint_session_i) to hint_target_i:
                 retarget its hint when held_o, else hold it in the first free slot (when not
                 full_o and not at_quota_o: quota_i, SESSION_QUOTA.HINTS, slots hold that
                 session's hints; never with quota_i 0)
    and the search for the hint the scan promotes next, one slot per cycle (a search over every
    slot in one cycle was hepc's critical path):
      restart_i  start a search (walk from slot 0, nothing found yet)
      unvisit_i  every slot may be chosen again (a scan's hint pass begins)
      walk_i     look at the walk's slot: keep the earliest target (then the lowest index) of the
                 unvisited hints within horizon_i steps after step_i; walk_last_o: this is the
                 search's last look (the last slot, or no unvisited hint left)
      visit_i    the best one found (best_index_o) is chosen: not again in this pass."""
    HS = params.hint_slots
    IB, TB = len(hint_index_i), len(hint_target_i)
    valid = Signal(intbv(0)[HS:])
    visited = Signal(intbv(0)[HS:])
    index = [Signal(intbv(0)[IB:]) for _ in range(HS)]
    session = [Signal(intbv(0)[len(hint_session_i):]) for _ in range(HS)]
    target = [Signal(intbv(0)[TB:]) for _ in range(HS)]
    walk = Signal(intbv(0)[max((HS - 1).bit_length(), 1):])
    best_found = Signal(bool(0))
    best_target = Signal(intbv(0)[TB:])
    best_index = Signal(intbv(0)[IB:])
    u_count = popcount(valid, count_o)

    @always_comb
    def lookup():
        held = False
        for j in range(HS):
            if valid[j] and index[j] == hint_index_i:
                held = True
        held_o.next = held
        full_o.next = valid == (1 << HS) - 1
        own = intbv(0)[len(quota_i):]           # wider than the slots count to
        at_quota_o.next = False
        if quota_i != 0:                         # (no count without a quota: a simulator skips it)
            for j in range(HS):
                if valid[j] and session[j] == hint_session_i:
                    own[:] = own + 1
            at_quota_o.next = own >= quota_i
        walk_last_o.next = walk == HS - 1 or (valid & ~visited) == 0
        best_found_o.next = best_found
        best_index_o.next = best_index

    @always_seq(clk_i.posedge, reset=rst_ni)
    def update():
        if expire_i:
            for j in range(HS):
                if target[j] < expire_step_i:
                    valid.next[j] = 0
        elif drop_i:
            for j in range(HS):
                if index[j] == drop_index_i:
                    valid.next[j] = 0
        elif hint_i:
            if held_o:
                for j in range(HS):
                    if valid[j] and index[j] == hint_index_i:
                        target[j].next = hint_target_i
            elif not full_o and not at_quota_o:
                placed = False
                for j in range(HS):
                    if not placed and not valid[j]:
                        placed = True
                        valid.next[j] = 1
                        index[j].next = hint_index_i
                        session[j].next = hint_session_i
                        target[j].next = hint_target_i
        if unvisit_i:
            visited.next = 0
        elif visit_i:
            for j in range(HS):
                if index[j] == best_index:
                    visited.next[j] = 1
        if restart_i:
            walk.next = 0
            best_found.next = False
        elif walk_i:
            ahead = intbv(0)[TB:]
            if target[walk] >= step_i:
                ahead[:] = target[walk] - step_i
            if (valid[walk] and not visited[walk] and target[walk] >= step_i
                    and ahead[TB:8] == 0 and ahead[8:] <= horizon_i):
                if (not best_found or target[walk] < best_target
                        or (target[walk] == best_target and index[walk] < best_index)):
                    best_found.next = True
                    best_target.next = target[walk]
                    best_index.next = index[walk]
            if not walk_last_o:
                walk.next = walk + 1

    return u_count, lookup, update
