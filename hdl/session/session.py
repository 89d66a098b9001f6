"""session: the session table (DESIGN §6), its lifecycle and requester domains.

Contract: golden/session.py (SessionTable). The table is hashed and set-associative: one
memory bank per way, `sets` words deep, so a set is read in one cycle; a session's set is
CRC-32 of its id (hdl/common/set_hash.py), the same as golden's session_set.

One request at a time, three cycles from acceptance to answer:
  cycle 0  req_valid_i and req_ready_o: the request and its set (hashed as it comes) are latched
  cycle 1  the set is read from every bank
  cycle 2  the ways are compared and the golden rule decides
  cycle 3  the decided write lands (before any next request reads), and rsp_valid_o for one
           cycle with rsp_status_o (STATUS), rsp_index_o (set * ways +
           way, the session's entry after the request) and rsp_entry_o (its word,
           golden.session.SESSION_LAYOUT; zero unless the status is OK and the session has one)
           and rsp_state_o, rsp_profile_o (its state field, and its codec profile id with the
           version above it: what the command engine checks and hands kvpath; for an ENTER
           that moved the session, the state it left: ARCHIVED -> IDLE is a warm-up)
Requests (SESSION_OPS): LOOKUP (golden check), OPEN, ENTER (SESSION_SET_STATE), CLOSE.
DECODE set (decode_table.py, golden SessionTable.decoding): the sessions in DECODE, updated the
cycle after an accepted ENTER or CLOSE decides (with the write; an ENTER's free slot is found in
cycle 1), at most `decode_slots` of them
(a full set refuses one more with DIR_FULL). hepc's DECODE guard reads it: for each directory way
its scan reads, scan_sessions_i carries the way's session (way w in bits [16w+15:16w]) and
scan_decode_o[w] says, in the same cycle, whether that session is in DECODE; decode_count_o counts
them (HEPC_STATUS.DECODE). decode_quota_i (SESSION_QUOTA.DECODE, 0 for none): an ENTER into DECODE
is refused DIR_FULL too while that many sessions of the requester's domain are in.
Window guard (golden SessionTable.sees): the directory window's slot is in use (win_used_i) by
session win_session_i, and win_domain_i is the requester domain reading it; win_visible_o, the
cycle after the slot, says whether that domain may see it: the management domain always, any
other only a slot in use by one of its own open sessions. Its lookup uses the banks' second
read port.
QoS accounting (qos_table.py): a record per entry, started with a full bucket of the session's
budget as the session opens; a LOOKUP keeps its hit record, and charge_i (the command's
completion: charge_bytes_i its BYTES, charge_waited_i the cycles it waited in the queue) charges
it; tick_i (a STEP_ADVANCE run) starts a new window. The QoS window shows entry qwin_index_i's
record (qwin_data_o, golden QOS_WINDOW's words) two cycles after the index, and qwin_visible_o says
whether the reader qwin_domain_i may see it.
The banks have no reset (block RAM): after reset the block clears them, one set per cycle,
with ready_o and req_ready_o low until done.
"""
from pathlib import Path

from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, modbv, concat

from golden import kv1_regs as R
from golden.session import (SESSION_LAYOUT, ENTRY_BITS, NEXT_STATES, SHARED_SESSION, MANAGEMENT_DOMAIN,
                            SESSION_WAYS)
from hdl.common.instance import port_signals
from hdl.common.ram import ram_two_reads, reset_sweep
from hdl.common.set_hash import set_hash
from hdl.common.unroll import field, join, one_hot_select, split
from hdl.session.decode_table import decode_table
from hdl.session.qos_table import qos_table, WINDOW_BITS


class SESSION_OPS:
    LOOKUP = 0      # may the domain act for the session? (golden SessionTable.check)
    OPEN = 1        # SESSION_OPEN
    ENTER = 2       # SESSION_SET_STATE
    CLOSE = 3       # SESSION_CLOSE


FIELD = {}                        # name -> (lsb, width) in the word
_lsb = 0
for _name, _width in SESSION_LAYOUT:
    FIELD[_name] = (_lsb, _width)
    _lsb += _width

S = R.SESSION_STATE
# ALLOWED[state]: bit n set when state -> n is a valid move (CLOSED from any open state)
ALLOWED = tuple(sum(1 << n for n in NEXT_STATES.get(s, ())) | (1 << S.CLOSED) if s in NEXT_STATES else 0
                for s in range(8))
LAST_STATE = max(R.SESSION_STATE_NAMES)
IDLE_STAGE, READ_STAGE, DECIDE_STAGE = 0, 1, 2


DECODE_COUNT_BITS = 8           # HEPC_STATUS.DECODE


def port_widths(params):
    """The widths of session's ports at a parameter set."""
    index_bits = (params.sessions - 1).bit_length()
    width = dict(SESSION_LAYOUT)
    return dict(req_op_i=2, req_session_i=width["session"], req_domain_i=width["domain"], req_state_i=3,
                req_priority_i=width["priority"], req_budget_i=width["budget"], req_profile_i=width["profile"],
                req_version_i=width["version"], rsp_status_o=4, rsp_index_o=index_bits, rsp_entry_o=ENTRY_BITS, rsp_state_o=width["state"],
                rsp_profile_o=width["profile"] + width["version"],
                win_session_i=width["session"], win_used_i=1, win_domain_i=width["domain"], win_visible_o=1,
                scan_sessions_i=params.dir_ways * width["session"], scan_decode_o=params.dir_ways,
                decode_count_o=DECODE_COUNT_BITS, decode_quota_i=8,
                charge_i=1, charge_bytes_i=32, charge_waited_i=32, tick_i=1,
                qwin_index_i=16, qwin_domain_i=width["domain"], qwin_data_o=WINDOW_BITS, qwin_visible_o=1)


@block
def way_match(word_i, session_i, match_o, free_o):
    """A way's compare: valid and the session id equal."""
    VALID = FIELD["valid"][0]
    ID_BITS = FIELD["session"][1]

    @always_comb
    def compare():
        free_o.next = not word_i[VALID]
        match_o.next = word_i[VALID] and word_i[ID_BITS:] == session_i

    return compare


@block
def way_sees(word_i, session_i, domain_i, sees_o):
    """A way's window compare: valid, the session id equal and the reader its domain."""
    VALID = FIELD["valid"][0]
    ID_BITS = FIELD["session"][1]
    DOM_L, DOM_W = FIELD["domain"]

    @always_comb
    def compare():
        sees_o.next = word_i[VALID] and word_i[ID_BITS:] == session_i and word_i[DOM_L + DOM_W:DOM_L] == domain_i

    return compare


@block
def session(params, clk_i, rst_ni, ready_o,
            req_valid_i, req_ready_o, req_op_i, req_session_i, req_domain_i, req_state_i,
            req_priority_i, req_budget_i, req_profile_i, req_version_i,
            rsp_valid_o, rsp_status_o, rsp_index_o, rsp_entry_o, rsp_state_o, rsp_profile_o,
            win_session_i, win_used_i, win_domain_i, win_visible_o,
            scan_sessions_i, scan_decode_o, decode_count_o, decode_quota_i,
            charge_i, charge_bytes_i, charge_waited_i, tick_i,
            qwin_index_i, qwin_domain_i, qwin_data_o, qwin_visible_o):
    ways, sets = SESSION_WAYS, params.sessions // SESSION_WAYS
    if sets < 2 or sets & (sets - 1):
        raise ValueError(f"session needs a power-of-two number of sets, got {params.sessions} / {ways}")
    SB, WB = (sets - 1).bit_length(), (ways - 1).bit_length()
    assert len(rsp_index_o) == SB + WB and len(rsp_entry_o) == ENTRY_BITS
    EB = ENTRY_BITS
    ST_L, ST_W = FIELD["state"]
    DOM_L, DOM_W = FIELD["domain"]
    VALID = FIELD["valid"][0]
    PRO_L, VER_L, VER_W = FIELD["profile"][0], *FIELD["version"]
    assert VER_L == PRO_L + FIELD["profile"][1], "the version lies above the profile id"

    # the entry an OPEN writes: valid, in PREFILL
    open_word = ConcatSignal(intbv(1)[1:], req_version_i, req_profile_i, req_budget_i, req_priority_i,
                             intbv(S.PREFILL)[ST_W:], req_domain_i, req_session_i)
    # the latched request
    q_op = Signal(intbv(0)[2:])
    q_session = Signal(intbv(0)[len(req_session_i):])
    q_domain = Signal(intbv(0)[len(req_domain_i):])
    q_state = Signal(intbv(0)[3:])
    q_word = Signal(intbv(0)[EB:])          # the entry an OPEN writes
    stage = Signal(intbv(0)[2:])
    req_set = Signal(intbv(0)[SB:])          # hashed as the request comes: off the read path
    q_set = Signal(intbv(0)[SB:])
    insts = [set_hash(req_session_i, req_set)]

    # reset clear: one set per cycle into every bank
    clearing = Signal(bool(1))
    clear_set = Signal(intbv(0)[SB:])
    insts.append(reset_sweep(clk_i, rst_ni, clearing, clear_set, sets))

    # banks
    we = Signal(intbv(0)[ways:])
    we_ways = [Signal(bool(0)) for _ in range(ways)]     # a list, not slices: none leak into the die
    insts.append(split(we, we_ways))
    wr_set = Signal(intbv(0)[SB:])
    wr_word = Signal(intbv(0)[EB:])
    rd_words = [Signal(intbv(0)[EB:]) for _ in range(ways)]
    win_words = [Signal(intbv(0)[EB:]) for _ in range(ways)]
    matches = [Signal(bool(0)) for _ in range(ways)]
    frees = [Signal(bool(0)) for _ in range(ways)]
    win_set = Signal(intbv(0)[SB:])
    # the directory window's guard reads again only when the set it looks at changed or the
    # banks were written; the QoS window's entries: a third port, read only when it asks (qwin_read)
    guard_read = Signal(bool(0))
    guard_last_set = Signal(intbv(0)[SB:])
    banks_written = Signal(bool(0))
    qwin_read = Signal(bool(0))
    qwin_set = Signal(intbv(0)[SB:])
    qwin_entries = [Signal(intbv(0)[EB:]) for _ in range(ways)]
    insts.append(field(qwin_index_i, qwin_set, WB))
    for w in range(ways):
        insts += [ram_two_reads(clk_i, we_ways[w], wr_set, wr_word, q_set, rd_words[w], win_set, win_words[w], sets,
                                guard_read, qwin_read, qwin_set, qwin_entries[w]),
                  way_match(rd_words[w], q_session, matches[w], frees[w])]
    match_vec, free_vec = join(matches), join(frees)

    # the decision (stage DECIDE): golden SessionTable's rules, inside the clocked stage that
    # registers it (a simulator then evaluates it only when a request is decided)
    hit_word = Signal(intbv(0)[EB:])
    w_pending = Signal(bool(0))              # the decided write, registered
    w_ways = Signal(intbv(0)[ways:])
    w_set = Signal(intbv(0)[SB:])
    w_word = Signal(intbv(0)[EB:])
    ALL_WAYS = (1 << ways) - 1
    insts.append(one_hot_select(matches, rd_words, hit_word))

    hit_state = Signal(intbv(0)[ST_W:])
    allowed = Signal(intbv(0)[8:])           # the states the hit session may enter
    insts.append(field(hit_word, hit_state, ST_L))
    # the DECODE set: an accepted ENTER or CLOSE (d_set, d_state: CLOSED for a close) lands in it
    # with the decided write; it finds its free slot as an ENTER's set is read (d_find); hepc's
    # scan lanes ask it about their ways' sessions
    d_set, d_find = Signal(bool(0)), Signal(bool(0))
    d_state = Signal(intbv(0)[3:])
    # decode_at_quota is the DECODE set's count, from the domain latched at acceptance, registered
    # in the READ stage (q_at_quota): off the decision's path, and evaluated only then
    decode_full, decode_member, decode_at_quota = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    q_at_quota = Signal(bool(0))
    q_full = Signal(bool(0))                 # the DECODE set full, registered the same way
    ID_BITS = FIELD["session"][1]
    scan_sessions = [Signal(intbv(0)[ID_BITS:]) for _ in range(params.dir_ways)]
    scan_flags = [Signal(bool(0)) for _ in range(params.dir_ways)]
    scan_flag_vec = join(scan_flags)
    insts.append(split(scan_sessions_i, scan_sessions))
    insts.append(decode_table(params, clk_i, rst_ni, d_find, d_set, q_session, q_domain, d_state, decode_member,
                              decode_full, decode_quota_i, decode_at_quota, scan_sessions, scan_flags,
                              decode_count_o))

    # the QoS records: an OPEN's answer starts its entry's record, a LOOKUP's keeps its entry's
    q_opened, q_looked_up, q_written = Signal(bool(0)), Signal(bool(0)), Signal(bool(0))
    insts.append(qos_table(params, clk_i, rst_ni, q_opened, q_looked_up, rsp_index_o, rsp_entry_o, q_written,
                           charge_i, charge_bytes_i, charge_waited_i, tick_i, qwin_index_i, qwin_domain_i,
                           qwin_read, qwin_entries, qwin_data_o, qwin_visible_o))

    @always_comb
    def qos_requests():
        q_opened.next = rsp_valid_o and q_op == SESSION_OPS.OPEN and rsp_status_o == R.STATUS.OK
        q_looked_up.next = rsp_valid_o and q_op == SESSION_OPS.LOOKUP
        q_written.next = w_pending or clearing

    @always_comb
    def moves():
        allowed.next = ALLOWED[hit_state]

    @always_comb
    def decode_guard():
        scan_decode_o.next = scan_flag_vec

    @always_comb
    def decode_moves():
        # comb from the registered request and write, so a simulator looks only when they change
        d_find.next = stage == READ_STAGE and q_op == SESSION_OPS.ENTER     # only an ENTER places
        d_set.next = w_pending and (q_op == SESSION_OPS.ENTER or q_op == SESSION_OPS.CLOSE)
        if q_op == SESSION_OPS.ENTER:
            d_state.next = q_state
        else:
            d_state.next = S.CLOSED

    @always_comb
    def bank_writes():
        if clearing:
            we.next = ALL_WAYS
            wr_set.next = clear_set
            wr_word.next = 0
        else:
            if w_pending:
                we.next = w_ways
            else:
                we.next = 0
            wr_set.next = w_set
            wr_word.next = w_word

    @always_comb
    def handshake():
        ready_o.next = not clearing
        req_ready_o.next = not clearing and stage == IDLE_STAGE

    @always_seq(clk_i.posedge, reset=rst_ni)
    def engine():
        rsp_valid_o.next = False
        w_pending.next = False
        if stage == IDLE_STAGE:
            if req_valid_i and not clearing:
                q_op.next = req_op_i
                q_session.next = req_session_i
                q_set.next = req_set
                q_domain.next = req_domain_i
                q_state.next = req_state_i
                q_word.next = open_word
                stage.next = READ_STAGE
        elif stage == READ_STAGE:
            stage.next = DECIDE_STAGE
            q_at_quota.next = decode_at_quota
            q_full.next = decode_full
        else:
            # the matching way (at most one) and the lowest free way
            hit_way = intbv(0)[WB:]
            free_way = intbv(0)[WB:]
            position = modbv(0)[WB:]         # w, as a WB-bit number
            hit_seen = False
            free_seen = False
            for w in range(ways):
                if match_vec[w] and not hit_seen:
                    hit_seen = True
                    hit_way[:] = position
                if free_vec[w] and not free_seen:
                    free_seen = True
                    free_way[:] = position
                position[:] = position + 1
            found = match_vec != 0
            shared = q_session == SHARED_SESSION
            manager = q_domain == MANAGEMENT_DOMAIN
            own = hit_word[DOM_L + DOM_W:DOM_L] == q_domain
            # LOOKUP: golden check()
            checked = intbv(0)[4:]
            if shared:
                if manager:
                    checked[:] = R.STATUS.OK
                else:
                    checked[:] = R.STATUS.ISOLATION
            elif not found:
                checked[:] = R.STATUS.BAD_SESSION
            elif own:
                checked[:] = R.STATUS.OK
            else:
                checked[:] = R.STATUS.ISOLATION
            st = intbv(0)[4:]
            wr = False
            word = intbv(0)[EB:]
            way = intbv(0)[WB:]
            way[:] = hit_way
            if found:
                word[:] = hit_word
            if q_op == SESSION_OPS.LOOKUP:
                st[:] = checked
            elif q_op == SESSION_OPS.OPEN:
                if shared or found:
                    st[:] = R.STATUS.BAD_STATE
                elif free_vec == 0:
                    st[:] = R.STATUS.DIR_FULL
                else:
                    st[:] = R.STATUS.OK
                    wr = True
                    way[:] = free_way
                    word[:] = q_word
            elif q_op == SESSION_OPS.ENTER:
                if q_state > LAST_STATE:
                    st[:] = R.STATUS.BAD_ARG
                elif checked != R.STATUS.OK:
                    st[:] = checked
                elif shared:
                    st[:] = R.STATUS.BAD_STATE
                elif not allowed[q_state]:
                    st[:] = R.STATUS.BAD_STATE
                elif q_state == S.DECODE and (q_full or q_at_quota):
                    st[:] = R.STATUS.DIR_FULL
                else:
                    st[:] = R.STATUS.OK
                    wr = True
                    if q_state == S.CLOSED:
                        word[:] = 0
                    else:
                        word[ST_L + ST_W:ST_L] = q_state
            else:  # CLOSE
                if shared:
                    if manager:
                        st[:] = R.STATUS.BAD_STATE
                    else:
                        st[:] = R.STATUS.ISOLATION
                elif not found:
                    st[:] = R.STATUS.BAD_SESSION
                elif not own and not manager:
                    st[:] = R.STATUS.ISOLATION
                else:
                    st[:] = R.STATUS.OK
                    wr = True
                    word[:] = 0
            answer = intbv(0)[EB:]
            if st == R.STATUS.OK and word[VALID]:
                answer[:] = word
            rsp_valid_o.next = True
            rsp_status_o.next = st
            rsp_index_o.next = concat(q_set, way)
            rsp_entry_o.next = answer
            rsp_state_o.next = answer[ST_L + ST_W:ST_L]
            if q_op == SESSION_OPS.ENTER and st == R.STATUS.OK:
                rsp_state_o.next = hit_word[ST_L + ST_W:ST_L]     # the state it left
            rsp_profile_o.next = answer[VER_L + VER_W:PRO_L]
            # the decided write lands the next cycle (off the decision's path), before the
            # next request's read
            one = intbv(0)[ways:]
            one[way] = 1
            w_pending.next = wr
            w_ways.next = one
            w_set.next = q_set
            w_word.next = word
            stage.next = IDLE_STAGE

    # the directory window's guard: the slot's session, hashed as it comes, is read from the
    # second port of every bank; the next cycle each way says whether the reader may see it
    win_session_q = Signal(intbv(0)[len(win_session_i):])
    win_used_q = Signal(bool(0))
    sees = [Signal(bool(0)) for _ in range(ways)]
    insts.append(set_hash(win_session_i, win_set))
    insts += [way_sees(win_words[w], win_session_q, win_domain_i, sees[w]) for w in range(ways)]
    sees_vec = join(sees)

    @always_seq(clk_i.posedge, reset=rst_ni)
    def window_stage():
        win_session_q.next = win_session_i
        win_used_q.next = win_used_i and not clearing
        guard_last_set.next = win_set
        banks_written.next = we != 0

    @always_comb
    def guard_refresh():
        guard_read.next = win_set != guard_last_set or banks_written

    @always_comb
    def window_out():
        win_visible_o.next = win_domain_i == MANAGEMENT_DOMAIN or (win_used_q and sees_vec != 0)

    return (insts, qos_requests, moves, decode_guard, decode_moves, bank_writes, handshake, engine, window_stage,
            guard_refresh, window_out)


def session_port_signals(params):
    """Fresh signals for every port of session at a parameter set."""
    return port_signals(session, port_widths(params))


def convert(params, out_dir):
    """Write session.v for the parameter set into out_dir; -> its path (`python -m hdl.gen
    --block session` pins the hash seed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    session(params, **session_port_signals(params)).convert(hdl="Verilog", path=str(out_dir), name="session",
                                                            no_myhdl_header=True, testbench=False)
    return out_dir / "session.v"
