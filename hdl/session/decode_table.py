"""The session block's DECODE set: the sessions in DECODE, whose recent blocks hepc's scan protects
(DESIGN §4's guard; golden: SessionTable.decoding). The table's accepted moves update it; hepc asks
it about every way its scan reads (the lanes), so the guard has no copy of its own."""
from myhdl import block, always_comb, always_seq, Signal, intbv, concat

from golden.kv1_regs import SESSION_STATE
from hdl.common.unroll import popcount


@block
def _in_table(valid_i, sessions, session_i, in_o):
    """in_o: session_i is in a valid slot."""
    @always_comb
    def look():
        found = False
        for j in range(len(sessions)):
            if valid_i[j] and sessions[j] == session_i:
                found = True
        in_o.next = found

    return look


@block
def _domain_quota(valid_i, domains, domain_i, quota_i, at_quota_o):
    """at_quota_o: quota_i (0: none) slots hold sessions of domain_i (golden SessionTable.quota).
    The count is as wide as the quota: the table has fewer slots than that counts to. It counts
    four slots at a time, then adds the fours: one chain of increments over every slot missed the
    fpga set's 4 ns."""
    DS = len(domains)
    assert DS % 4 == 0, "the DECODE slots come in fours"
    QB = len(quota_i)

    @always_comb
    def count():
        n = intbv(0)[QB:]
        four = intbv(0)[3:]
        at_quota_o.next = False
        if quota_i != 0:                 # (no count without a quota: a simulator skips it)
            for g in range(DS // 4):
                four[:] = 0
                for j in range(4):
                    if valid_i[4 * g + j] and domains[4 * g + j] == domain_i:
                        four[:] = four + 1
                n[:] = n + concat(intbv(0)[QB - 3:], four)      # zero-extended: width-clean
            at_quota_o.next = n >= quota_i

    return count


@block
def decode_table(params, clk_i, rst_ni, find_i, set_i, session_i, domain_i, state_i, member_o, full_o,
                 quota_i, at_quota_o, lane_sessions, lane_flags, count_o):
    """set_i: an accepted move of session_i (of requester domain domain_i) to state_i takes effect
    at this edge: DECODE places the session in the first free slot (when it is not in and the
    table is not full_o), another valid state (CLOSED for a close) removes it; an invalid state
    changes nothing. member_o: session_i is in. at_quota_o: quota_i sessions of domain_i are in
    (SESSION_QUOTA.DECODE; never with quota_i 0). For each of the scan's ways w, lane_flags[w]: lane_sessions[w] is in.
    count_o: sessions in. find_i: find the lowest free slot at this edge, for the next set_i (off
    the write's path); the session block finds it as it reads an ENTER's set, after the last set
    and before the next."""
    DS, SB = params.decode_slots, len(session_i)
    assert len(lane_sessions) == len(lane_flags)
    valid = Signal(intbv(0)[DS:])
    first_free = Signal(intbv(1)[DS:])
    sessions = [Signal(intbv(0)[SB:]) for _ in range(DS)]
    domains = [Signal(intbv(0)[len(domain_i):]) for _ in range(DS)]
    u_member = _in_table(valid, sessions, session_i, member_o)
    u_quota = _domain_quota(valid, domains, domain_i, quota_i, at_quota_o)
    u_count = popcount(valid, count_o)
    u_lanes = [_in_table(valid, sessions, s, f) for s, f in zip(lane_sessions, lane_flags)]

    @always_comb
    def occupancy():
        full_o.next = valid == (1 << DS) - 1

    @always_seq(clk_i.posedge, reset=rst_ni)
    def update():
        if find_i:          # the lowest free slot, one-hot (0 when full)
            one = intbv(0)[DS:]
            placed = False
            for j in range(DS):
                if not placed and not valid[j]:
                    placed = True
                    one[j] = 1
            first_free.next = one
        if set_i:
            if state_i != SESSION_STATE.DECODE and state_i <= SESSION_STATE.CLOSED:
                for j in range(DS):
                    if valid[j] and sessions[j] == session_i:
                        valid.next[j] = 0
            elif state_i == SESSION_STATE.DECODE and not member_o:
                for j in range(DS):
                    if first_free[j]:
                        valid.next[j] = 1
                        sessions[j].next = session_i
                        domains[j].next = domain_i

    return u_member, u_quota, u_lanes, u_count, occupancy, update
