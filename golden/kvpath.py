"""Golden model of the die's KV path: KV_APPEND and KV_FETCH through the ChannelQuant codec.

KV_APPEND(session, layer, kv_head, block, n) takes n tokens' K then V (fp16, D per token) from
s_axis, codes them as one group each (the key group is the block, DESIGN §5; n < 32 is a partial
group) with the configuration in CQ_CTRL and the outlier ROM, stores the two images in the hot-tier
slot of the block's directory entry and enters the block (hot, accessed now, codec tier =
mode + 1) once the hot memory has acknowledged every word of the slot; a word that never
acknowledges makes it TIMEOUT (DMA_WATCHDOG) with nothing entered (STORE_TIMEOUTS).
KV_FETCH(session, layer, kv_head, block) accesses the block and streams the fp32
reconstruction, K then V. Status rules: golden/kv1_regs.py OPCODE docs. The hardware checks in the
same order as `append` here: tokens, codec configuration, directory, framing.

The fetch reads the slot from the tier the directory names (the data plane's moves, in
golden/data_plane.py, carry blocks between tiers) through the dma's FETCH channel (golden/dma.py):
when a word of the slot never answers (`silent`: (tier, word address) pairs) the DMA_WATCHDOG gives
up on it and the fetch completes TIMEOUT with a zero block; the block has been accessed (the access
comes first). So it does when the memory answers after the watchdog gives up (`timing`, a memory
slower than DMA_WATCHDOG: `late_answers`); those answers still come, are discarded by the dma and
counted (LATE_ANSWERS), and never reach a later transfer (golden/dma.py: tags).
"""
from dataclasses import dataclass, replace

import numpy as np

from golden import channelquant as cq
from golden import kv1_regs as R
from golden.rtbd import Entry
from golden.policy_engine import BLOCK_TOKENS, BLOCK_INDEX_BITS
from golden.layout import bounds

ROM_CHANNELS = 4            # outlier channels an entry holds (CQ_ROM_WRITE.CH0..CH3)
HEADER_BITS = 128           # a slot's header: the block describes itself
# the header's fields, LSB first (mode: the index in channelquant.MODES; channels: the first
# `outliers` of the block's outlier channels, 8 bits each, zeros above; the images' byte lengths;
# the codec profile id and version of the session that appended it)
HEADER_FIELDS = (("dim", 8), ("tokens", 6), ("mode", 2), ("outliers", 3), ("pad", 5),
                 ("channels", 8 * ROM_CHANNELS), ("key_bytes", 16), ("value_bytes", 16),
                 ("profile", 8), ("version", 8))


@dataclass(frozen=True)
class CodecConfig:
    mode: str
    dim: int
    outliers: tuple          # CQ-4+ outlier channels of the block ((), otherwise)


@dataclass
class StoredBlock:
    config: CodecConfig
    tokens: int
    key: cq.Group
    value: cq.Group
    profile: tuple = (0, 0)  # (codec profile id, version) of the session that appended it

    def image_bytes(self):
        return len(self.key.image()) + len(self.value.image())


def header_field(name):
    """(msb, lsb) of a header field: header[msb:lsb]."""
    return bounds(HEADER_FIELDS, name)


assert header_field(HEADER_FIELDS[-1][0])[0] <= HEADER_BITS


def header_words(params):
    return max(1, HEADER_BITS // (8 * params.cq_lanes))


def image_words(key_bytes, value_bytes, params):
    """Tier-port words (cq_lanes bytes each) of a slot holding images of these lengths: header,
    K image, V image, each word-aligned."""
    lanes = params.cq_lanes
    return header_words(params) + -(-key_bytes // lanes) + -(-value_bytes // lanes)


def slot_shift(params):
    """log2 of the tier-port words a slot spans: the header and the two largest images (CQ-8, a
    full block at the build's largest D)."""
    image = 2 * BLOCK_TOKENS + BLOCK_TOKENS * params.cq_dim
    return (image_words(image, image, params) - 1).bit_length()


def tier_addr_bits(params):
    """Word address bits of every tier port: a slot per directory entry."""
    return (params.dir_entries - 1).bit_length() + slot_shift(params)


def codec_params(params):
    """The die's codec instances: the key group is the block (DESIGN §5)."""
    return replace(params, cq_group=BLOCK_TOKENS)


def slot_words(blk, params):
    """Tier-port words a stored block occupies."""
    return image_words(len(blk.key.image()), len(blk.value.image()), params)


def slot_image(blk, params):
    """The tier-port words (cq_lanes bytes each, little-endian) of a stored block's slot: the
    header (HEADER_FIELDS) from word 0, then the K image, then the V image, each from a word
    boundary and zero-padded to one."""
    cfg = blk.config
    key, value = blk.key.image(), blk.value.image()
    fields = dict(dim=cfg.dim, tokens=blk.tokens, mode=cq.MODES.index(cfg.mode), outliers=len(cfg.outliers), pad=0,
                  channels=sum(c << 8 * i for i, c in enumerate(cfg.outliers)), key_bytes=len(key),
                  value_bytes=len(value), profile=blk.profile[0], version=blk.profile[1])
    header = sum(v << header_field(n)[1] for n, v in fields.items())
    lanes = params.cq_lanes
    words = [(header >> (8 * lanes * i)) & ((1 << 8 * lanes) - 1) for i in range(header_words(params))]
    for image in (key, value):
        words += to_beats(image, lanes)
    assert len(words) == slot_words(blk, params)
    return words


def zero_block(stored):
    """What a refused fetch streams: 32 tokens' K and V at CQ_CTRL.DIM, fp32 zeros."""
    return bytes(8 * BLOCK_TOKENS * stored[("CQ_CTRL", "DIM")])


def beats_for(nbytes, beat_bytes):
    return -(-nbytes // beat_bytes)


def to_beats(data: bytes, beat_bytes):
    """Little-endian beats of a byte string, the last one zero-padded."""
    data = data + bytes(-len(data) % beat_bytes)
    return [int.from_bytes(data[i:i + beat_bytes], "little") for i in range(0, len(data), beat_bytes)]


def channels_of(word):
    return tuple((word >> (8 * i)) & 0xFF for i in range(ROM_CHANNELS))


def kv_values(rng, tokens, dim, specials=True):
    """fp16 K and V ([2][tokens][dim]): Gaussian values at a random scale per channel, with
    zeros, subnormals, the largest fp16 values and exact zero tokens mixed in."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    x = nrng.standard_normal((2, tokens, dim)) * np.exp2(nrng.integers(-6, 6, size=(2, 1, dim)))
    x = x.astype(np.float16)
    if specials:
        flat = x.reshape(-1)
        picks = nrng.integers(0, flat.size, size=max(1, flat.size // 64))
        flat[picks] = nrng.choice(np.array([0.0, -0.0, 6e-8, -3e-6, 65504.0, -65504.0, 2.0**-14],
                                           np.float16), size=picks.size)
        if tokens > 2 and nrng.random() < 0.3:
            x[nrng.integers(0, 2), nrng.integers(0, tokens)] = 0
    return x


def in_time_watchdog(latency, interval):
    """The least DMA_WATCHDOG that a memory of this timing surely answers within (a margin over
    its latency and interval: the model cannot count the cycles in between)."""
    return 4 * max(latency, interval) + 64


class KvPath:
    def __init__(self, params, policy):
        self.params = params
        self.policy = policy
        self.rom = [0] * params.cq_rom_entries
        # per tier, directory entry index -> StoredBlock; KV_APPEND writes the hot tier
        self.tiers = {R.TIER.HOT: {}, R.TIER.WARM: {}, R.TIER.COLD: {}}
        self.slots = self.tiers[R.TIER.HOT]
        self.silent = set()   # (tier, word address): memory words that never answer
        self.touched = set()  # (tier, entry): slots a transfer has used, so they answered
        # tier -> (latency, interval) in cycles of the memories whose answers may come after the
        # watchdog (a bench's tier lines); a tier not named answers in time
        self.timing = {}
        self.late_wait = 0    # cycles until every late answer so far has come (a bench waits them)
        self.store_timeouts = 0   # appends the watchdog gave up on, refused ones too (each waited it out: a bench's polls allow for it)

    def answers_late(self, tier, words, stored):
        """Does `tier`'s memory answer a transfer of `words` words after DMA_WATCHDOG gives up on
        it? Decided with a margin either way (the reads go out one per `interval`, the first answer
        comes `latency` cycles after the first read); between the two it depends on cycles this
        model does not know, and it refuses."""
        watchdog = stored[("DMA_WATCHDOG", "CYCLES")]
        if tier not in self.timing or watchdog == 0:
            return False
        latency, interval = self.timing[tier]
        if watchdog >= in_time_watchdog(latency, interval):
            return False
        if latency > watchdog + words * interval + 16 and interval + 16 <= watchdog:
            return True
        raise ValueError(f"DMA_WATCHDOG {watchdog} is too close to the {R.TIER_NAMES[tier].lower()} memory's "
                         f"timing (latency {latency}, interval {interval}) to tell whether it answers a "
                         f"{words}-word transfer in time")

    def late_answers(self, tiers, index, words, stored):
        """Answers of a transfer of `words` words of entry `index`'s slot, between `tiers` (read,
        then written), that come after the watchdog gave up on it: every word's, read from a late
        source or acknowledged by a late destination; 0 when both answer in time."""
        slow = [t for t in tiers if t is not None and words and self.answers_late(t, words, stored)]
        if not slow or not words:
            return 0
        if self.meets_silence(tiers, index, words):
            raise ValueError(f"a transfer of entry {index} meets both a silent word and a late memory")
        latency, interval = self.timing[slow[0]]
        self.late_wait = max(self.late_wait, latency + words * interval + 16)
        return words

    def meets_silence(self, tiers, index, words):
        """A transfer of `words` words of entry `index`'s slot in `tiers` meets a silent word."""
        base = index << slot_shift(self.params)
        return any((t, a) in self.silent for t in tiers for a in range(base, base + words))

    def touch(self, tiers, index, words):
        if words:
            self.touched.update((t, index) for t in tiers)

    # ------------------------------------------------------------ configuration
    def config(self, stored, layer, kv_head):
        """The codec configuration an append at (layer, kv_head) samples; None when refused."""
        p = self.params
        mode, k = stored[("CQ_CTRL", "MODE")], stored[("CQ_CTRL", "OUTLIERS")]
        head_bits, dim = stored[("CQ_CTRL", "HEAD_BITS")], stored[("CQ_CTRL", "DIM")]
        if mode >= len(cq.MODES) or dim == 0 or dim > p.cq_dim or dim % p.cq_lanes:
            return None
        if cq.MODES[mode] != "CQ4plus":
            return CodecConfig(cq.MODES[mode], dim, ())
        index = layer << head_bits | kv_head
        if k > p.cq_outliers or k >= dim or kv_head >> head_bits or index >= len(self.rom):
            return None
        chans = channels_of(self.rom[index])[:k]
        if any(c >= dim for c in chans) or any(a >= b for a, b in zip(chans, chans[1:])):
            return None
        return CodecConfig("CQ4plus", dim, chans)

    def append_beats(self, tokens, stored):
        """Beats a KV_APPEND of `tokens` tokens consumes; None when the count is refused."""
        if not 1 <= tokens <= BLOCK_TOKENS:
            return None
        return beats_for(4 * tokens * stored[("CQ_CTRL", "DIM")], self.params.axis_bytes)

    # ------------------------------------------------------------------ commands
    def append(self, session, block, layer, kv_head, tokens, beats, framing_err, stored, profile=(0, 0)):
        """A KV_APPEND whose beats have all been consumed; `profile` is the session's (codec
        profile id, version), which the header keeps. -> (status, bytes, events): events are
        (perf event, amount)."""
        cfg = self.config(stored, layer, kv_head)
        if cfg is None or block >> BLOCK_INDEX_BITS:
            return R.STATUS.BAD_ARG, 0, []
        d = self.policy.dir
        if d.lookup(session, layer, kv_head, block) is not None:
            return R.STATUS.BAD_ARG, 0, []
        s = d.set_of(session, layer, kv_head, block)
        if not d.has_room(s, session):
            return R.STATUS.DIR_FULL, 0, []
        # the codec runs before the framing and the values are checked, so its traffic counts
        raw = b"".join(b.to_bytes(self.params.axis_bytes, "little") for b in beats)
        n_values = tokens * cfg.dim
        x = np.frombuffer(raw[:4 * n_values], "<f2").reshape(2, tokens, cfg.dim)
        k = len(cfg.outliers)
        events = [("KV_BYTES_IN", 4 * n_values),
                  ("KV_BYTES_STORED", cq.image_bytes(tokens, cfg.dim, "key", cfg.mode, k)
                   + cq.image_bytes(tokens, cfg.dim, "value", cfg.mode, k))]
        index = s * d.ways + int(d.free_ways(s)[0])      # the way the insert takes: the slot written
        if framing_err or not np.isfinite(x).all():
            # the images are written all the same (their lengths do not depend on the values), and
            # the append waits for their acknowledges: a silent word is waited out (the watchdog)
            written = image_words(cq.image_bytes(tokens, cfg.dim, "key", cfg.mode, k),
                                  cq.image_bytes(tokens, cfg.dim, "value", cfg.mode, k), self.params)
            if self.meets_silence((R.TIER.HOT,), index, written):
                if not stored[("DMA_WATCHDOG", "CYCLES")]:
                    raise ValueError(f"an append into entry {index}'s silent slot with the watchdog off never ends")
                self.store_timeouts += 1
            return R.STATUS.BAD_ARG, 0, events
        blk = StoredBlock(cfg, tokens, cq.encode_group(x[0], "key", cfg.mode, cfg.outliers),
                          cq.encode_group(x[1], "value", cfg.mode, cfg.outliers), profile)
        # durable: the append completes once the hot memory acknowledged every word of the slot
        words = slot_words(blk, self.params)
        if self.answers_late(R.TIER.HOT, words, stored):
            raise ValueError("an append into a hot memory slower than DMA_WATCHDOG is not modelled")
        if self.meets_silence((R.TIER.HOT,), index, words):
            if not stored[("DMA_WATCHDOG", "CYCLES")]:
                raise ValueError(f"an append into entry {index}'s silent slot with the watchdog off never ends")
            self.store_timeouts += 1
            return R.STATUS.TIMEOUT, 0, events + [("STORE_TIMEOUTS", 1)]
        self.touch((R.TIER.HOT,), index, words)
        start = block * BLOCK_TOKENS
        i = d.insert(Entry(session=session, layer=layer, kv_head=kv_head, token_start=start,
                           token_end=start + BLOCK_TOKENS - 1, tier=R.TIER.HOT,
                           codec_tier=cq.MODES.index(cfg.mode) + 1))
        self.policy.hepc.access(i)
        self.slots[i] = blk
        return R.STATUS.OK, 4 * n_values, events

    def fetch(self, session, block, layer, kv_head, stored, profile=(0, 0)):
        """A KV_FETCH of `session`'s block for a session of codec `profile` (id, version).
        -> (status, output bytes, events, words read from the tier). A block whose header names
        another profile was read (accessed, its slot's words counted) but is not decoded: a zero
        block and BAD_STATE."""
        d = self.policy.dir
        i = None if block >> BLOCK_INDEX_BITS else d.lookup(session, layer, kv_head, block)
        if i is None or not d.codec_tier[i]:
            status = R.STATUS.NOT_FOUND if i is None else R.STATUS.BAD_STATE
            if block >> BLOCK_INDEX_BITS:
                status = R.STATUS.BAD_ARG
            return status, zero_block(stored), [], 0
        events = [("DIR_HITS" if d.tier[i] == R.TIER.HOT else "DIR_MISSES", 1)]
        self.policy.hepc.access(i)
        tier = int(d.tier[i])
        blk = self.tiers[tier][i]
        words = slot_words(blk, self.params)
        late = self.late_answers((tier,), i, words, stored)
        if late:
            return R.STATUS.TIMEOUT, zero_block(stored), events + [("FETCH_TIMEOUTS", 1), ("LATE_ANSWERS", late)], 0
        if self.meets_silence((tier,), i, words):
            if not stored[("DMA_WATCHDOG", "CYCLES")]:
                raise ValueError(f"a fetch of entry {i} from a silent slot with the watchdog off never ends")
            return R.STATUS.TIMEOUT, zero_block(stored), events + [("FETCH_TIMEOUTS", 1)], 0
        self.touch((tier,), i, words)
        events += [(f"FETCH_{R.TIER_NAMES[tier]}", 1), ("FETCH_WORDS", words)]
        if blk.profile != tuple(profile):
            return R.STATUS.BAD_STATE, zero_block(stored), events, words
        y = np.concatenate([cq.decode_group(blk.key), cq.decode_group(blk.value)])
        out = y.astype("<f4").tobytes()
        events += [("FETCH_BYTES_READ", blk.image_bytes()), ("FETCH_BYTES_OUT", len(out))]
        return R.STATUS.OK, out, events, words
