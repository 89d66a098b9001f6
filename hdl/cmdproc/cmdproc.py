"""cmdproc: takes commands from host_if's queue, runs them, posts one completion each.

It runs NOP and the ECHO stream diagnostic itself, and ends a STEP_ADVANCE of any requester
domain but the management domain with ISOLATION (the step is every session's). Every command that names a session
(golden.data_plane.names_session) asks the session table first, with its requester domain:
SESSION_OPEN, SESSION_SET_STATE and SESSION_CLOSE are the table's own and end with its answer
(hepc's DECODE guard reads the table), but for a close the table accepted (SESSION_CLOSE, or
SESSION_SET_STATE to CLOSED): hepc then sweeps the session's directory entries (its SESSION_CLOSE),
and for a move to ARCHIVED, or to IDLE from ARCHIVED (the state the table's answer says it left):
hepc then parks the session's blocks in cold, or warms them up (its SESSION_SET_STATE, ARG0 the state);
any other asks LOOKUP, and a refusal ends it there; a KV command goes to kvpath with the refusal (kv_refuse_o: BAD_SESSION, ISOLATION, or
BAD_STATE for a fetch of an ARCHIVED session), which streams its zero block or discards its
beats; kv_profile_o hands kvpath the session's codec profile id and version from the table's
answer. Then it hands the directory and policy commands to hepc (request held until hepc answers done with a status) and KV_APPEND,
KV_FETCH and BLOCK_FETCH to kvpath the same way. Every command completes exactly once, in
order; the engine waits for room in the completion queue rather than drop one.

hepc has one request port (pol_*) and two clients: the host's commands (from the command queue)
and kvpath's directory requests (kv_dir_*: each a whole request, the probe, codec and shared
bits included). The grant is explicit: kvpath's while a KV command runs, the host's otherwise
(commands run one at a time, so the two never ask at once). kvpath's stream beats reach the
queues through here the same way.

QoS accounting: a command the table let through (its LOOKUP answered OK) is charged to its
session as it posts its completion (ses_charge_o: its BYTES, and the cycles it waited in the
queue, cmd_now_i - cmd_stamp_i as it was taken); a STEP_ADVANCE it runs starts a new window
(ses_tick_o).

Stream data belongs to its command: ECHO and KV_APPEND take only the ingress beats of their own
requester domain (rx_domain_i, the beat's s_axis_tuser); another domain's beat at the head waits
for its own command. A stream command ready for a beat that gets none of its own for
STREAM_TIMEOUT cycles (stream_timeout_i as the command was taken, 0: never) is starved: from then on it is fed zero beats
with tlast clear (none leaves the queue; kvpath, which reads the queue's data itself, zeroes them
on kv_rx_zero_o where it takes them), so an ECHO's packet is completed and kvpath refuses an
append as a framing error, and it completes TIMEOUT.
"""
from myhdl import block, always_comb, always_seq, Signal, ConcatSignal, intbv, modbv, enum, concat

from golden.kv1_regs import OPCODE, OPCODE_NAMES, STATUS, SESSION_STATE
from golden.data_plane import OPEN_ARG2_MASK, OPEN_FIELDS
from golden.policy_engine import POLICY_OPCODES
from golden.session import MANAGEMENT_DOMAIN
from hdl.session.session import SESSION_OPS

ECHO_MAX_BEATS = 2**16 - 1


@block
def cmdproc(params, clk_i, rst_ni,
            cmd_valid_i, cmd_pop_o, cmd_opcode_i, cmd_session_i, cmd_domain_i, cmd_fence_i, cmd_arg0_i,
            cmd_arg1_i, cmd_arg2_i, cmd_stamp_i, cmd_now_i,
            cpl_push_o, cpl_full_i, cpl_fence_o, cpl_status_o, cpl_opcode_o, cpl_session_o, cpl_bytes_o,
            rx_valid_i, rx_pop_o, rx_data_i, rx_last_i, rx_domain_i, stream_timeout_i,
            tx_push_o, tx_full_i, tx_data_o, tx_last_o,
            pol_req_o, pol_opcode_o, pol_session_o, pol_arg0_o, pol_arg1_o, pol_arg2_o,
            pol_done_i, pol_status_i,
            ses_req_valid_o, ses_req_ready_i, ses_req_op_o, ses_req_session_o, ses_req_domain_o,
            ses_req_state_o, ses_req_priority_o, ses_req_budget_o, ses_req_profile_o, ses_req_version_o,
            ses_rsp_valid_i, ses_rsp_status_i, ses_rsp_state_i, ses_rsp_profile_i,
            ses_charge_o, ses_charge_bytes_o, ses_charge_waited_o, ses_tick_o,
            kv_req_o, kv_opcode_o, kv_session_o, kv_arg0_o, kv_arg1_o, kv_arg2_o, kv_refuse_o, kv_profile_o,
            kv_done_i, kv_status_i,
            kv_bytes_i, kv_dir_req_i, kv_dir_opcode_i, kv_dir_session_i, kv_dir_arg0_i, kv_dir_arg1_i,
            kv_dir_arg2_i, kv_dir_probe_i, kv_dir_codec_i, kv_dir_shared_i,
            pol_probe_o, pol_codec_o, pol_shared_o,
            kv_rx_valid_o, kv_rx_ready_i, kv_rx_pop_i, kv_rx_zero_o, kv_rx_last_o,
            kv_tx_push_i, kv_tx_data_i, kv_tx_last_i):
    t_state = enum("IDLE", "SESSION", "ECHO", "POLICY", "KV", "DONE")
    state = Signal(t_state.IDLE)
    fence = Signal(intbv(0)[16:])
    session = Signal(intbv(0)[16:])
    opcode = Signal(intbv(0)[8:])
    status = Signal(intbv(0)[8:])
    nbytes = Signal(intbv(0)[32:])
    remaining = Signal(intbv(0)[16:])
    arg0 = Signal(intbv(0)[32:])
    arg1 = Signal(intbv(0)[24:])
    arg2 = Signal(intbv(0)[32:])
    is_policy = Signal(bool(0))
    domain = Signal(intbv(0)[len(cmd_domain_i):])
    asked = Signal(bool(0))                  # the session table took this command's request
    refuse = Signal(intbv(0)[len(kv_refuse_o):])
    profile = Signal(intbv(0)[len(kv_profile_o):])   # the session's codec profile and version, for kvpath
    names_session = Signal(bool(0))
    bad_args = Signal(bool(0))               # a session command's arguments refused before the table
    STATE_BITS = len(ses_req_state_o)        # SESSION_SET_STATE's ARG0 above them: no such state
    LAST_OPCODE = max(OPCODE_NAMES)
    ses_status = ConcatSignal(intbv(0)[len(status) - len(ses_rsp_status_i):], ses_rsp_status_i)
    is_kv = Signal(bool(0))                  # the command runs in kvpath
    in_hepc = Signal(bool(0))                # ... in hepc (the latched opcode is a policy one)
    is_fetch = Signal(bool(0))               # ... and streams out
    closing = Signal(bool(0))                # a close: once the table took it, hepc sweeps the directory
    moving = Signal(bool(0))                 # to ARCHIVED or IDLE: hepc parks the blocks, or warms them up
    POLICY = tuple(sorted(POLICY_OPCODES))
    POLICY_MIN, POLICY_MAX = POLICY[0], POLICY[-1]
    assert POLICY == tuple(range(POLICY_MIN, POLICY_MAX + 1)), "policy opcodes must be contiguous"
    framing_err = Signal(bool(0))
    move = Signal(bool(0))
    starved = Signal(bool(0))                # STREAM_TIMEOUT gave up on the command's beats
    supply = Signal(bool(0))                 # a beat for the stream command: its own, or a zero one
    beat_last = Signal(bool(0))              # ... and its tlast
    quiet = Signal(intbv(0)[len(stream_timeout_i):])   # cycles it waited since its last beat
    # STREAM_TIMEOUT as the command was taken: its last quiet cycle (a register, off the timer's path)
    quiet_limit = Signal(modbv(0)[len(stream_timeout_i):])
    times_out = Signal(bool(0))
    QUIET_MAX = 2**len(quiet) - 1
    last_beat = Signal(bool(0))
    waited = Signal(modbv(0)[len(cmd_now_i):])   # cycles from its doorbell until taken
    charged = Signal(bool(0))                # the table let it through: its completion is charged
    tick = Signal(bool(0))                   # a STEP_ADVANCE run: a new QoS window
    BEAT_SHIFT = params.axis_bytes.bit_length() - 1
    assert params.axis_bytes == 1 << BEAT_SHIFT, "a beat is a power of two bytes"
    (P_LSB, P_BITS), (C_LSB, C_BITS), (V_LSB, V_BITS) = (OPEN_FIELDS[f] for f in ("priority", "profile", "version"))
    assert (P_BITS, C_BITS, V_BITS) == (len(ses_req_priority_o), len(ses_req_profile_o), len(ses_req_version_o))
    # SESSION_OPEN's reserved ARG2 bits: between priority and profile, above version
    assert P_LSB == 0 and C_LSB + C_BITS == V_LSB and OPEN_ARG2_MASK == (1 << V_LSB + V_BITS) - (1 << C_LSB) | (1 << P_BITS) - 1

    @always_comb
    def datapath():
        cmd_pop_o.next = state == t_state.IDLE and cmd_valid_i
        move.next = state == t_state.ECHO and not tx_full_i and supply
        last_beat.next = remaining == 1
        is_fetch.next = opcode == OPCODE.KV_FETCH or opcode == OPCODE.BLOCK_FETCH
        is_kv.next = opcode == OPCODE.KV_APPEND or opcode == OPCODE.KV_FETCH or opcode == OPCODE.BLOCK_FETCH
        cpl_push_o.next = state == t_state.DONE
        is_policy.next = cmd_opcode_i >= POLICY_MIN and cmd_opcode_i <= POLICY_MAX
        in_hepc.next = opcode >= POLICY_MIN and opcode <= POLICY_MAX
        names_session.next = (cmd_opcode_i <= LAST_OPCODE and cmd_opcode_i != OPCODE.NOP
                              and cmd_opcode_i != OPCODE.ECHO and cmd_opcode_i != OPCODE.STEP_ADVANCE)
        reserved = cmd_arg2_i[C_LSB:P_LSB + P_BITS] != 0 or cmd_arg2_i[32:V_LSB + V_BITS] != 0
        bad_args.next = ((cmd_opcode_i == OPCODE.SESSION_SET_STATE and cmd_arg0_i[32:STATE_BITS] != 0)
                         or (cmd_opcode_i == OPCODE.SESSION_OPEN and reserved))

    @always_comb
    def stream_supply():
        # a beat for the stream command: its own domain's at the ingress head, or a starved one's zero
        supply.next = starved or (rx_valid_i and rx_domain_i == domain)
        beat_last.next = rx_last_i and not starved

    @always_comb
    def session_request():
        ses_req_valid_o.next = state == t_state.SESSION and not asked
        if opcode == OPCODE.SESSION_OPEN:
            ses_req_op_o.next = SESSION_OPS.OPEN
        elif opcode == OPCODE.SESSION_SET_STATE:
            ses_req_op_o.next = SESSION_OPS.ENTER
        elif opcode == OPCODE.SESSION_CLOSE:
            ses_req_op_o.next = SESSION_OPS.CLOSE
        else:
            ses_req_op_o.next = SESSION_OPS.LOOKUP
        ses_req_session_o.next = session
        ses_req_domain_o.next = domain
        ses_req_state_o.next = arg0[STATE_BITS:]
        ses_req_budget_o.next = arg0
        ses_req_priority_o.next = arg2[P_LSB + P_BITS:P_LSB]
        ses_req_profile_o.next = arg2[C_LSB + C_BITS:C_LSB]
        ses_req_version_o.next = arg2[V_LSB + V_BITS:V_LSB]

    @always_comb
    def outputs():
        kv = state == t_state.KV
        rx_pop_o.next = (move or kv_rx_pop_i) and not starved
        tx_push_o.next = move or kv_tx_push_i
        if kv:
            tx_data_o.next = kv_tx_data_i
            tx_last_o.next = kv_tx_last_i
        else:
            tx_data_o.next = 0
            if not starved:
                tx_data_o.next = rx_data_i
            tx_last_o.next = last_beat
        kv_rx_valid_o.next = kv and supply
        kv_rx_zero_o.next = starved
        kv_rx_last_o.next = beat_last
        kv_req_o.next = kv
        kv_opcode_o.next = opcode
        kv_session_o.next = session
        kv_arg0_o.next = arg0
        kv_arg1_o.next = arg1
        kv_arg2_o.next = arg2
        kv_refuse_o.next = refuse
        kv_profile_o.next = profile
        cpl_fence_o.next = fence
        cpl_status_o.next = status
        cpl_opcode_o.next = opcode
        cpl_session_o.next = session
        cpl_bytes_o.next = nbytes
        ses_charge_o.next = state == t_state.DONE and charged and not cpl_full_i
        ses_charge_bytes_o.next = nbytes
        ses_charge_waited_o.next = waited
        ses_tick_o.next = tick
    @always_comb
    def policy_request():
        kv_granted = state == t_state.KV
        if kv_granted:
            pol_req_o.next = kv_dir_req_i
            pol_session_o.next = kv_dir_session_i
            pol_arg0_o.next = kv_dir_arg0_i
            pol_arg1_o.next = kv_dir_arg1_i
            pol_opcode_o.next = kv_dir_opcode_i
            pol_arg2_o.next = kv_dir_arg2_i
            pol_probe_o.next = kv_dir_probe_i
            pol_codec_o.next = kv_dir_codec_i
            pol_shared_o.next = kv_dir_shared_i
        else:
            pol_req_o.next = state == t_state.POLICY
            pol_session_o.next = session
            pol_arg1_o.next = arg1[16:]
            pol_opcode_o.next = opcode
            if closing:
                pol_opcode_o.next = OPCODE.SESSION_CLOSE
            pol_arg0_o.next = arg0
            pol_arg2_o.next = arg2
            pol_probe_o.next = False    # the host's commands act (no probe), need no image,
            pol_codec_o.next = 0        # and are never shared accesses
            pol_shared_o.next = False

    @always_seq(clk_i.posedge, reset=rst_ni)
    def control():
        tick.next = False
        if state == t_state.IDLE:
            charged.next = False
            if cmd_valid_i:
                waited.next = cmd_now_i - cmd_stamp_i
                times_out.next = stream_timeout_i != 0
                quiet_limit.next = stream_timeout_i - 1
                fence.next = cmd_fence_i
                session.next = cmd_session_i
                domain.next = cmd_domain_i
                asked.next = False
                refuse.next = STATUS.OK
                opcode.next = cmd_opcode_i
                nbytes.next = 0
                framing_err.next = False
                status.next = STATUS.BAD_ARG
                state.next = t_state.DONE
                arg0.next = cmd_arg0_i
                arg1.next = cmd_arg1_i
                arg2.next = cmd_arg2_i
                # decided as the command is taken, not every cycle (the main job's speed)
                closing.next = cmd_opcode_i == OPCODE.SESSION_CLOSE or (
                    cmd_opcode_i == OPCODE.SESSION_SET_STATE and cmd_arg0_i[STATE_BITS:] == SESSION_STATE.CLOSED)
                moving.next = cmd_opcode_i == OPCODE.SESSION_SET_STATE and (
                    cmd_arg0_i[STATE_BITS:] == SESSION_STATE.ARCHIVED or cmd_arg0_i[STATE_BITS:] == SESSION_STATE.IDLE)
                if cmd_opcode_i == OPCODE.NOP:
                    status.next = STATUS.OK
                elif names_session:
                    if not bad_args:
                        state.next = t_state.SESSION
                elif is_policy:                      # STEP_ADVANCE: the management domain's alone
                    if cmd_domain_i == MANAGEMENT_DOMAIN:
                        state.next = t_state.POLICY
                        tick.next = True
                    else:
                        status.next = STATUS.ISOLATION
                elif cmd_opcode_i == OPCODE.ECHO:
                    if cmd_arg0_i != 0 and cmd_arg0_i <= ECHO_MAX_BEATS:
                        remaining.next = cmd_arg0_i[16:0]
                        # every beat goes out (a starved one as a zero beat): its bytes are known now
                        nbytes.next = concat(intbv(0)[16 - BEAT_SHIFT:], cmd_arg0_i[16:0], intbv(0)[BEAT_SHIFT:])
                        state.next = t_state.ECHO
        elif state == t_state.SESSION:
            if ses_req_valid_o and ses_req_ready_i:
                asked.next = True
            if ses_rsp_valid_i:
                status.next = ses_status
                charged.next = ses_req_op_o == SESSION_OPS.LOOKUP and ses_status == STATUS.OK
                profile.next = ses_rsp_profile_i
                if is_kv:
                    if ses_status == STATUS.OK and is_fetch and ses_rsp_state_i == SESSION_STATE.ARCHIVED:
                        refuse.next = STATUS.BAD_STATE
                    else:
                        refuse.next = ses_status
                    state.next = t_state.KV
                elif ses_status == STATUS.OK and (in_hepc or closing or (moving and (
                        arg0[STATE_BITS:] == SESSION_STATE.ARCHIVED or ses_rsp_state_i == SESSION_STATE.ARCHIVED))):
                    state.next = t_state.POLICY     # (to IDLE: a warm-up only from ARCHIVED, the state it left)
                else:
                    state.next = t_state.DONE
        elif state == t_state.ECHO:
            if move:
                remaining.next = remaining - 1
                if beat_last != last_beat:
                    framing_err.next = True
                if last_beat:
                    state.next = t_state.DONE
                    if starved:
                        status.next = STATUS.TIMEOUT
                    elif framing_err or beat_last != last_beat:
                        status.next = STATUS.BAD_ARG
                    else:
                        status.next = STATUS.OK
        elif state == t_state.POLICY:
            if pol_done_i:
                status.next = pol_status_i
                state.next = t_state.DONE
        elif state == t_state.KV:
            if kv_done_i:
                status.next = kv_status_i
                if starved:
                    status.next = STATUS.TIMEOUT
                nbytes.next = kv_bytes_i
                state.next = t_state.DONE
        else:  # DONE: post the completion once there is room
            if not cpl_full_i:
                state.next = t_state.IDLE

    @always_seq(clk_i.posedge, reset=rst_ni)
    def stream_timer():
        if state == t_state.IDLE:
            quiet.next = 0
            starved.next = False
        elif move or kv_rx_pop_i:
            quiet.next = 0
        elif not supply and ((state == t_state.ECHO and not tx_full_i) or (state == t_state.KV and kv_rx_ready_i)):
            # ready for a beat, and none of its own there
            if times_out and quiet >= quiet_limit:
                starved.next = True
            elif quiet != QUIET_MAX:
                quiet.next = quiet + 1

    return datapath, stream_supply, session_request, outputs, policy_request, control, stream_timer
