"""Workload files: what the `sim` target, the MyHDL bench and the co-simulation replay.

A workload is a text file, one operation a line, with its expected results computed
by the golden model as the file is written:

    kv1-workload 1
    set <param set>
    tier <name> latency interval                      the memory behind a tier port (before the
                                                      operations): a read is answered `latency`
                                                      cycles after its request is accepted, and
                                                      each direction accepts one word per
                                                      `interval` cycles. Without the line: 1 1
    silent <name> addr                                a word of that memory that never answers
                                                      (before the operations): a read of it is
                                                      taken and never answered, a write dropped
    W addr data strb resp aw_delay w_delay b_delay    AXI4-Lite write, expect resp
    R addr data mask resp ar_delay r_delay            read, expect (rdata & mask) == data
    P addr data mask max_reads                        read until (rdata & mask) == data
    S data last delay                                 queue a beat for s_axis, offered `delay`
                                                      cycles after it reaches the head, with
                                                      s_axis_tuser = the U line's domain
    E data last delay                                 expect a beat on m_axis; tready rises
                                                      `delay` cycles after it reaches the head
    Q max_cycles                                      wait until all S beats are taken and all
                                                      E beats have arrived
    I level                                           expect irq_o == level
    C cycles                                          idle
    F tier addr                                       from now on, word addr of the memory behind
                                                      tier port `tier` (its TIER code) never
                                                      answers, like a silent line
    U domain                                          from now on, W lines carry s_axil_awuser,
                                                      S lines s_axis_tuser and R and P lines
                                                      s_axil_aruser = domain (the
                                                      requester domain; 0 before the first U line)
    end operations checksum                           the last line: the number of operation
                                                      lines (W R P S E Q I C F U) and the CRC-32
                                                      (hex) of every byte before this line. A
                                                      bench refuses a file without it, or whose
                                                      count or checksum is not the file's (cut
                                                      short, or edited: `seal` writes it anew)

Numbers are hexadecimal for addr/data/mask/strb and F's fields, decimal otherwise. S, E, F and U
lines take no time; S and E feed stream engines that run beside the register operations. Every
field has a range (field_ranges, below): addresses within the BAR, data and masks 32 bits, beats the
set's stream width, delays up to 65,535 cycles, waits (Q, C) and poll reads up to 10^9. The
benches also stop a replay that runs past their cycle limit (10^9 by default), or whose streams
have not drained 4,096 cycles after its last operation (E beats that never come). Both benches
refuse a malformed file with the same one-line message and exit code 2 (docs/workloads.md).

    python -m sim.workload --kind frame --ops 2000 --seed 1 --out build/frame.wl
"""
import math
import string
import zlib
from dataclasses import dataclass

from golden.dma import TIERS
from golden.kv1_regs import ADDR_WIDTH, DATA_WIDTH
from golden.params import PARAM_SETS
from golden.session import WIDTH as SESSION_FIELD_WIDTH

DOMAIN_BITS = SESSION_FIELD_WIDTH["domain"]   # s_axil_awuser

MAGIC = "kv1-workload 1"
END = "end"
OPERATIONS = tuple("WRPSEQICFU")   # the kinds of operation line (the rest are header lines)


def end_line(body):
    """The end line of a workload whose lines before it are `body` (text ending in a newline)."""
    count = sum(1 for line in body.splitlines() if line.split("#", 1)[0].split()[:1] in [[k] for k in OPERATIONS])
    return f"{END} {count} {zlib.crc32(body.encode()):08x}"


def seal(text):
    """`text` with its end line written anew (dropped first if it has one): for a file edited on
    purpose, as the tests that break a workload do."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].split()[:1] == [END]:
        lines.pop()
    body = "\n".join(lines) + "\n"
    return body + end_line(body) + "\n"


# The memory behind each tier port (DESIGN §1, issue 5): access latency in seconds and bandwidth
# in bytes/s. HBM class; CXL DRAM (about 2 us, a x16 link); NVMe (about 100 us, a Gen4 x4 drive).
TIER_MEMORY = {"hot": (100e-9, 400e9), "warm": (2e-6, 64e9), "cold": (100e-6, 7e9)}


# the die's tier ports are the dma's (docs/data_plane.md); a workload header gives each memory's timing
DIE_TIERS = TIERS


def tier_timing(params, tier):
    """(latency, interval) of `tier`'s memory in cycles of the set's clock, one port word
    (cq_lanes bytes) per interval."""
    latency_s, bytes_per_s = TIER_MEMORY[tier]
    hz = params.clock_mhz * 1e6
    return (max(1, math.ceil(latency_s * hz - 1e-6)),
            max(1, math.ceil(params.cq_lanes * hz / bytes_per_s - 1e-6)))
# short tier latencies for MyHDL and Icarus runs, which check the ports' protocol, not the
# timing (a cold move at the default timing alone is 10,000 cycles at the sim clock)
QUICK_TIERS = {"hot": (4, 1), "warm": (16, 1), "cold": (40, 2)}

# ----------------------------------------------------------------- the reader
MAX_TIER_CYCLES = 10**9    # the largest tier latency or interval a workload may state
MAX_DELAY = 65535          # the largest handshake delay of a W, R, S or E line
MAX_WAIT = 10**9           # the largest Q, C wait and P read count
_NAMES = {"W": ("addr", "data", "strb", "resp", "aw_delay", "w_delay", "b_delay"),
          "R": ("addr", "data", "mask", "resp", "ar_delay", "r_delay"),
          "P": ("addr", "data", "mask", "max_reads"), "S": ("data", "last", "delay"),
          "E": ("data", "last", "delay"), "Q": ("max_cycles",), "I": ("level",), "C": ("cycles",),
          "F": ("tier", "addr"), "U": ("domain",)}
_FIELDS = {k: len(v) for k, v in _NAMES.items()}
_HEX = {"W": 3, "R": 3, "P": 3, "S": 1, "E": 1, "F": 2}  # leading hexadecimal fields per kind


def field_ranges(kind, beat_bits):
    """(lowest, highest) of each field of an operation line of `kind`."""
    word, delay = (0, (1 << DATA_WIDTH) - 1), (0, MAX_DELAY)
    addr, bit = (0, (1 << ADDR_WIDTH) - 1), (0, 1)
    beat = (0, (1 << beat_bits) - 1)
    return {"W": (addr, word, (0, 15), (0, 3), delay, delay, delay),
            "R": (addr, word, word, (0, 3), delay, delay),
            "P": (addr, word, word, (1, MAX_WAIT)), "S": (beat, bit, delay), "E": (beat, bit, delay),
            "Q": ((1, MAX_WAIT),), "I": (bit,), "C": ((0, MAX_WAIT),),
            "F": ((0, len(DIE_TIERS) - 1), (0, (1 << 32) - 1)), "U": ((0, (1 << DOMAIN_BITS) - 1),)}[kind]


class WorkloadFormatError(ValueError):
    pass


@dataclass
class Op:
    kind: str
    args: tuple
    line: int


def _header_tier(no, words, usage, ops):
    """The checks every header line naming a tier port shares (`words[0]` its keyword, `usage`
    its fields in words); -> the tier's name."""
    if len(words) != len(usage) + 1:
        raise WorkloadFormatError(f"line {no}: '{words[0]}' takes {', '.join(usage[:-1])} and {usage[-1]}")
    name = words[1]
    if name not in DIE_TIERS:
        raise WorkloadFormatError(f"line {no}: the die has no {name!r} tier port (it has {', '.join(DIE_TIERS)})")
    if ops:
        raise WorkloadFormatError(f"line {no}: '{words[0]}' lines come before the operations")
    return name


def _tier_line(no, words, tiers, ops):
    name = _header_tier(no, words, ("a name", "a latency", "an interval"), ops)
    if name in tiers:
        raise WorkloadFormatError(f"line {no}: tier {name} given twice")
    if not all(w.isdigit() and 1 <= int(w) <= MAX_TIER_CYCLES for w in words[2:]):
        raise WorkloadFormatError(f"line {no}: tier latency and interval are whole cycles, 1 to {MAX_TIER_CYCLES}")
    tiers[name] = (int(words[2]), int(words[3]))


def _silent_line(no, words, silent, ops):
    name = _header_tier(no, words, ("a tier name", "a word address"), ops)
    if words[2].strip(string.hexdigits):
        raise WorkloadFormatError(f"line {no}: bad word address '{words[2]}'")
    addr = int(words[2], 16)
    if addr >> 32:
        raise WorkloadFormatError(f"line {no}: word address {words[2]} beyond 32 bits")
    silent.setdefault(name, set()).add(addr)


def _end_line(no, words, ops, body):
    """The checks of the end line (line `no`, after the text `body`)."""
    if len(words) != 3 or not words[1].isdigit() or len(words[2]) != 8 or words[2].strip(string.hexdigits):
        raise WorkloadFormatError(f"line {no}: 'end' takes the operation count and an 8-digit hex checksum")
    if int(words[1]) != len(ops):
        raise WorkloadFormatError(f"line {no}: 'end' counts {int(words[1])} operations, the file has {len(ops)}")
    crc = zlib.crc32(body.encode())
    if int(words[2], 16) != crc:
        raise WorkloadFormatError(f"line {no}: checksum {crc:08x}, 'end' says {words[2]}: the file was changed")


def parse(text, model_set=None):
    """-> (parameter set name, [Op], {tier: (latency, interval)}, {tier: silent word addresses});
    raises WorkloadFormatError naming the line. `model_set`: the set of the model that is to
    replay it (a Verilator model is built for one), refused on the set line when it differs."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != MAGIC:
        raise WorkloadFormatError(f"line 1: expected '{MAGIC}'")
    set_name, ops, tiers, silent, ended = None, [], {}, {}, None
    offset = len(lines[0]) + 1           # characters before the line at hand (the checksum is of their bytes)
    for no, raw in enumerate(lines[1:], start=2):
        start, offset = offset, offset + len(raw) + 1
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if ended:
            raise WorkloadFormatError(f"line {no}: nothing may follow the 'end' line (line {ended})")
        if words[0] == END:
            _end_line(no, words, ops, text[:start])
            ended = no
            continue
        if words[0] == "set":
            if len(words) != 2:
                raise WorkloadFormatError(f"line {no}: 'set' takes one name")
            if set_name is not None or ops:
                raise WorkloadFormatError(f"line {no}: one 'set' line, before the operations")
            if words[1] not in PARAM_SETS:
                raise WorkloadFormatError(f"line {no}: no parameter set {words[1]!r} "
                                          f"(the sets are {', '.join(sorted(PARAM_SETS))})")
            if model_set is not None and words[1] != model_set:
                raise WorkloadFormatError(f"line {no}: set {words[1]}: this model is built for set {model_set}")
            set_name = words[1]
            continue
        if words[0] == "tier":
            _tier_line(no, words, tiers, ops)
            continue
        if words[0] == "silent":
            _silent_line(no, words, silent, ops)
            continue
        kind = words[0]
        if kind not in _FIELDS:
            raise WorkloadFormatError(f"line {no}: unknown operation {kind!r}")
        if set_name is None:
            raise WorkloadFormatError(f"line {no}: the 'set' line comes before the operations")
        if len(words) - 1 != _FIELDS[kind]:
            raise WorkloadFormatError(f"line {no}: {kind} takes {_FIELDS[kind]} fields, got {len(words) - 1}")
        nhex = _HEX.get(kind, 0)
        if any(w.startswith("-") for w in words[1:]):
            raise WorkloadFormatError(f"line {no}: negative field")
        digits = [string.hexdigits] * nhex + [string.digits] * (len(words) - 1 - nhex)
        if any(not w or w.strip(d) for w, d in zip(words[1:], digits)):
            raise WorkloadFormatError(f"line {no}: bad number in '{raw.split('#', 1)[0].strip()}'")
        args = tuple(int(w, 16) for w in words[1:1 + nhex]) + tuple(int(w, 10) for w in words[1 + nhex:])
        beat_bits = 8 * PARAM_SETS[set_name].axis_bytes
        for k, (a, (lo, hi)) in enumerate(zip(args, field_ranges(kind, beat_bits))):
            if not lo <= a <= hi:
                show = (lambda v: f"{v:x}") if k < nhex else str
                raise WorkloadFormatError(f"line {no}: {kind} {_NAMES[kind][k]} {words[1 + k]} out of range "
                                          f"({show(lo)} to {show(hi)})")
        ops.append(Op(kind, args, no))
    if set_name is None:
        raise WorkloadFormatError("no 'set' line")
    if not ended:
        raise WorkloadFormatError("no 'end' line: the file is cut short")
    return set_name, ops, tiers, silent
