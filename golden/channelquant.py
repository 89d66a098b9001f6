"""Golden model of the ChannelQuant KV codec (DESIGN §5): CQ-8, CQ-4 and CQ-4+.

Symmetric integer codes, no zero point. A scale is s = fp16(amax / qmax) rounded half to even
from the exact quotient (0x0400 = 2^-14 when the quotient is below 2^-14 or the unit is all
zero); a code is q = clamp(round_half_even(x / s), qmin, qmax) with the exact quotient by the
fp16 s; the reconstruction q * s is an exact fp32.

Exactness with float64. Scale: amax has 11 significant bits and qmax is 7 or 127, so amax/qmax is
never an fp16 tie (7 or 127 times a 12-bit odd mantissa has more than 11 bits) and lies at least
2^-17 (relative) from one, far above float64's 2^-53: rounding the float64 quotient to fp16 gives
the exactly rounded scale. Codes: x and s have 11-bit mantissas, so where it matters (|x/s| below
the clamp) x - (j + 1/2) s is zero or at least 2^-22 relative: float64's x / s then rounds to the
same integer, half-way ties included, as the exact quotient. tests/test_channelquant.py checks
both claims exhaustively against Python's exact Fractions.

The codec works on groups: a key group is G tokens (one block in the die); value and CQ-8 key
scales are per token, so their groups only bound the buffer. The block image of one group is
    scales (fp16, little endian) | sidecar (fp16 [g][k]) | payload (packed codes)
which keeps a block self-contained. Concatenating the groups' sections gives the contract arrays
of DESIGN §5 (and the published vectors): payload group after group, scales, sidecar [T][k].
"""
from dataclasses import dataclass

import numpy as np

MODES = ("CQ8", "CQ4", "CQ4plus")
KINDS = ("key", "value")
SCALE_MIN = np.float16(2.0 ** -14)      # 0x0400
DEFAULT_OUTLIERS = 2                   # k of CQ-4+ (DESIGN §5)


@dataclass(frozen=True)
class Format:
    """How one kind of tensor is coded in one mode."""
    bits: int            # 4 or 8
    per_channel: bool    # one scale per keep channel over the group (keys, CQ-4/4+)

    @property
    def qmax(self):
        return (1 << (self.bits - 1)) - 1

    @property
    def qmin(self):
        return -(1 << (self.bits - 1))


def format_of(kind: str, mode: str) -> Format:
    if mode not in MODES:
        raise ValueError(f"unknown ChannelQuant mode {mode!r}; choose one of {MODES}")
    if kind not in KINDS:
        raise ValueError(f"unknown tensor kind {kind!r}; choose one of {KINDS}")
    if mode == "CQ8":
        return Format(8, False)
    return Format(4, kind == "key")


def as_fp16(x) -> np.ndarray:
    """The codec's input: fp16 values, finite (an inf or NaN has no scale)."""
    x = np.asarray(x)
    if x.dtype != np.float16:
        raise ValueError(f"ChannelQuant takes float16 input, got {x.dtype}")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"ChannelQuant input is not finite at {tuple(int(i) for i in bad)}")
    return x


def scale_of(amax, qmax: int) -> np.ndarray:
    """fp16 scale(s) for fp16 amax value(s): round_half_even(amax / qmax), 2^-14 below that."""
    q = np.asarray(amax, dtype=np.float16).astype(np.float64) / qmax
    s = q.astype(np.float16)
    return np.where(q < 2.0 ** -14, SCALE_MIN, s).astype(np.float16)


def quantise(x, s, fmt: Format) -> np.ndarray:
    """int8 codes of fp16 x by fp16 scale(s) s (broadcast)."""
    q = np.rint(np.asarray(x, np.float16).astype(np.float64)
                / np.asarray(s, np.float16).astype(np.float64))
    return np.clip(q, fmt.qmin, fmt.qmax).astype(np.int8)


def dequantise(codes, s) -> np.ndarray:
    """Exact fp32 q * s; code 0 gives +0.0."""
    r = np.asarray(codes).astype(np.float32) * np.asarray(s, np.float16).astype(np.float32)
    return r + np.float32(0.0)          # -0.0 + 0.0 = +0.0


def pack(codes, bits: int) -> np.ndarray:
    """Codes as bytes: INT8 two's complement; INT4 element 2i in [3:0], 2i+1 in [7:4], odd tail
    padded with 0."""
    c = np.asarray(codes, np.int8).ravel()
    if bits == 8:
        return c.view(np.uint8).copy()
    n = c.astype(np.uint8) & 0xF
    if n.size % 2:
        n = np.append(n, np.uint8(0))
    return (n[0::2] | (n[1::2] << 4)).astype(np.uint8)


def unpack(payload, bits: int, count: int) -> np.ndarray:
    """The first `count` codes of a packed payload, as int8."""
    p = np.asarray(payload, np.uint8)
    if bits == 8:
        need = count
    else:
        need = (count + 1) // 2
    if p.size < need:
        raise ValueError(f"payload holds {p.size} bytes; {count} INT{bits} codes need {need}")
    if bits == 8:
        return p[:count].view(np.int8).copy()
    n = np.empty(2 * need, np.uint8)
    n[0::2], n[1::2] = p[:need] & 0xF, p[:need] >> 4
    return ((n[:count].astype(np.int16) ^ 8) - 8).astype(np.int8)


def _outlier_split(D: int, outliers):
    out = np.asarray(sorted(int(c) for c in outliers), dtype=np.int64)
    if len(set(out.tolist())) != out.size or (out.size and (out[0] < 0 or out[-1] >= D)):
        raise ValueError(f"outlier channels {list(outliers)} must be distinct channels of 0..{D - 1}")
    if out.size >= D:
        raise ValueError(f"{out.size} outlier channels leave no INT4 channel of D = {D}")
    keep = np.setdiff1d(np.arange(D), out)
    return out, keep


@dataclass
class Group:
    """The coded sections of one group (g tokens of D channels)."""
    fmt: Format
    outliers: np.ndarray  # outlier channels, ascending ([] unless CQ-4+ keys)
    scales: np.ndarray    # fp16: [g] per token, or [D - k] per keep channel
    sidecar: np.ndarray   # fp16 [g][k]
    codes: np.ndarray     # int8 [g][D - k] (keep channels)

    @property
    def payload(self) -> np.ndarray:
        return pack(self.codes, self.fmt.bits)

    def image(self) -> bytes:
        return (self.scales.astype("<f2").tobytes() + self.sidecar.astype("<f2").tobytes()
                + self.payload.tobytes())


def image_bytes(tokens: int, D: int, kind: str, mode: str, k: int = 0) -> int:
    """Length of the block image of a group of `tokens` tokens."""
    fmt = format_of(kind, mode)
    k = k if (mode == "CQ4plus" and kind == "key") else 0
    scales = D - k if fmt.per_channel else tokens
    codes = tokens * (D - k)
    return 2 * scales + 2 * tokens * k + (codes * fmt.bits + 7) // 8


def encode_group(x, kind: str, mode: str, outliers=()) -> Group:
    """Code one group x (fp16 [g][D]). Outlier channels apply to CQ-4+ keys only."""
    x = as_fp16(x)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"a group is a non-empty [tokens][D] array, got shape {x.shape}")
    fmt = format_of(kind, mode)
    D = x.shape[1]
    if mode == "CQ4plus" and kind == "key":
        out, keep = _outlier_split(D, outliers)
    else:
        out, keep = np.zeros(0, np.int64), np.arange(D)
    xk = x[:, keep]
    if fmt.per_channel:
        s = scale_of(np.abs(xk).max(axis=0), fmt.qmax)          # [D - k]
        codes = quantise(xk, s[None, :], fmt)
    else:
        s = scale_of(np.abs(xk).max(axis=1), fmt.qmax)          # [g]
        codes = quantise(xk, s[:, None], fmt)
    return Group(fmt, out, s, x[:, out].copy(), codes)


def decode_group(grp: Group) -> np.ndarray:
    """fp32 [g][D] reconstruction of a coded group."""
    g, kept = grp.codes.shape
    D = kept + grp.outliers.size
    keep = np.setdiff1d(np.arange(D), grp.outliers)
    s = grp.scales[None, :] if grp.fmt.per_channel else grp.scales[:, None]
    y = np.empty((g, D), np.float32)
    y[:, keep] = dequantise(grp.codes, s)
    y[:, grp.outliers] = grp.sidecar.astype(np.float32)
    return y


def parse_image(image: bytes, tokens: int, D: int, kind: str, mode: str, outliers=()) -> Group:
    """The sections of a block image (the inverse of Group.image)."""
    fmt = format_of(kind, mode)
    out = _outlier_split(D, outliers)[0] if (mode == "CQ4plus" and kind == "key") \
        else np.zeros(0, np.int64)
    k = out.size
    want = image_bytes(tokens, D, kind, mode, k)
    if len(image) != want:
        raise ValueError(f"a {kind} {mode} image of {tokens} tokens x {D} (k = {k}) is {want} bytes, "
                         f"got {len(image)}")
    buf = np.frombuffer(image, np.uint8)
    n_scales = D - k if fmt.per_channel else tokens
    scales = buf[:2 * n_scales].view("<f2").astype(np.float16)
    at = 2 * n_scales
    sidecar = buf[at:at + 2 * tokens * k].view("<f2").astype(np.float16).reshape(tokens, k)
    at += 2 * tokens * k
    codes = unpack(buf[at:], fmt.bits, tokens * (D - k)).reshape(tokens, D - k)
    return Group(fmt, out, scales, sidecar, codes)


def encode(K, V, G: int, mode: str, outliers=()) -> dict:
    """The contract arrays of DESIGN §5 for keys K and values V (fp16 [T][D]), key group size G;
    keys and names as in the published vectors."""
    K, V = as_fp16(K), as_fp16(V)
    if K.shape != V.shape or K.ndim != 2:
        raise ValueError(f"K and V must be [T][D] of one shape, got {K.shape} and {V.shape}")
    if G < 1:
        raise ValueError(f"group size G must be at least 1, got {G}")
    T, D = K.shape
    out = _outlier_split(D, outliers)[0] if mode == "CQ4plus" else np.zeros(0, np.int64)
    kg = [encode_group(K[t:t + G], "key", mode, out) for t in range(0, T, G)]
    vg = encode_group(V, "value", mode)
    mask = np.zeros(D, np.uint8)
    mask[out] = 1
    return {
        "key_payload": np.concatenate([g.payload for g in kg]),
        "key_scales": np.concatenate([g.scales for g in kg]),
        "val_payload": vg.payload,
        "val_scales": vg.scales,
        "outlier_idx": out,
        "outlier_bitmask": mask,
        "sidecar": np.concatenate([g.sidecar for g in kg]),
        "expected_K_hat": np.concatenate([decode_group(g) for g in kg]),
        "expected_V_hat": decode_group(vg),
    }


def calibrate_outliers(K, k: int = DEFAULT_OUTLIERS) -> np.ndarray:
    """Static outlier channels of one (layer, head): the k channels of largest amax over a
    calibration set of keys, ascending (the ROM content of CQ-4+)."""
    amax = np.abs(np.asarray(K, np.float32)).max(axis=0)
    return np.sort(np.argsort(-amax, kind="stable")[:k])
