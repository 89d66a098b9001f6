"""The session block: its golden contract (golden/session.py: the table, the lifecycle, domains), then
hdl/session in MyHDL and its converted Verilog in Icarus against it, request by request."""
import itertools
import random
import subprocess

import pytest
from myhdl import block, Cosimulation

from golden import kv1_regs as R
from golden import params as param_sets
from golden.session import NEXT_STATES, SHARED_SESSION, SESSION_WAYS, Quota, SessionTable, session_set, pack
from hdl.kvce import generate
from hdl.session.session import FIELD, session, session_port_signals, SESSION_OPS
from sim.cosim import block_image
from tests.blocks import drive, simulate
from tests.conftest import ROOT

S, ST = R.SESSION_STATE, R.STATUS
OPEN_STATES = (S.PREFILL, S.DECODE, S.IDLE, S.ARCHIVED)


def walk_to(table, session, domain, state):
    """Open `session` and move it to `state` along valid moves."""
    assert table.open(session, domain) == ST.OK
    for step in {S.PREFILL: [], S.DECODE: [S.DECODE], S.IDLE: [S.DECODE, S.IDLE],
                 S.ARCHIVED: [S.DECODE, S.IDLE, S.ARCHIVED]}[state]:
        assert table.enter(session, domain, step) == ST.OK


def snapshot(table):
    return [[None if slot is None else (slot[0], vars(slot[1]).copy()) for slot in ways] for ways in table.slots]


@pytest.mark.model
@pytest.mark.parametrize("name, entries", [("sim", 16), ("fpga", 256), ("asic", 4096)])
def test_each_set_holds_its_sessions(name, entries):
    params = param_sets.get(name)
    table = SessionTable(params.sessions)
    assert params.sessions == entries and table.sets * SESSION_WAYS == entries


@pytest.mark.model
def test_every_move_of_the_lifecycle_and_only_those():
    for start, target in itertools.product(OPEN_STATES, (S.PREFILL, S.DECODE, S.IDLE, S.ARCHIVED, S.CLOSED)):
        table = SessionTable(16)
        walk_to(table, 7, 1, start)
        before = snapshot(table)
        allowed = target == S.CLOSED or target in NEXT_STATES[start]
        status = table.enter(7, 1, target)
        assert status == (ST.OK if allowed else ST.BAD_STATE), (start, target)
        if not allowed:
            assert snapshot(table) == before
        elif target == S.CLOSED:
            assert table.get(7) is None and len(table) == 0
        else:
            assert table.get(7).state == target


@pytest.mark.model
def test_the_textbook_moves():
    # DESIGN §6: PREFILL->DECODE, DECODE<->IDLE, IDLE->ARCHIVED, ARCHIVED->IDLE, any->CLOSED
    assert NEXT_STATES == {S.PREFILL: {S.DECODE}, S.DECODE: {S.IDLE}, S.IDLE: {S.DECODE, S.ARCHIVED},
                           S.ARCHIVED: {S.IDLE}}
    table = SessionTable(16)
    walk_to(table, 3, 2, S.DECODE)
    assert table.enter(3, 2, S.PREFILL) == ST.BAD_STATE      # back to PREFILL: never
    assert table.enter(3, 2, S.ARCHIVED) == ST.BAD_STATE     # DECODE cannot park directly


@pytest.mark.model
def test_a_session_not_open_is_bad_session_and_another_domain_is_isolation():
    table = SessionTable(16)
    assert table.check(9, 1) == ST.BAD_SESSION
    assert table.enter(9, 1, S.DECODE) == ST.BAD_SESSION
    assert table.close(9, 1) == ST.BAD_SESSION
    assert table.open(9, 1, priority=2, budget=4096, profile=3, version=1) == ST.OK
    s = table.get(9)
    assert (s.domain, s.state, s.priority, s.budget, s.profile, s.version) == (1, S.PREFILL, 2, 4096, 3, 1)
    before = snapshot(table)
    assert table.check(9, 2) == ST.ISOLATION
    assert table.enter(9, 2, S.DECODE) == ST.ISOLATION
    assert table.close(9, 2) == ST.ISOLATION
    assert table.open(9, 2) == ST.BAD_STATE                   # already open: nobody takes it over
    assert snapshot(table) == before


@pytest.mark.model
def test_session_zero_is_the_management_domains_and_has_no_lifecycle():
    table = SessionTable(16)
    assert table.check(SHARED_SESSION, 0) == ST.OK
    assert table.check(SHARED_SESSION, 1) == ST.ISOLATION
    assert table.open(SHARED_SESSION, 0) == ST.BAD_STATE
    assert table.enter(SHARED_SESSION, 0, S.DECODE) == ST.BAD_STATE
    assert table.close(SHARED_SESSION, 0) == ST.BAD_STATE
    assert table.close(SHARED_SESSION, 1) == ST.ISOLATION
    assert len(table) == 0


@pytest.mark.model
def test_the_management_domain_may_close_any_session_but_not_move_it():
    table = SessionTable(16)
    walk_to(table, 4, 3, S.DECODE)
    assert table.enter(4, 0, S.IDLE) == ST.ISOLATION
    assert table.close(4, 0) == ST.OK and table.get(4) is None


@pytest.mark.model
def test_decode_holds_at_most_decode_slots_sessions():
    table = SessionTable(16, decode_slots=2)
    for s in (1, 2, 3):
        assert table.open(s, 1) == ST.OK
    assert [table.enter(s, 1, S.DECODE) for s in (1, 2)] == [ST.OK, ST.OK]
    before = snapshot(table)
    assert table.enter(3, 1, S.DECODE) == ST.DIR_FULL and snapshot(table) == before
    assert table.enter(1, 1, S.IDLE) == ST.OK and table.enter(3, 1, S.DECODE) == ST.OK
    assert table.close(2, 0) == ST.OK and table.enter(1, 1, S.DECODE) == ST.OK
    assert table.in_state(S.DECODE) == sorted(table.in_state(S.DECODE), key=table.index)


def test_an_unknown_state_is_bad_arg():
    table = SessionTable(16)
    walk_to(table, 4, 1, S.PREFILL)
    assert table.enter(4, 1, 5) == ST.BAD_ARG and table.get(4).state == S.PREFILL


@pytest.mark.model
def test_a_full_set_refuses_and_a_close_makes_room():
    table = SessionTable(16)
    same_set = [s for s in range(1, 1000) if session_set(s, table.sets) == 0][:SESSION_WAYS + 1]
    for way, s in enumerate(same_set[:-1]):
        assert table.open(s, 1) == ST.OK and table.index(s) == way    # the lowest free way
    before = snapshot(table)
    assert table.open(same_set[-1], 1) == ST.DIR_FULL and snapshot(table) == before
    assert table.close(same_set[1], 1) == ST.OK
    assert table.open(same_set[-1], 1) == ST.OK and table.index(same_set[-1]) == 1


@pytest.mark.model
def test_the_sets_spread_session_ids():
    # a runtime numbers sessions 1, 2, 3, ...: consecutive ids must not crowd one set
    sets = SessionTable(256).sets
    counts = [0] * sets
    for s in range(1, 257):
        counts[session_set(s, sets)] += 1
    assert max(counts) <= 2 * 256 // sets


@pytest.mark.model
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_streams_against_a_plain_reference(seed):
    # the table against a dictionary of the same rules (no sets: its fullness is checked above)
    rng = random.Random(seed)
    table, ref = SessionTable(4096), {}
    for _ in range(3000):
        session, domain, op = rng.randrange(1, 40), rng.randrange(3), rng.randrange(3)
        if op == 0:
            want = ST.BAD_STATE if session in ref else ST.OK
            if want == ST.OK:
                ref[session] = [domain, S.PREFILL]
            assert table.open(session, domain) == want
        elif op == 1:
            state = rng.randrange(6)
            if state > S.CLOSED:
                want = ST.BAD_ARG
            elif session not in ref:
                want = ST.BAD_SESSION
            elif ref[session][0] != domain:
                want = ST.ISOLATION
            elif state == S.CLOSED or state in NEXT_STATES[ref[session][1]]:
                want = ST.OK
            else:
                want = ST.BAD_STATE
            assert table.enter(session, domain, state) == want
            if want == ST.OK:
                if state == S.CLOSED:
                    del ref[session]
                else:
                    ref[session][1] = state
        else:
            if session not in ref:
                want = ST.BAD_SESSION
            elif ref[session][0] != domain and domain != 0:
                want = ST.ISOLATION
            else:
                want = ST.OK
                del ref[session]
            assert table.close(session, domain) == want
        assert {s: [v.domain, v.state] for ways in table.slots for s, v in filter(None, ways)} == ref


# ---------------------------------------------------------------- the block against golden
OPS = SESSION_OPS


def random_requests(sets, seed, n):
    """Requests of every kind over a few domains: ids that share a set (so sets fill), session 0,
    every state value including unknown ones, random QoS and codec fields."""
    rng = random.Random(seed)
    crowded = [s for s in range(1, 2000) if session_set(s, sets) == 0][:SESSION_WAYS + 2]
    pool = crowded + [rng.randrange(1, 1 << 16) for _ in range(6)] + [SHARED_SESSION, 0xFFFF]
    reqs = []
    for _ in range(n):
        op = rng.choice((OPS.LOOKUP, OPS.OPEN, OPS.OPEN, OPS.ENTER, OPS.ENTER, OPS.ENTER, OPS.CLOSE))
        reqs.append(dict(op=op, session=rng.choice(pool), domain=rng.choice((0, 1, 2, 0xFF)),
                         state=rng.choice((S.DECODE, S.DECODE, S.IDLE, S.ARCHIVED, S.PREFILL, S.CLOSED, 5, 7)),
                         priority=rng.randrange(4), budget=rng.getrandbits(32), profile=rng.getrandbits(8),
                         version=rng.getrandbits(8), quota=rng.choice((0, 0, 1, 2))))
    return reqs


def golden_answers(params, reqs):
    """-> per request (status, entry index or None, entry word or 0), the table after, and the
    DECODE set after each number of requests (from none to all)."""
    table, answers = SessionTable(params.sessions, decode_slots=params.decode_slots), []
    decoding = [frozenset()]
    for r in reqs:
        sid, dom = r["session"], r["domain"]
        table.quota = Quota(decode=r.get("quota", 0))
        if r["op"] == OPS.LOOKUP:
            st = table.check(sid, dom)
        elif r["op"] == OPS.OPEN:
            st = table.open(sid, dom, r["priority"], r["budget"], r["profile"], r["version"])
        elif r["op"] == OPS.ENTER:
            st = table.enter(sid, dom, r["state"])
        else:
            st = table.close(sid, dom)
        s = table.get(sid) if st == ST.OK else None
        answers.append((st, table.index(sid), pack(sid, s)) if s else (st, None, 0))
        decoding.append(frozenset(table.decoding))
    return answers, table, decoding


def window_probes(reqs):
    """((session, used), reader domain) probes of the window's guard: every session the
    requests name and one they never open, in a used and a free directory slot, read by every
    domain."""
    return [((sid, used), reader) for sid in sorted({r["session"] for r in reqs} | {0x7777})
            for used, reader in itertools.product((0, 1), (0, 1, 2, 0xFF))]


def golden_window(table, probes):
    return [int(table.sees(reader, sid, used)) for (sid, used), reader in probes]


def decode_probes(reqs, ways, seed=0):
    """Groups of `ways` sessions for hepc's scan lanes: every session the requests name and one
    they never open, in two orders (a session in every lane)."""
    named = sorted({r["session"] for r in reqs} | {0x7777})
    mixed = named[:]
    random.Random(seed).shuffle(mixed)
    order = named + mixed
    order += order[:-len(order) % ways]      # a whole number of groups
    return [tuple(order[k:k + ways]) for k in range(0, len(order) - ways + 1, ways)]


def golden_guard(decoding, groups):
    """What the DECODE set `decoding` answers the lanes (a flag per lane) and its count, per group."""
    return [([int(sid in decoding) for sid in group], len(decoding)) for group in groups]


def check_block(params, reqs, seed=0, cosim_cmd=None):
    """The requests, the window's guard and the DECODE set's lanes through the block, against golden."""
    want, table, decoding = golden_answers(params, reqs)
    probes, groups = window_probes(reqs), decode_probes(reqs, params.dir_ways, seed)
    got, seen, guard, during = run_block(params, reqs, probes, groups, cosim_cmd)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, (i, reqs[i])
    assert seen == golden_window(table, probes)
    assert guard == golden_guard(table.decoding, groups)
    for k, group, flags in during:    # while the requests run: the set as golden's after k of them
        assert golden_guard(decoding[k], [group])[0][0] == flags, (k, group, flags)
    assert len({k for k, _, _ in during}) > len(reqs) // 2
    return want, table, probes, during


def run_block(params, reqs, probes, groups, cosim_cmd=None):
    """The requests through hdl/session one at a time, then the window's guard probes, then the
    DECODE set's lanes, a group of sessions at a time; -> (answers as golden_answers gives them,
    win_visible_o for each probe, (scan_decode_o's flags, decode_count_o) for each group, and
    (answers so far, group, flags) for the lanes driven at every edge while the requests run)."""
    p = session_port_signals(params)
    clk, rst = p["clk_i"], p["rst_ni"]
    answers, seen, guard, during = [], [], [], []
    left = {}          # each session's state after the last request that moved it
    lanes = itertools.cycle(groups)

    def tick():
        # one edge; the lanes' flags show every answer taken before this edge's (its move lands
        # at the next edge), then an answer shown is taken
        group = next(lanes)
        p["scan_sessions_i"].next = sum(sid << 16 * w for w, sid in enumerate(group))
        yield
        flags = int(p["scan_decode_o"].val)
        during.append((len(answers), group, [flags >> w & 1 for w in range(len(group))]))
        if p["rsp_valid_o"].val:
            entry = int(p["rsp_entry_o"].val)
            answers.append((int(p["rsp_status_o"].val), int(p["rsp_index_o"].val) if entry else None, entry))
            # the fields the command engine reads beside the word: its state (for an ENTER that
            # moved the session, the state it left), its profile and version
            split = {n: (entry >> lsb) & ((1 << w) - 1) for n, (lsb, w) in FIELD.items()}
            r = reqs[len(answers) - 1]
            state = split["state"]
            if r["op"] == SESSION_OPS.ENTER and answers[-1][0] == R.STATUS.OK:
                state = left.get(r["session"], 0)
            if (int(p["rsp_state_o"].val), int(p["rsp_profile_o"].val)) != (state,
                                                                            split["profile"] | split["version"] << 8):
                answers[-1] += ("fields differ from the word",)
            if answers[-1][0] == R.STATUS.OK and r["op"] != SESSION_OPS.LOOKUP:
                left[r["session"]] = split["state"]

    def script():
        while not p["ready_o"].val:
            yield
        for k, r in enumerate(reqs):   # back to back: the next request waits only for req_ready_o
            if r.get("quota", 0) != p["decode_quota_i"].val:
                p["req_valid_i"].next = 0
                while len(answers) < k:    # SESSION_QUOTA.DECODE changes between requests, as a
                    yield from tick()      # register write between commands does
                p["decode_quota_i"].next = r.get("quota", 0)
            for name in ("op", "session", "domain", "state", "priority", "budget", "profile", "version"):
                p[f"req_{name}_i"].next = r[name]
            p["req_valid_i"].next = 1
            yield from tick()
            while not p["req_ready_o"].val:
                yield from tick()
        p["req_valid_i"].next = 0
        while len(answers) < len(reqs):
            yield from tick()
        for (session_id, used), reader in probes:         # the answer the cycle after the slot
            p["win_session_i"].next, p["win_used_i"].next, p["win_domain_i"].next = session_id, used, reader
            yield
            yield
            seen.append(int(p["win_visible_o"].val))
        for group in groups:                              # the same cycle as the lanes
            p["scan_sessions_i"].next = sum(sid << 16 * w for w, sid in enumerate(group))
            yield
            flags = int(p["scan_decode_o"].val)
            guard.append(([flags >> w & 1 for w in range(len(group))], int(p["decode_count_o"].val)))

    cycles = 3 * params.sessions + 8 * len(reqs) + 2 * len(probes) + len(groups) + 50
    ports = {n: sig for n, sig in p.items() if n not in ("clk_i", "rst_ni")}
    simulate(_cosim_block(cosim_cmd) if cosim_cmd else session, (params, clk, rst), ports, clk, rst,
             drive(script()), cycles, cosim=bool(cosim_cmd))
    return answers, seen, guard, during


def _cosim_block(cmd):
    @block
    def cosim(params, clk_i, rst_ni, **ports):
        return Cosimulation(cmd, clk_i=clk_i, rst_ni=rst_ni, **ports)
    return cosim


SIM = param_sets.get("sim")


@pytest.mark.parametrize("seed", [1, 2])
def test_block_answers_every_request_as_golden(seed):
    reqs = random_requests(SIM.sessions // SESSION_WAYS, seed, 300)
    want, table, probes, during = check_block(SIM, reqs, seed)
    assert {a[0] for a in want} >= {ST.OK, ST.BAD_STATE, ST.BAD_SESSION, ST.ISOLATION, ST.DIR_FULL, ST.BAD_ARG}
    want_seen = golden_window(table, probes)
    assert 0 < sum(want_seen[k] for k, (_, reader) in enumerate(probes) if reader) < len(probes) // 2
    assert any(any(flags) for _, _, flags in during)


def test_block_walks_the_lifecycle_and_refuses_as_golden():
    # directed: every move from every state, by the owner, another domain and the manager
    reqs = []
    for start, target in itertools.product((S.PREFILL, S.DECODE, S.IDLE, S.ARCHIVED), range(8)):
        path = {S.PREFILL: [], S.DECODE: [S.DECODE], S.IDLE: [S.DECODE, S.IDLE],
                S.ARCHIVED: [S.DECODE, S.IDLE, S.ARCHIVED]}[start]
        base = dict(session=7, domain=1, priority=1, budget=4096, profile=2, version=3, state=0)
        reqs += [dict(base, op=OPS.OPEN)] + [dict(base, op=OPS.ENTER, state=m) for m in path]
        reqs += [dict(base, op=OPS.ENTER, domain=2, state=target), dict(base, op=OPS.ENTER, domain=0, state=target),
                 dict(base, op=OPS.ENTER, state=target), dict(base, op=OPS.LOOKUP), dict(base, op=OPS.CLOSE)]
    check_block(SIM, reqs)


def test_block_holds_decode_slots_sessions_in_decode_as_golden():
    # one more than the DECODE slots enter DECODE (the last is refused), then every way out of
    # DECODE (IDLE, CLOSED, SESSION_CLOSE, the manager's close) frees a slot for a waiting one
    n = SIM.decode_slots + 2
    ids = list(range(20, 20 + 4 * n))
    base = dict(domain=1, priority=0, budget=0, profile=0, version=0, state=0)
    reqs = [dict(base, op=OPS.OPEN, session=s) for s in ids]
    reqs += [dict(base, op=OPS.ENTER, session=s, state=S.DECODE) for s in ids[:n]]
    leave = [dict(op=OPS.ENTER, state=S.IDLE), dict(op=OPS.ENTER, state=S.CLOSED), dict(op=OPS.CLOSE),
             dict(op=OPS.CLOSE, domain=0)]
    for k, how in enumerate(leave):
        reqs += [dict(base, session=ids[k], **how), dict(base, op=OPS.ENTER, session=ids[n + k], state=S.DECODE),
                 dict(base, op=OPS.ENTER, session=ids[2 * n + k], state=S.DECODE)]
    want, table, _, _ = check_block(SIM, reqs)
    assert [a[0] for a in want].count(ST.DIR_FULL) >= 1 + len(leave)
    assert len(table.decoding) == SIM.decode_slots


def test_block_holds_a_domains_decode_quota_as_golden():
    # SESSION_QUOTA.DECODE = 2: a domain's third session is refused DECODE while another domain's
    # are not; a slot its own session leaves makes room again; quota 0 lifts the limit
    base = dict(priority=0, budget=0, profile=0, version=0, state=0, quota=2)
    ids = list(range(40, 46))
    reqs = [dict(base, op=OPS.OPEN, session=s, domain=1 + (k >= 3)) for k, s in enumerate(ids)]
    reqs += [dict(base, op=OPS.ENTER, session=s, domain=1 + (k >= 3), state=S.DECODE) for k, s in enumerate(ids)]
    reqs += [dict(base, op=OPS.ENTER, session=ids[0], domain=1, state=S.IDLE),
             dict(base, op=OPS.ENTER, session=ids[2], domain=1, state=S.DECODE),
             dict(base, op=OPS.ENTER, session=ids[3], domain=2, state=S.IDLE),
             dict(base, op=OPS.ENTER, session=ids[0], domain=1, state=S.DECODE),
             dict(base, op=OPS.ENTER, session=ids[0], domain=1, state=S.DECODE, quota=0)]
    want, table, _, _ = check_block(SIM, reqs)
    enters = [a[0] for a in want[len(ids):]]
    assert enters == [ST.OK, ST.OK, ST.DIR_FULL, ST.OK, ST.OK, ST.DIR_FULL, ST.OK, ST.OK, ST.OK, ST.DIR_FULL, ST.OK]


@pytest.mark.parametrize("set_name", ["sim", "fpga"])
def test_converted_session_in_icarus_matches_golden(set_name, tmp_path):
    params = param_sets.get(set_name)
    reqs = random_requests(params.sessions // SESSION_WAYS, 3, 200)
    check_block(params, reqs, 3, block_image(params, "session", session, session_port_signals(params), tmp_path))


@pytest.mark.parametrize("set_name", ["sim", "fpga", "asic"])
def test_converted_session_is_lint_clean(set_name, tmp_path):
    rtl = generate(set_name, "session", tmp_path)
    vlt = ROOT / "hdl/session/session_lint.vlt"
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(vlt), str(rtl)], capture_output=True, text=True)
    assert r.returncode == 0 and "%Warning" not in r.stderr, r.stderr[-3000:]


def qos_run(params, seed, n):
    """Random requests, each LOOKUP answered OK followed (mostly) by its command's charge, decode
    steps between them, and the QoS window read at every entry by every domain now and then.
    -> (what the block's window showed, what golden's shows), as lists of (index, reader, words, visible)."""
    rng = random.Random(seed)
    reqs = random_requests(params.sessions // SESSION_WAYS, seed, n)
    for r in reqs[::3]:
        r["op"] = OPS.LOOKUP          # more commands to charge
    for r in reqs:
        r["budget"] = rng.choice((0, rng.randrange(1, 4096), rng.getrandbits(32)))
    table = SessionTable(params.sessions, decode_slots=params.decode_slots)
    stall = {}                                        # the window's cycle counts, beside golden's
    p = session_port_signals(params)
    clk, rst = p["clk_i"], p["rst_ni"]
    got, want = [], []
    readers = (0, 1, 2, 0xFF)

    def golden_reads(indices=None):
        for index, reader in itertools.product(indices or range(params.sessions + 2), readers):
            words, owner = table.qos_window(index)
            if owner is not None:
                words[4] = stall[words[0] & 0xFFFF]
            visible = int(reader in (0, owner))
            want.append((index, reader, words if visible else [0] * 5, visible))

    def block_reads(indices=None):
        for index, reader in itertools.product(indices or range(params.sessions + 2), readers):
            p["qwin_index_i"].next, p["qwin_domain_i"].next = index, reader
            for _ in range(3):                        # shown two cycles after the index
                yield
            data, visible = int(p["qwin_data_o"].val), int(p["qwin_visible_o"].val)
            got.append((index, reader, [(data >> 32 * k) & 0xFFFFFFFF if visible else 0 for k in range(5)], visible))

    def script():
        while not p["ready_o"].val:
            yield
        for k, r in enumerate(reqs):
            for name in ("op", "session", "domain", "state", "priority", "budget", "profile", "version"):
                p[f"req_{name}_i"].next = r[name]
            p["req_valid_i"].next = 1
            yield
            while not p["req_ready_o"].val:
                yield
            p["req_valid_i"].next = 0
            while not p["rsp_valid_o"].val:
                yield
            status, index = int(p["rsp_status_o"].val), int(p["rsp_index_o"].val)
            sid, dom = r["session"], r["domain"]
            golden = {OPS.LOOKUP: lambda: table.check(sid, dom),
                      OPS.OPEN: lambda: table.open(sid, dom, r["priority"], r["budget"], r["profile"], r["version"]),
                      OPS.ENTER: lambda: table.enter(sid, dom, r["state"]),
                      OPS.CLOSE: lambda: table.close(sid, dom)}[r["op"]]()
            assert status == golden, (k, r)
            if r["op"] == OPS.OPEN and status == ST.OK:
                stall[sid] = 0
            for _ in range(rng.randrange(3)):         # the command runs
                yield
            if r["op"] == OPS.LOOKUP and status == ST.OK and rng.random() < 0.9:
                left = table.get(sid).tokens if sid != SHARED_SESSION else 0
                nbytes = rng.choice((0, rng.randrange(1, 2048), rng.getrandbits(32), left, left + 1, max(left - 1, 0)))
                waited = rng.choice((0, rng.randrange(100), rng.randrange(1 << 17), rng.getrandbits(32)))
                p["charge_bytes_i"].next, p["charge_waited_i"].next, p["charge_i"].next = nbytes, waited, 1
                yield
                p["charge_i"].next = 0
                yield                                 # the record is written two cycles after
                yield
                if sid != SHARED_SESSION:
                    table.charge(sid, nbytes)
                    stall[sid] = min(stall[sid] + waited, 2**32 - 1)
                    golden_reads([index])             # the charged entry at once
                    yield from block_reads([index])
            if rng.random() < 0.1:                    # a decode step: a new window
                p["tick_i"].next = 1
                yield
                p["tick_i"].next = 0
                table.refill()
            if k % 60 == 59 or k == len(reqs) - 1:
                golden_reads()
                yield from block_reads()

    # a request, its charge and the charged entry's reads take at most 30 cycles; the window's sweeps 3 a read
    sweeps = (params.sessions + 2) * len(readers) * (len(reqs) // 60 + 1)
    cycles = 3 * params.sessions + 30 * len(reqs) + 3 * sweeps + 50
    ports = {name: s for name, s in p.items() if name not in ("clk_i", "rst_ni")}
    simulate(session, (params, clk, rst), ports, clk, rst, drive(script()), cycles)
    return got, want


@pytest.mark.block
@pytest.mark.parametrize("seed", [4, 5])
def test_block_keeps_each_sessions_qos_accounting_as_golden(seed):
    """The QoS records (golden SessionTable.charge, refill, qos_window): opened with a full bucket,
    charged by their commands' completions (down to an empty bucket; bytes, commands and stall
    cycles saturating), refilled at each decode step, cleared at a close; the window shows an
    entry to the management domain and its own domain, zeros to any other and beyond the table."""
    got, want = qos_run(SIM, seed, 400)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w
    shown = [w for w in want if w[3] and w[2][0]]
    assert any(w[1] != 0 for w in shown), "no tenant saw its own session"
    assert any(w[2][1] == 0 for w in shown) and any(w[2][1] for w in shown), "no bucket emptied, or none left"
    assert any(w[2][2] for w in shown) and any(w[2][4] for w in shown)
    assert any(not w[3] for w in want)


@pytest.mark.model
def test_a_bucket_empties_by_its_commands_bytes_and_a_step_refills_it():
    table = SessionTable(16)
    assert table.open(9, domain=2, budget=1000) == ST.OK and table.open(10, domain=3) == ST.OK
    for nbytes, left in ((300, 700), (0, 700), (699, 1), (5, 0), (2**32 - 1, 0)):
        table.charge(9, nbytes)
        assert table.get(9).tokens == left
    assert table.get(9).commands == 5 and table.get(9).moved == 2**32 - 1      # saturated
    table.charge(10, 64)
    assert table.get(10).tokens == 0 and table.get(10).moved == 64             # no budget: the bucket stays 0
    table.refill()
    assert (table.get(9).tokens, table.get(10).tokens) == (1000, 0)
    words, owner = table.qos_window(table.index(9))
    assert owner == 2 and words == [9 | 2 << 16 | 1 << 24, 1000, 2**32 - 1, 5, 0]
    assert table.close(9, 2) == ST.OK
    assert table.qos_window(table.index(10))[1] == 3
    assert all(table.qos_window(i) == ([0] * 5, None) for i in (16, 17, 0xFFFF) + tuple(
        i for i in range(16) if table.qos_window(i)[1] is None))


@pytest.mark.model
def test_the_frame_charges_only_what_the_table_let_through():
    """A command's completion is charged to its session only when the table let it through: not a
    refused one (another domain's, a session not open), not the table's own commands, not session
    0 or the sessionless ones; a STEP_ADVANCE refills only when it runs (the management domain's),
    and the window shows a record to its own domain and the management domain only."""
    from golden.frame import FrameModel
    m = FrameModel(param_sets.get("sim"))
    OP = R.OPCODE

    def submit(opcode, session, domain, arg0=0):
        m.write(R.CMD_ARG0, arg0, user=domain)
        assert m.write(R.CMD_DOORBELL, opcode | session << 16, user=domain) == 0
        m.cplq.clear()

    submit(OP.SESSION_OPEN, 9, 2, arg0=500)
    t = m.plane.sessions
    index = t.index(9)
    submit(OP.DIR_ACCESS, 9, 2)                       # let through: charged (no bytes)
    submit(OP.DIR_ACCESS, 9, 3)                       # another domain's: ISOLATION, not charged
    submit(OP.DIR_ACCESS, 11, 2)                      # not open: not charged anywhere
    submit(OP.SESSION_SET_STATE, 9, 2, arg0=S.DECODE)  # the table's own: not charged
    submit(OP.DIR_ACCESS, 0, 0)                       # session 0: no record
    submit(OP.NOP, 9, 2)
    assert (t.get(9).commands, t.get(9).tokens) == (1, 500)
    t.charge(9, 400)
    submit(OP.STEP_ADVANCE, 0, 3)                     # a tenant's step is refused: no refill
    assert t.get(9).tokens == 100
    m.write(R.STEP_ADVANCE, 1, user=0)
    assert t.get(9).tokens == 500
    m.write(R.QOS_WIN_INDEX, index, user=3)
    for domain, seen in ((0, True), (2, True), (3, False)):
        data, mask, _ = m.read(R.QOS_WIN_TOKENS, user=domain)
        assert data == (500 if seen else 0) and mask == 0xFFFFFFFF
        assert m.read(R.QOS_WIN_SESSION, user=domain)[0] == ((9 | 2 << 16 | 1 << 24) if seen else 0)
    assert m.read(R.QOS_WIN_STALL, user=0)[1] == 0        # cycles: no transaction model knows them
