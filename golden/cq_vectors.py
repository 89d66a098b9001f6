"""Our ChannelQuant conformance vectors: the corners the published set lacks (DESIGN §5).

`python -m golden.cq_vectors` (re)writes golden/vectors/channelquant/; the files are seeded and
byte-identical on every run (tests check it). Codec vectors use the published set's arrays and
naming, `{corner}_d{D}_T{T}_G{G}__{mode}.npz`; the two `dequant_*` vectors are hand-made code
streams (every INT4 / INT8 code, including -8 and -128, which no encoder emits) for the decoder.
"""
import argparse
import io
import pathlib
import re

import numpy as np

from golden import channelquant as cq

OUT_DIR = pathlib.Path(__file__).resolve().parent / "vectors" / "channelquant"
# real SmolLM2-135M keys and values, exported by `python -m sim.accuracy --export REAL_DIR`
REAL_DIR = OUT_DIR.parent / "smollm2"
PUBLISHED_DIR = pathlib.Path(__file__).resolve().parent / "vectors" / "published"   # provenance: its README.md
NAME = re.compile(r"(?:(?P<corner>[a-z0-9_]+)_)?d(?P<D>\d+)_T(?P<T>\d+)_G(?P<G>\d+)__(?P<mode>CQ8|CQ4plus|CQ4)\.npz$")


def name_fields(path):
    """(D, T, G, mode) of a codec vector's file name."""
    m = NAME.search(pathlib.Path(path).name)
    if not m:
        raise ValueError(f"{path}: not a codec vector name d<D>_T<T>_G<G>__<mode>.npz")
    return int(m["D"]), int(m["T"]), int(m["G"]), m["mode"]


def _normal(rng, T, D, outliers=(), spread=(11.0, 7.0)):
    x = rng.standard_normal((T, D))
    for c, sd in zip(outliers, spread):
        x[:, c] *= sd
    return x.astype(np.float16)


def _ties(T, D, qmax):
    """Token 0 and channel 0 hold qmax, so every per-token and per-channel amax is qmax and
    s = 1.0; every other value is an exact half-way point j + 1/2 (j < qmax) of either sign."""
    halves = np.arange(qmax) + 0.5
    x = np.resize(np.concatenate([halves, -halves]), (T, D + 1))[:, :D]   # rows shift by one
    x[0, :] = qmax
    x[:, 0] = -qmax
    return x.astype(np.float16)


def corners(seed=2026):
    """name -> (K, V, G, mode, outliers), every input seeded."""
    rng = np.random.default_rng(seed)
    out = {}
    for mode in cq.MODES:
        k2 = (5, 40) if mode == "CQ4plus" else ()
        # all-zero tokens, and a whole all-zero key group (scale 0x0400, codes 0)
        K = _normal(rng, 96, 64, k2)
        K[:32] = 0
        K[40] = 0
        V = _normal(rng, 96, 64)
        V[[3, 50, 95]] = 0
        out[f"zeros_d64_T96_G32__{mode}"] = (K, V, 32, mode, k2)
        # subnormal inputs: whole groups of them, and mixed with normals
        bits = rng.integers(0, 1024, (64, 64)) | (rng.integers(0, 2, (64, 64)) << 15)
        Ks = bits.astype(np.uint16).view(np.float16)
        Vs = Ks.copy()
        Vs[1::2, ::3] = _normal(rng, 32, 22)
        Ks[32:, 7] = np.float16(2.0 ** -14)
        out[f"subnormal_d64_T64_G32__{mode}"] = (Ks, Vs, 32, mode, k2)
        # exact half-way ties
        qmax = 127 if mode == "CQ8" else 7
        ties = _ties(48, 64, qmax)
        out[f"ties_d64_T48_G16__{mode}"] = (ties, ties[::-1].copy(), 16, mode, (1, 2) if k2 else ())
        # the largest fp16 values, both signs, beside small ones
        big = _normal(rng, 24, 64, k2)
        big[::2, ::5] = np.float16(65504)
        big[1::2, 1::5] = np.float16(-65504)
        big[5, :] = np.float16(-65504)
        out[f"fp16max_d64_T24_G8__{mode}"] = (big, big[::-1].copy(), 8, mode, k2)
        # partial groups of 1 and of G - 1 tokens, at D = 128 as well
        out[f"partial1_d64_T65_G64__{mode}"] = (_normal(rng, 65, 64, k2), _normal(rng, 65, 64), 64, mode, k2)
        out[f"partialGm1_d128_T255_G128__{mode}"] = (_normal(rng, 255, 128, (3, 100) if k2 else ()),
                                                    _normal(rng, 255, 128), 128, mode,
                                                    (3, 100) if k2 else ())
    # CQ-4+ with k = 0 (keys all INT4, no sidecar) and k = 2 at the first and last channels
    out["k0_d64_T40_G16__CQ4plus"] = (_normal(rng, 40, 64), _normal(rng, 40, 64), 16, "CQ4plus", ())
    out["k2edges_d64_T40_G16__CQ4plus"] = (_normal(rng, 40, 64, (0, 63)), _normal(rng, 40, 64), 16,
                                           "CQ4plus", (0, 63))
    return out


def dequant_vectors():
    """Hand-made code streams: every code of the width at several scales, per-token scales."""
    vecs = {}
    scales = np.array([0x0400, 0x3C00, 0x3555, 0x7BFF, 0x0401, 0x5A5A, 0x2E66, 0x4000],
                      np.uint16).view(np.float16)
    for mode, bits in (("CQ4", 4), ("CQ8", 8)):
        D = 64
        codes = np.resize(np.arange(-(1 << (bits - 1)), 1 << (bits - 1)), (len(scales) * 4, D))
        s = np.repeat(scales, 4)
        vecs[f"dequant_d{D}_T{codes.shape[0]}__{mode}"] = {
            "val_payload": cq.pack(codes, bits),
            "val_scales": s,
            "expected_V_hat": cq.dequantise(codes, s[:, None]),
        }
    return vecs


def _npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def codec_arrays(K, V, G, mode, outliers):
    r = cq.encode(K, V, G, mode, outliers)
    return {"input_K": K, "input_V": V, **r}


def generate():
    """name.npz -> file bytes of the whole set."""
    files = {f"{n}.npz": _npz_bytes(codec_arrays(*args)) for n, args in corners().items()}
    files.update({f"{n}.npz": _npz_bytes(a) for n, a in dequant_vectors().items()})
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(generate().items()):
        (args.out / name).write_bytes(data)
        print(f"{args.out / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
