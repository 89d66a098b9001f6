"""Golden ChannelQuant: the published vectors, our corner vectors, and exactness proofs."""
from fractions import Fraction

import numpy as np
import pytest

from golden import channelquant as cq
from golden import cq_vectors

PUBLISHED = sorted(cq_vectors.PUBLISHED_DIR.glob("*.npz"))
OURS = sorted(cq_vectors.OUT_DIR.glob("*.npz"))
REAL = sorted(cq_vectors.REAL_DIR.glob("*.npz"))
CONTRACT = ("key_payload", "key_scales", "val_payload", "val_scales", "outlier_idx",
            "outlier_bitmask", "sidecar", "expected_K_hat", "expected_V_hat")


def assert_bit_identical(got, want, what):
    assert got.dtype == want.dtype and got.shape == want.shape, \
        f"{what}: {got.dtype}{got.shape} != {want.dtype}{want.shape}"
    assert got.tobytes() == want.tobytes(), f"{what}: first difference at flat index " \
        f"{int(np.argmax(got.view(np.uint8).ravel() != want.view(np.uint8).ravel()))} (bytes)"


def test_published_set_is_present():
    assert len(PUBLISHED) == 9, f"expected the nine published vectors in {cq_vectors.PUBLISHED_DIR}"
    assert len(REAL) == 3, f"expected three exported SmolLM2 vectors in {cq_vectors.REAL_DIR}"


@pytest.mark.parametrize("path", PUBLISHED + [p for p in OURS if not p.name.startswith("dequant")] + REAL,
                         ids=lambda p: p.name)
def test_codec_vector(path):
    z = np.load(path)
    D, T, G, mode = cq_vectors.name_fields(path)
    assert z["input_K"].shape == (T, D)
    got = cq.encode(z["input_K"], z["input_V"], G, mode, z["outlier_idx"])
    for key in CONTRACT:
        assert_bit_identical(got[key], z[key], f"{path.name}:{key}")


@pytest.mark.parametrize("path", [p for p in OURS if p.name.startswith("dequant")], ids=lambda p: p.name)
def test_dequant_vector(path):
    z = np.load(path)
    bits = 8 if path.stem.endswith("CQ8") else 4
    T, D = z["expected_V_hat"].shape
    codes = cq.unpack(z["val_payload"], bits, T * D).reshape(T, D)
    assert codes.min() == -(1 << (bits - 1)) and codes.max() == (1 << (bits - 1)) - 1
    assert_bit_identical(cq.dequantise(codes, z["val_scales"][:, None]), z["expected_V_hat"], path.name)
    # and q * s exactly, by Fractions, on a sample
    for t, c in [(0, 0), (5, 17), (T - 1, D - 1)]:
        assert Fraction(float(z["expected_V_hat"][t, c])) == int(codes[t, c]) * Fraction(float(z["val_scales"][t]))


def test_our_vectors_regenerate_byte_identical():
    files = cq_vectors.generate()
    assert sorted(files) == sorted(p.name for p in OURS)
    for p in OURS:
        assert p.read_bytes() == files[p.name], f"{p.name} does not regenerate byte-identical"


def test_corner_coverage():
    """The corners the published set lacks are really in our vectors."""
    seen = {"zero_scale": False, "subnormal_in": False, "tie": False, "fp16_max": False,
            "partial_1": False, "partial_Gm1": False, "k0_plus": False, "k2_plus": False}
    for p in OURS:
        if p.name.startswith("dequant"):
            continue
        z = np.load(p)
        D, T, G, mode = cq_vectors.name_fields(p)
        X = np.concatenate([z["input_K"], z["input_V"]])
        seen["zero_scale"] |= bool(np.any(z["key_scales"].view(np.uint16) == 0x0400))
        seen["subnormal_in"] |= bool(np.any((X != 0) & (np.abs(X) < np.float16(2.0 ** -14))))
        seen["fp16_max"] |= bool(np.any(np.abs(X) == np.float16(65504)))
        seen["partial_1"] |= T % G == 1
        seen["partial_Gm1"] |= T % G == G - 1
        if mode == "CQ4plus":
            seen["k0_plus"] |= z["outlier_idx"].size == 0
            seen["k2_plus"] |= z["outlier_idx"].size == 2
        s = z["val_scales"].astype(np.float64)[:, None]
        seen["tie"] |= bool(np.any(np.abs(z["input_V"].astype(np.float64) / s) % 1 == 0.5))
    assert all(seen.values()), [k for k, v in seen.items() if not v]


def exact_round_half_even(num, den):
    q, r = np.divmod(num, den)
    up = (2 * r > den) | ((2 * r == den) & (q % 2 == 1))
    return q + up


def fp16_fields(bits):
    """(mantissa with hidden bit, exponent) with x = m * 2**e, for fp16 bit patterns."""
    e = (bits >> 10) & 0x1F
    f = (bits & 0x3FF).astype(np.int64)
    m = np.where(e > 0, f | 0x400, f)
    return m, np.maximum(e.astype(np.int64), 1) - 25


def test_quantise_exact_for_every_fp16_input():
    """Every finite fp16 x against a spread of scales: golden's float64 quotient rounds exactly
    like the integer quotient."""
    bits = np.arange(1 << 16, dtype=np.uint16)
    bits = bits[((bits >> 10) & 0x1F) != 0x1F]
    x = bits.view(np.float16)
    mx, ex = fp16_fields(bits)
    rng = np.random.default_rng(5)
    s_bits = np.concatenate([[0x0400, 0x0401, 0x3C00, 0x3555, 0x7BFF, 0x7800],
                             rng.integers(0x0400, 0x7C00, 26)]).astype(np.uint16)
    for sb in s_bits:
        s = np.uint16(sb).view(np.float16)
        ms, es = fp16_fields(np.array([sb], np.uint16))
        shift = ex - es[0]
        small, big = shift < -14, shift > 12
        sh = np.clip(shift, -14, 12)
        num = np.where(sh >= 0, mx << np.maximum(sh, 0), mx) << 14
        den = np.where(sh >= 0, ms[0], ms[0] << np.maximum(-sh, 0)) << 14
        q = exact_round_half_even(num, den)
        q = np.where(small, 0, np.where(big, 1 << 20, q))
        q = np.where(x < 0, -q, q)
        for fmt in (cq.Format(4, False), cq.Format(8, False)):
            want = np.clip(q, fmt.qmin, fmt.qmax)
            got = cq.quantise(x, s, fmt)
            assert np.array_equal(got, want), f"scale 0x{sb:04x} INT{fmt.bits}: " \
                f"x=0x{int(bits[np.argmax(got != want)]):04x}"


def test_scale_exact_for_every_amax():
    """Every finite fp16 amax: golden's scale is the fp16 nearest to the exact amax/qmax
    (ties to even), or 2^-14 below that."""
    bits = np.arange(0x7C00, dtype=np.uint16)
    amax = bits.view(np.float16)
    finite16 = np.arange(0x7C00, dtype=np.uint16).view(np.float16)
    for qmax in (7, 127):
        got = cq.scale_of(amax, qmax)
        for i in range(0, 0x7C00, 7):          # Fractions are slow: every 7th pattern, all binades
            exact = Fraction(float(amax[i])) / qmax
            if exact < Fraction(1, 1 << 14):
                assert got[i].view(np.uint16) == 0x0400
                continue
            j = int(np.searchsorted(finite16.astype(np.float64), float(exact)))
            lo, hi = finite16[j - 1], finite16[min(j, 0x7BFF)]
            dlo, dhi = exact - Fraction(float(lo)), Fraction(float(hi)) - exact
            want = lo if (dlo < dhi or (dlo == dhi and lo.view(np.uint16) % 2 == 0)) else hi
            assert got[i] == want, f"amax 0x{i:04x} / {qmax}"


def test_bad_input_is_refused():
    x = np.ones((4, 64), np.float16)
    with pytest.raises(ValueError, match="float16"):
        cq.encode_group(x.astype(np.float32), "key", "CQ4")
    x[2, 3] = np.inf
    with pytest.raises(ValueError, match=r"not finite at \(2, 3\)"):
        cq.encode_group(x, "key", "CQ4")
    with pytest.raises(ValueError, match="mode"):
        cq.encode_group(np.ones((4, 64), np.float16), "key", "CQ2")
    with pytest.raises(ValueError, match="distinct channels"):
        cq.encode_group(np.ones((4, 64), np.float16), "key", "CQ4plus", (3, 3))
    with pytest.raises(ValueError, match="bytes"):
        cq.parse_image(b"\0" * 10, 4, 64, "value", "CQ8")


@pytest.mark.parametrize("mode", cq.MODES)
@pytest.mark.parametrize("kind", cq.KINDS)
def test_image_round_trip(mode, kind):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((13, 64)) * 3).astype(np.float16)
    out = (7, 33) if mode == "CQ4plus" and kind == "key" else ()
    grp = cq.encode_group(x, kind, mode, out)
    img = grp.image()
    assert len(img) == cq.image_bytes(13, 64, kind, mode, len(out))
    back = cq.parse_image(img, 13, 64, kind, mode, out)
    assert back.image() == img
    assert_bit_identical(cq.decode_group(back), cq.decode_group(grp), "reconstruction")
    err = np.abs(cq.decode_group(grp) - x.astype(np.float32))
    scale = grp.scales.astype(np.float32)
    bound = (scale[None, :] if grp.fmt.per_channel else scale[:, None]) / 2
    keep = np.setdiff1d(np.arange(64), out)
    assert np.all(err[:, keep] <= bound * (1 + 1e-6)), "a code is off by more than half a step"
