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



def test_command_engine_against_golden():
    """Random commands and stream beats, random back-pressure on the completion and egress
    queues: the completions and output beats are the golden model's, in order. A command that
    names a session first asks a stub session table (OK for a session whose low two bits are not
    both 0, else BAD_SESSION), which ends it when it refuses; policy commands go to a stub engine
    that answers after a random wait with status arg2 % 9. Each request arrives once, with its
    fields; the table's own commands (SESSION_OPEN, SESSION_SET_STATE, SESSION_CLOSE) never reach
    hepc; and the command completes with the refusal or the stub's status."""
    rng = random.Random(14)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    beat_bits = 8 * SIM.axis_bytes
    p = dict(cmd_valid_i=sig(1), cmd_pop_o=sig(1), cmd_opcode_i=sig(8), cmd_session_i=sig(16), cmd_domain_i=sig(8),
             cmd_fence_i=sig(16), cmd_arg0_i=sig(32), cmd_arg1_i=sig(24), cmd_arg2_i=sig(32),
             cpl_push_o=sig(1), cpl_full_i=sig(1),
             cpl_fence_o=sig(16), cpl_status_o=sig(8), cpl_opcode_o=sig(8), cpl_session_o=sig(16),
             cpl_bytes_o=sig(32), rx_valid_i=sig(1), rx_pop_o=sig(1), rx_data_i=sig(beat_bits),
             rx_last_i=sig(1), tx_push_o=sig(1), tx_full_i=sig(1), tx_data_o=sig(beat_bits), tx_last_o=sig(1),
             pol_req_o=sig(1), pol_opcode_o=sig(8), pol_session_o=sig(16), pol_arg0_o=sig(32),
             pol_arg1_o=sig(16), pol_arg2_o=sig(32), pol_done_i=sig(1), pol_status_i=sig(8),
             ses_req_valid_o=sig(1), ses_req_ready_i=sig(1), ses_req_op_o=sig(2), ses_req_session_o=sig(16),
             ses_req_domain_o=sig(8), ses_req_state_o=sig(3), ses_req_priority_o=sig(2), ses_req_budget_o=sig(32),
             ses_req_profile_o=sig(8), ses_req_version_o=sig(8), ses_rsp_valid_i=sig(1), ses_rsp_status_i=sig(4),
             ses_rsp_state_i=sig(3), ses_rsp_profile_i=sig(16), kv_profile_o=sig(16),
             # the KV path stays idle here (no KV opcodes); tests/test_die.py runs it
             kv_req_o=sig(1), kv_refuse_o=sig(8), kv_opcode_o=sig(8), kv_session_o=sig(16), kv_arg0_o=sig(32), kv_arg1_o=sig(24),
             kv_arg2_o=sig(32), kv_done_i=sig(1), kv_status_i=sig(8), kv_bytes_i=sig(32), kv_dir_req_i=sig(1),
             kv_dir_opcode_i=sig(8), kv_dir_session_i=sig(16), kv_dir_arg0_i=sig(32), kv_dir_arg1_i=sig(16),
             kv_dir_arg2_i=sig(32), kv_dir_probe_i=sig(1), kv_dir_codec_i=sig(2), kv_dir_shared_i=sig(1),
             pol_probe_o=sig(1), pol_codec_o=sig(2), pol_shared_o=sig(1), kv_rx_pop_i=sig(1), kv_tx_push_i=sig(1), kv_tx_data_i=sig(beat_bits), kv_tx_last_i=sig(1))
    model = FrameModel(dataclasses.replace(SIM, cplq_depth=10**6))
    cmds, beats = deque(), deque()
    for fence in range(120):
        op = rng.choice([R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.ECHO, 0x7F, rng.choice(POLICY_OPCODES),
                         rng.choice(POLICY_OPCODES), rng.choice(TABLE_OPCODES)])
        arg0 = (rng.choice([0, 1, 2, 5, 9]) if op == R.OPCODE.ECHO else
                rng.choice([rng.randrange(8), R.SESSION_STATE.CLOSED, R.SESSION_STATE.CLOSED, rng.getrandbits(32)]) if op == R.OPCODE.SESSION_SET_STATE else
                rng.getrandbits(32))
        arg2 = rng.getrandbits(32) & rng.choice([OPEN_ARG2_MASK, 0xFFFFFFFF]) if op == R.OPCODE.SESSION_OPEN else rng.getrandbits(32)
        domain = rng.choice([MANAGEMENT_DOMAIN, rng.getrandbits(8)])
        cmds.append(Command(op, rng.getrandbits(16), fence, domain, arg0, rng.getrandbits(24), arg2))
        model.cmdq.append(dataclasses.replace(cmds[-1]))
        if op == R.OPCODE.ECHO:
            for i in range(arg0):
                last = (i == arg0 - 1) if rng.random() < 0.9 else (i == 0)
                beats.append((rng.getrandbits(beat_bits), last))
    for data, last in beats:
        model.offer(data, last)
    model.settle()
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

    def hepc_asked(c):
        return (c.opcode == R.OPCODE.STEP_ADVANCE and not tenant_step(c)) or (
            table_asked(c) and table_status(c.session) == R.STATUS.OK and (c.opcode in POLICY_OPCODES or closes(c)))

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
    assert {status(c) for c in cmds} >= {R.STATUS.OK, R.STATUS.BAD_SESSION, R.STATUS.BAD_ARG, R.STATUS.ISOLATION}
    assert any(c.opcode == R.OPCODE.STEP_ADVANCE and not tenant_step(c) for c in cmds)
    assert any(c.opcode == R.OPCODE.SESSION_SET_STATE and table_status(c.session) == R.STATUS.OK for c in cmds)
    assert {c.opcode for c in cmds if hepc_asked(c) and closes(c)} == {R.OPCODE.SESSION_CLOSE, R.OPCODE.SESSION_SET_STATE}
    got_cpl, got_tx, got_req, got_ses = [], [], [], []
    stub = {"wait": None}
    table = {"answer": None}

    def step(n):
        # the stub session table: a request is taken when ready, answered 1..3 cycles later
        p["ses_rsp_valid_i"].next = False
        if table["answer"] is not None:
            table["answer"][0] -= 1
            if table["answer"][0] == 0:
                p["ses_rsp_valid_i"].next = True
                p["ses_rsp_status_i"].next = table["answer"][1]
                p["ses_rsp_state_i"].next = 0
                table["answer"] = None
        elif p["ses_req_valid_o"] and p["ses_req_ready_i"]:
            got_ses.append(tuple(int(p[f"ses_req_{k}_o"]) for k in ("op", "session", "domain", "state", "priority",
                                                                   "budget", "profile", "version")))
            table["answer"] = [rng.randint(1, 3), table_status(int(p["ses_req_session_o"]))]
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
            cmds.popleft()
        if p["rx_pop_o"]:
            beats.popleft()
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
        offer = bool(beats) and rng.random() < 0.7
        p["rx_valid_i"].next = offer
        if beats:
            p["rx_data_i"].next, p["rx_last_i"].next = beats[0]
        p["cpl_full_i"].next = rng.random() < 0.3
        p["tx_full_i"].next = rng.random() < 0.3

    simulate(cmdproc, (SIM, clk, rst), p, clk, rst, step, 4500)
    assert want_ses and got_ses == want_ses
    assert want_req and got_req == want_req
    assert got_cpl == want_cpl
    assert got_tx == want_tx
