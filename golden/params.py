"""The parameter sets (DESIGN §7): one description drives elaboration, golden and tests."""
from dataclasses import dataclass, asdict


@dataclass(frozen=True)
class ParamSet:
    name: str
    set_id: int            # reported in the PARAMS register
    axis_bytes: int        # AXI4-Stream beat width in bytes (s_axis / m_axis)
    cmdq_depth: int        # command queue entries (doorbell writes beyond this answer SLVERR)
    cplq_depth: int        # completion queue entries (the engine stalls, never drops)
    axis_fifo_depth: int   # ingress and egress stream FIFO entries
    clock_mhz: float       # target clock of the set, used by synthesis and sign-off constraints
    dir_entries: int       # directory entries (DESIGN §3): hashed, set-associative
    dir_ways: int          # ways per set = memory banks the HEPC scan reads in parallel
    hint_slots: int        # PREFETCH hints held at once
    decode_slots: int      # sessions in DECODE tracked for the HEPC guard
    sessions: int          # session table entries (DESIGN §6): hashed, four ways
    policy_queue_depth: int  # evict and prefetch queue entries each
    cq_lanes: int          # ChannelQuant codec: fp16 values per cycle in (a power of two)
    cq_dim: int            # codec build limit on D (head dim); D is a register, a multiple of lanes
    cq_group: int          # codec build limit on G (tokens per key group)
    cq_outliers: int       # CQ-4+ outlier channels at most (k is a register, default 2)
    cq_rom_entries: int    # outlier ROM entries, one per (layer, head)

    @property
    def dir_sets(self) -> int:
        return self.dir_entries // self.dir_ways

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    def as_dict(self):
        return asdict(self)


PARAM_SETS = {
    "sim": ParamSet("sim", set_id=0, axis_bytes=8, cmdq_depth=4, cplq_depth=4,
                    axis_fifo_depth=4, clock_mhz=100.0, dir_entries=64, dir_ways=4, hint_slots=8,
                    decode_slots=4, sessions=16, policy_queue_depth=8,
                    cq_lanes=8, cq_dim=128, cq_group=128, cq_outliers=4, cq_rom_entries=16),
    "fpga": ParamSet("fpga", set_id=1, axis_bytes=64, cmdq_depth=16, cplq_depth=16,
                     axis_fifo_depth=8, clock_mhz=250.0, dir_entries=4096, dir_ways=8, hint_slots=8,
                     decode_slots=16, sessions=256, policy_queue_depth=16,
                     cq_lanes=32, cq_dim=128, cq_group=128, cq_outliers=4, cq_rom_entries=256),
    "asic": ParamSet("asic", set_id=2, axis_bytes=64, cmdq_depth=32, cplq_depth=32,
                     axis_fifo_depth=8, clock_mhz=1000.0, dir_entries=65536, dir_ways=16, hint_slots=8,
                     decode_slots=32, sessions=4096, policy_queue_depth=32,
                     cq_lanes=32, cq_dim=128, cq_group=128, cq_outliers=4, cq_rom_entries=1024),
}


def get(name: str) -> ParamSet:
    try:
        return PARAM_SETS[name]
    except KeyError:
        raise ValueError(f"unknown parameter set {name!r}; choose one of {sorted(PARAM_SETS)}") from None
