"""PyTorch side of `npm run bench`: the same BERT (Hugging Face semantics: post-LayerNorm, erf GELU,
tanh pooler, classifier head), the same weights read from the same model.safetensors, the same
measurements as bench/compare.bench.ts: forward, input gradient (d class logit / d word embeddings),
integrated gradients (50 trapezoid points on the straight path from the [PAD] baseline, [CLS]/[SEP]
kept, `batch` points a pass, plus the two end points).

Needs only torch (and numpy); the safetensors file is parsed here (8-byte header length, JSON
header, raw little-endian data). Prints one JSON object on stdout.

usage: python3 torch_bert.py MODEL_DIR --seqs 32,128 --threads 2 --reps 3 --ig-batch 10 [--check ids.json]
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[info["dtype"]]).astype(np.float32)
        out[name.removeprefix("bert.")] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


class Bert(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        self.w = w
        self.H = cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)

    def ln(self, x, p):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[p + ".weight"], self.w[p + ".bias"], self.eps)

    def lin(self, x, p):
        return torch.nn.functional.linear(x, self.w[p + ".weight"], self.w[p + ".bias"])

    def forward(self, word):  # word: [b, s, d] word embeddings
        w = self.w
        b, s, d = word.shape
        H = self.H
        dh = d // H
        x = word + w["embeddings.position_embeddings.weight"][:s] + w["embeddings.token_type_embeddings.weight"][0]
        h = self.ln(x, "embeddings.LayerNorm")
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{l}."
            split = lambda t: t.view(b, s, H, dh).transpose(1, 2)
            q = split(self.lin(h, p + "attention.self.query"))
            k = split(self.lin(h, p + "attention.self.key"))
            v = split(self.lin(h, p + "attention.self.value"))
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), -1)
            z = (probs @ v).transpose(1, 2).reshape(b, s, d)
            mid = self.ln(self.lin(z, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
            ff = torch.nn.functional.gelu(self.lin(mid, p + "intermediate.dense"))
            h = self.ln(self.lin(ff, p + "output.dense") + mid, p + "output.LayerNorm")
        pooled = torch.tanh(self.lin(h[:, 0], "pooler.dense"))
        return self.lin(pooled, "classifier")


def timed(f, reps):
    """Fastest of `reps` runs after a warm-up, in ms (the least disturbed by other load)."""
    f()  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--seqs", default="32,128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ig-reps", type=int, default=1)
    ap.add_argument("--ig-steps", type=int, default=50)
    ap.add_argument("--ig-batch", default="10")
    ap.add_argument("--target", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(f"{a.model}/config.json"))
    w = read_safetensors(f"{a.model}/model.safetensors")
    for t in w.values():
        t.requires_grad_(False)
    model = Bert(cfg, w)
    E = w["embeddings.word_embeddings.weight"]
    rows = []
    batches = [int(x) for x in a.ig_batch.split(",")]
    for i, seq in enumerate(int(x) for x in a.seqs.split(",")):
        ids = torch.tensor([101] + [1000 + j for j in range(seq - 2)] + [102])
        emb = E[ids].unsqueeze(0)
        with torch.no_grad():
            logits = model(emb)[0].tolist()
            fwd = timed(lambda: model(emb), a.reps)

        def grad():
            e = emb.clone().requires_grad_(True)
            model(e)[0, a.target].backward()
            return e.grad

        bwd = timed(grad, a.reps)
        base_ids = torch.tensor([101] + [0] * (seq - 2) + [102])
        xb = E[base_ids]
        x = emb[0]
        n = a.ig_steps
        alphas = torch.linspace(0, 1, n)
        wts = torch.full((n,), 1 / (n - 1))
        wts[0] = wts[-1] = 0.5 / (n - 1)
        bs = batches[min(i, len(batches) - 1)]

        def ig():
            acc = torch.zeros_like(x)
            for s in range(0, n, bs):
                al = alphas[s : s + bs].view(-1, 1, 1)
                pts = (xb + al * (x - xb)).requires_grad_(True)
                model(pts)[:, a.target].sum().backward()
                acc += (pts.grad * wts[s : s + bs].view(-1, 1, 1)).sum(0)
            with torch.no_grad():
                ends = model(torch.stack([x, xb]))[:, a.target]
            return ((x - xb) * acc).sum(-1), ends

        igms = float("inf")
        for _ in range(a.ig_reps):
            t0 = time.perf_counter()
            scores, ends = ig()
            igms = min(igms, (time.perf_counter() - t0) * 1000)
        rows.append({"seq": seq, "forwardMs": fwd, "backwardMs": bwd, "igMs": igms, "igBatch": bs, "logits": logits,
                     "igGap": abs(float(scores.sum()) - float(ends[0] - ends[1]))})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas(), "rows": rows}))


def blas():
    """The BLAS library mapped into this process (Debian's torch uses the libblas.so.3 alternative)."""
    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis", "atlas", "libblas"):
        if name in maps:
            return name
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
