"""cmdproc in MyHDL against golden/frame.py: commands, completions, streams, hepc's request port."""
import dataclasses
import random
from collections import deque

from myhdl import Signal, ResetSignal

from golden import kv1_regs as R
from golden.frame import FrameModel, Command, TABLE_OPCODES
from golden.policy_engine import POLICY_OPCODES
from golden.data_plane import OPEN_ARG2_MASK, names_session
from golden.session import MANAGEMENT_DOMAIN
from golden import params as param_sets
from hdl.cmdproc.cmdproc import cmdproc
from hdl.session.session import SESSION_OPS
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")
TIMEOUT = 40        # STREAM_TIMEOUT: far beyond the random gaps between beats offered


def cmdproc_ports():
    """cmdproc's ports at the sim set, as fresh signals."""
    beat_bits = 8 * SIM.axis_bytes
    return dict(cmd_valid_i=sig(1), cmd_pop_o=sig(1), cmd_opcode_i=sig(8), cmd_session_i=sig(16), cmd_domain_i=sig(8),
                cmd_fence_i=sig(16), cmd_arg0_i=sig(32), cmd_arg1_i=sig(24), cmd_arg2_i=sig(32),
                cmd_stamp_i=sig(32), cmd_now_i=sig(32), ses_charge_o=sig(1), ses_charge_bytes_o=sig(32),
                ses_charge_waited_o=sig(32), ses_tick_o=sig(1),
                cpl_push_o=sig(1), cpl_full_i=sig(1),
                cpl_fence_o=sig(16), cpl_status_o=sig(8), cpl_opcode_o=sig(8), cpl_session_o=sig(16),
                cpl_bytes_o=sig(32), rx_valid_i=sig(1), rx_pop_o=sig(1), rx_data_i=sig(beat_bits),
                rx_last_i=sig(1), rx_domain_i=sig(8), stream_timeout_i=sig(24), tx_push_o=sig(1), tx_full_i=sig(1), tx_data_o=sig(beat_bits), tx_last_o=sig(1),
                pol_req_o=sig(1), pol_opcode_o=sig(8), pol_session_o=sig(16), pol_arg0_o=sig(32),
                pol_arg1_o=sig(16), pol_arg2_o=sig(32), pol_done_i=sig(1), pol_status_i=sig(8),
                ses_req_valid_o=sig(1), ses_req_ready_i=sig(1), ses_req_op_o=sig(2), ses_req_session_o=sig(16),
                ses_req_domain_o=sig(8), ses_req_state_o=sig(3), ses_req_priority_o=sig(2), ses_req_budget_o=sig(32),
                ses_req_profile_o=sig(8), ses_req_version_o=sig(8), ses_rsp_valid_i=sig(1), ses_rsp_status_i=sig(4),
                ses_rsp_state_i=sig(3), ses_rsp_profile_i=sig(16), kv_profile_o=sig(16),
                kv_req_o=sig(1), kv_refuse_o=sig(8), kv_opcode_o=sig(8), kv_session_o=sig(16), kv_arg0_o=sig(32), kv_arg1_o=sig(24),
                kv_arg2_o=sig(32), kv_done_i=sig(1), kv_status_i=sig(8), kv_bytes_i=sig(32), kv_dir_req_i=sig(1),
                kv_dir_opcode_i=sig(8), kv_dir_session_i=sig(16), kv_dir_arg0_i=sig(32), kv_dir_arg1_i=sig(16),
                kv_dir_arg2_i=sig(32), kv_dir_probe_i=sig(1), kv_dir_codec_i=sig(2), kv_dir_shared_i=sig(1),
                pol_probe_o=sig(1), pol_codec_o=sig(2), pol_shared_o=sig(1), kv_rx_valid_o=sig(1), kv_rx_ready_i=sig(1), kv_rx_pop_i=sig(1),
                kv_rx_zero_o=sig(1), kv_rx_last_o=sig(1), kv_tx_push_i=sig(1), kv_tx_data_i=sig(beat_bits), kv_tx_last_i=sig(1))


def test_command_engine_against_golden():
    """Random commands and stream beats, random back-pressure on the completion and egress
    queues: the completions and output beats are the golden model's, in order. A command that
    names a session first asks a stub session table (OK for a session whose low two bits are not
    both 0, else BAD_SESSION), which ends it when it refuses; policy commands go to a stub engine
    that answers after a random wait with status arg2 % 9. Each request arrives once, with its
    fields; the table's own commands (SESSION_OPEN, SESSION_SET_STATE, SESSION_CLOSE) never reach
    hepc; and the command completes with the refusal or the stub's status. Some ECHOs lose the end
    of their data and some beats are another domain's, sent for no command: an ECHO takes only its
    own domain's beats and one that waits STREAM_TIMEOUT cycles for them is padded with zero beats
    and completes TIMEOUT, as golden's stream_timeout. A command the table let through is charged
    to its session as it completes (its BYTES, and the cycles from its stamp to when it was taken);
    each STEP_ADVANCE run ticks the QoS window."""
    rng = random.Random(14)
    faults = random.Random(15)     # the streams' faults, apart from the commands' draws
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    beat_bits = 8 * SIM.axis_bytes
    p = cmdproc_ports()      # the KV path stays idle here (no KV opcodes): the next test and tests/test_die.py run it
    model = FrameModel(dataclasses.replace(SIM, cplq_depth=10**6))
    cmds, beats = deque(), deque()
    for fence in range(160):
        op = rng.choice([R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.ECHO, 0x7F, rng.choice(POLICY_OPCODES),
                         rng.choice(POLICY_OPCODES), rng.choice(TABLE_OPCODES), R.OPCODE.SESSION_SET_STATE])
        arg0 = (rng.choice([0, 1, 2, 5, 9]) if op == R.OPCODE.ECHO else
                rng.choice([rng.randrange(8), R.SESSION_STATE.CLOSED, R.SESSION_STATE.CLOSED, R.SESSION_STATE.IDLE,
                            R.SESSION_STATE.ARCHIVED, rng.getrandbits(32)]) if op == R.OPCODE.SESSION_SET_STATE else
                rng.getrandbits(32))
        arg2 = rng.getrandbits(32) & rng.choice([OPEN_ARG2_MASK, 0xFFFFFFFF]) if op == R.OPCODE.SESSION_OPEN else rng.getrandbits(32)
        domain = rng.choice([MANAGEMENT_DOMAIN, rng.getrandbits(8)])
        cmds.append(Command(op, rng.getrandbits(16), fence, domain, arg0, rng.getrandbits(24), arg2))
        model.cmdq.append(dataclasses.replace(cmds[-1]))
        if op == R.OPCODE.ECHO:
            sent = arg0 if faults.random() < 0.85 else faults.randrange(arg0 + 1)    # the rest never comes
            for i in range(sent):
                last = (i == arg0 - 1) if rng.random() < 0.9 else (i == 0)
                beats.append((rng.getrandbits(beat_bits), last, domain))
        if faults.random() < 0.05:      # another domain's beat, for no command
            beats.append((faults.getrandbits(beat_bits), True, faults.getrandbits(8)))
    model.stored[("STREAM_TIMEOUT", "CYCLES")] = TIMEOUT
    for data, last, domain in beats:
        model.offer(data, last, domain)
    while model.waiting_for_data():
        model.stream_timeout()
    def table_asked(c):     # refused before the table: an unknown state, a reserved ARG2 bit
        return names_session(c.opcode) and not (
            (c.opcode == R.OPCODE.SESSION_SET_STATE and c.arg0 >> 3)
            or (c.opcode == R.OPCODE.SESSION_OPEN and c.arg2 & ~OPEN_ARG2_MASK))

    def table_status(session):
        return R.STATUS.OK if session & 3 else R.STATUS.BAD_SESSION

    def tenant_step(c):     # the step is the management domain's
        return c.opcode == R.OPCODE.STEP_ADVANCE and c.domain != MANAGEMENT_DOMAIN

    def closes(c):          # a close the table took: hepc sweeps the session's entries (as SESSION_CLOSE)
        return c.opcode == R.OPCODE.SESSION_CLOSE or (c.opcode == R.OPCODE.SESSION_SET_STATE
                                                      and c.arg0 == R.SESSION_STATE.CLOSED)

    def table_left(session):   # the state the stub says a moved session left
        return R.SESSION_STATE.ARCHIVED if session & 4 else R.SESSION_STATE.DECODE

    def moves(c):           # parking (to ARCHIVED) or a warm-up (to IDLE from ARCHIVED): hepc's too
        S = R.SESSION_STATE
        return c.opcode == R.OPCODE.SESSION_SET_STATE and (
            c.arg0 == S.ARCHIVED or (c.arg0 == S.IDLE and table_left(c.session) == S.ARCHIVED))

    def hepc_asked(c):
        return (c.opcode == R.OPCODE.STEP_ADVANCE and not tenant_step(c)) or (
            table_asked(c) and table_status(c.session) == R.STATUS.OK
            and (c.opcode in POLICY_OPCODES or closes(c) or moves(c)))

    def status(c):
        if tenant_step(c):
            return R.STATUS.ISOLATION
        if hepc_asked(c):
            return c.arg2 % 9
        if table_asked(c):
            return table_status(c.session)
        return R.STATUS.BAD_ARG if names_session(c.opcode) else c.status

    want_cpl = [(c.fence, status(c), c.opcode, c.session, c.nbytes) for c in model.cplq]
    want_tx = [(b.data, int(b.last)) for b in model.tx_out]
    op_of = {R.OPCODE.SESSION_OPEN: SESSION_OPS.OPEN, R.OPCODE.SESSION_SET_STATE: SESSION_OPS.ENTER,
             R.OPCODE.SESSION_CLOSE: SESSION_OPS.CLOSE}
    want_ses = [(op_of.get(c.opcode, SESSION_OPS.LOOKUP), c.session, c.domain, c.arg0 & 7, c.arg2 & 3, c.arg0,
                 (c.arg2 >> 8) & 0xFF, (c.arg2 >> 16) & 0xFF) for c in cmds if table_asked(c)]
    # a policy command gets ARG1's layer and kv_head (BLOCK_FETCH's head count is kvpath's); the
    # host's requests act (no probe), need no image and are never shared accesses
    def hepc_request(c):
        opcode = R.OPCODE.SESSION_CLOSE if closes(c) else c.opcode
        return opcode, c.session, c.arg0, c.arg1 & 0xFFFF, c.arg2, 0, 0, 0

    want_req = [hepc_request(c) for c in cmds if hepc_asked(c)]
    # the table let it through: charged as it completes, with the cycles it waited to be taken
    charged = [c for c in model.cplq if table_asked(c) and c.opcode not in TABLE_OPCODES
               and table_status(c.session) == R.STATUS.OK]
    steps = sum(c.opcode == R.OPCODE.STEP_ADVANCE and not tenant_step(c) for c in cmds)
    stamp = {c.fence: rng.getrandbits(32) for c in cmds}      # the cycle each came (as host_if's, it wraps)
    waited, got_charge, ticks = {}, [], []
    assert {status(c) for c in model.cplq} >= {R.STATUS.OK, R.STATUS.BAD_SESSION, R.STATUS.BAD_ARG, R.STATUS.ISOLATION,
                                               R.STATUS.TIMEOUT}
    assert len(model.cplq) == len(cmds)
    assert any(c.opcode == R.OPCODE.STEP_ADVANCE and not tenant_step(c) for c in cmds)
    assert any(c.opcode == R.OPCODE.SESSION_SET_STATE and table_status(c.session) == R.STATUS.OK for c in cmds)
    assert {c.opcode for c in cmds if hepc_asked(c) and closes(c)} == {R.OPCODE.SESSION_CLOSE, R.OPCODE.SESSION_SET_STATE}
    assert {(c.arg0, table_left(c.session)) for c in cmds if hepc_asked(c) and moves(c)} >= {
        (R.SESSION_STATE.ARCHIVED, R.SESSION_STATE.ARCHIVED), (R.SESSION_STATE.IDLE, R.SESSION_STATE.ARCHIVED)}
    assert any(c.arg0 == R.SESSION_STATE.IDLE and not moves(c) and table_asked(c) and table_status(c.session) == R.STATUS.OK
               for c in cmds if c.opcode == R.OPCODE.SESSION_SET_STATE)
    got_cpl, got_tx, got_req, got_ses = [], [], [], []
    stub = {"wait": None}
    table = {"answer": None}

    def step(n):
        p["stream_timeout_i"].next = TIMEOUT
        # the stub session table: a request is taken when ready, answered 1..3 cycles later
        p["ses_rsp_valid_i"].next = False
        if table["answer"] is not None:
            table["answer"][0] -= 1
            if table["answer"][0] == 0:
                p["ses_rsp_valid_i"].next = True
                p["ses_rsp_status_i"].next = table["answer"][1]
                p["ses_rsp_state_i"].next = table["answer"][2]
                table["answer"] = None
        elif p["ses_req_valid_o"] and p["ses_req_ready_i"]:
            got_ses.append(tuple(int(p[f"ses_req_{k}_o"]) for k in ("op", "session", "domain", "state", "priority",
                                                                   "budget", "profile", "version")))
            table["answer"] = [rng.randint(1, 3), table_status(int(p["ses_req_session_o"])),
                               table_left(int(p["ses_req_session_o"]))]
        p["ses_req_ready_i"].next = table["answer"] is None and rng.random() < 0.7
        # the stub policy engine: a request is taken once, answered after 0..3 cycles
        p["pol_done_i"].next = False
        if p["pol_req_o"] and not p["pol_done_i"]:
            if stub["wait"] is None:
                got_req.append(tuple(int(p[k]) for k in ("pol_opcode_o", "pol_session_o", "pol_arg0_o",
                                                         "pol_arg1_o", "pol_arg2_o", "pol_probe_o",
                                                         "pol_codec_o", "pol_shared_o")))
                stub["wait"] = rng.randint(0, 3)
            if stub["wait"] == 0:
                p["pol_done_i"].next = True
                p["pol_status_i"].next = int(p["pol_arg2_o"]) % 9
                stub["wait"] = None
            else:
                stub["wait"] -= 1
        if p["cmd_pop_o"]:
            waited[cmds[0].fence] = (int(p["cmd_now_i"]) - stamp[cmds[0].fence]) % 2**32
            cmds.popleft()
        if p["rx_pop_o"]:
            beats.popleft()
        if p["ses_charge_o"]:
            assert p["cpl_push_o"] and not p["cpl_full_i"], "a charge without its completion"
            got_charge.append((int(p["cpl_fence_o"]), int(p["ses_charge_bytes_o"]), int(p["ses_charge_waited_o"])))
        if p["ses_tick_o"]:
            ticks.append(n)
        p["cmd_now_i"].next = n
        if p["cpl_push_o"] and not p["cpl_full_i"]:
            got_cpl.append((int(p["cpl_fence_o"]), int(p["cpl_status_o"]), int(p["cpl_opcode_o"]),
                            int(p["cpl_session_o"]), int(p["cpl_bytes_o"])))
        if p["tx_push_o"]:
            assert not p["tx_full_i"], "pushed into a full egress queue"
            got_tx.append((int(p["tx_data_o"]), int(p["tx_last_o"])))
        p["cmd_valid_i"].next = bool(cmds)
        if cmds:
            c = cmds[0]
            p["cmd_opcode_i"].next, p["cmd_session_i"].next = c.opcode, c.session
            p["cmd_domain_i"].next = c.domain
            p["cmd_fence_i"].next, p["cmd_arg0_i"].next = c.fence, c.arg0
            p["cmd_arg1_i"].next, p["cmd_arg2_i"].next = c.arg1, c.arg2
            p["cmd_stamp_i"].next = stamp[c.fence]
        offer = bool(beats) and rng.random() < 0.7
        p["rx_valid_i"].next = offer
        if beats:
            p["rx_data_i"].next, p["rx_last_i"].next, p["rx_domain_i"].next = beats[0]
        p["cpl_full_i"].next = rng.random() < 0.3
        p["tx_full_i"].next = rng.random() < 0.3

    simulate(cmdproc, (SIM, clk, rst), p, clk, rst, step, 6000)
    assert want_ses and got_ses == want_ses
    assert want_req and got_req == want_req
    assert got_cpl == want_cpl
    assert got_tx == want_tx
    assert charged and got_charge == [(c.fence, c.nbytes, waited[c.fence]) for c in charged]
    assert steps and len(ticks) == steps


def test_a_starved_append_gets_zero_beats_after_its_timeout():
    """A KV_APPEND of domain 3 in kvpath (a stub that is ready for every beat): another domain's
    beat heads the queue, so kvpath sees no beat while it waits; after STREAM_TIMEOUT waiting
    cycles exactly it is fed zero beats (kv_rx_zero_o) with tlast clear that leave the queue untouched, its own
    beats behind the foreign one are never taken, and the completion is TIMEOUT whatever kvpath
    answers."""
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    p = cmdproc_ports()
    own = [(0x1111, False, 3), (0x2222, True, 3)]
    queue = [(0xBAD, True, 7)] + own                 # domain 7's beat heads it
    seen, popped, cpl = [], [], []
    t = {"cmd": True, "first_ready": None}

    def step(n):
        p["stream_timeout_i"].next = TIMEOUT
        p["cmd_valid_i"].next = t["cmd"]
        p["cmd_opcode_i"].next, p["cmd_domain_i"].next, p["cmd_session_i"].next = R.OPCODE.KV_APPEND, 3, 5
        if p["cmd_pop_o"]:
            t["cmd"] = False
            p["cmd_valid_i"].next = False
        if p["ses_req_valid_o"]:
            p["ses_req_ready_i"].next, p["ses_rsp_valid_i"].next = True, True
        else:
            p["ses_rsp_valid_i"].next = False
        in_kv = bool(p["kv_req_o"])
        if in_kv and t["first_ready"] is None:
            t["first_ready"] = n
        if p["kv_rx_valid_o"] and p["kv_rx_ready_i"]:
            seen.append((n, bool(p["kv_rx_zero_o"]), bool(p["kv_rx_last_o"])))
        if p["rx_pop_o"]:
            popped.append(queue.pop(0))
        p["kv_rx_ready_i"].next = in_kv and len(seen) < 4
        p["kv_done_i"].next = in_kv and len(seen) == 4
        p["kv_status_i"].next = R.STATUS.BAD_ARG
        p["rx_valid_i"].next = bool(queue)
        if queue:
            p["rx_data_i"].next, p["rx_last_i"].next, p["rx_domain_i"].next = queue[0]
        if p["cpl_push_o"]:
            cpl.append(int(p["cpl_status_o"]))

    simulate(cmdproc, (SIM, clk, rst), p, clk, rst, step, 200)
    assert popped == [] and queue[0][2] == 7, "a beat left the queue"
    assert [(zero, last) for _, zero, last in seen] == [(True, False)] * 4
    assert seen[0][0] - t["first_ready"] == TIMEOUT + 1
    assert cpl[:1] == [R.STATUS.TIMEOUT]
