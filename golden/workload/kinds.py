"""The workload kinds: which scenarios each replays (`build`)."""
from golden.workload.driver import WorkloadError, Workload
from golden.workload.scenarios.frame import directed, random_accesses
from golden.workload.scenarios.hepc import (policy_directed, policy_commands, DECODE_SIM, decode_replay,
                                            mooncake_replay)
from golden.workload.scenarios.kvpath import codec_directed, block_fetch_directed, codec_commands
from golden.workload.scenarios.dma import late_answers
from golden.workload.scenarios.session import (session_directed, close_sweep, codec_profiles, reference_attacks,
                                              stream_ownership, archive_warm_up, quota_attacks,
                                              qos_accounting)


KINDS = ("frame", "directed", "random", "policy", "decode", "mooncake", "codec", "main", "all")
MAIN_CODEC_COMMANDS = 100
# frame: directed + random; policy: policy_directed + policy_commands; decode: decode_replay
# (ops = steps); mooncake: mooncake_replay (ops = requests); codec: codec_directed,
# block_fetch_directed, session_directed, close_sweep, codec_profiles, reference_attacks, stream_ownership,
# archive_warm_up, quota_attacks, qos_accounting and codec_commands; main (the main job): decode_replay (ops = steps), then
# codec_directed, block_fetch_directed, session_directed, close_sweep, codec_profiles,
# reference_attacks, stream_ownership, archive_warm_up, quota_attacks, qos_accounting, late_answers and
# MAIN_CODEC_COMMANDS
# codec_commands; all: every scenario (ops each, decode 32 steps)


def build(kind, params, ops, seed, delays=True, tiers=None):
    w = Workload(params, seed=seed, delays=delays, tiers=tiers)
    if kind not in KINDS:
        raise WorkloadError(f"unknown workload kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind in ("decode", "main") and ops > DECODE_SIM.steps:
        raise WorkloadError(f"the decode trace has {DECODE_SIM.steps} steps; kind {kind} replays ops = {ops} of them")
    if kind in ("frame", "directed", "all"):
        directed(w)
    if kind in ("frame", "random", "all"):
        random_accesses(w, ops)
    if kind in ("policy", "all"):
        policy_directed(w)
        policy_commands(w, ops)
    if kind in ("decode", "main"):
        decode_replay(w, ops)
    if kind == "main":
        codec_directed(w)
        block_fetch_directed(w)
        session_directed(w)
        close_sweep(w)
        codec_profiles(w)
        reference_attacks(w)
        stream_ownership(w)
        archive_warm_up(w)
        quota_attacks(w)
        qos_accounting(w)
        late_answers(w)
        codec_commands(w, MAIN_CODEC_COMMANDS)
    if kind == "mooncake":
        mooncake_replay(w, ops)
    if kind in ("codec", "all"):
        codec_directed(w)
        block_fetch_directed(w)
        session_directed(w)
        close_sweep(w)
        codec_profiles(w)
        reference_attacks(w)
        stream_ownership(w)
        archive_warm_up(w)
        quota_attacks(w)
        qos_accounting(w)
        codec_commands(w, ops)
    if kind == "all":
        decode_replay(w, 32)
    return w


DEFAULT_OPS = 20000  # the main job's random register operations
DEFAULT_SEED = 1
