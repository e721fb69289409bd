"""PyTorch peer of the bench's sequence workloads (LSTM, TRANSFORMER): bench/sequence.ts.

Called as `/usr/bin/python3 torch_seq.py DIR`; DIR holds config.json, the initial weights as
nnc laid them out (params.f32 + the layout in config.json: name, shape, offset of each tensor),
the batches' token ids (x.f32, float ids as nnc reads them) and targets (t.i64: a class per
sample, or the next token at every step). Prints one JSON object on stdout: per-step losses and
the rates of the timed chunks. One thread.

The models are PyTorch's own modules with nnc's weights copied in: nnc's LSTM has one bias
(PyTorch's b_ih + b_hh), so b_hh stays zero and frozen; nnc's attention is
nn.MultiheadAttention's layout; dense weights are [out, in] like nn.Linear.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


class Lstm(torch.nn.Module):
    def __init__(self, vocab, dim, units, classes):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.lstm = torch.nn.LSTM(dim, units, batch_first=True)
        self.out = torch.nn.Linear(units, classes)

    def names(self):
        return {
            "embedding_1.weight": self.emb.weight,
            "lstm_1.weight_ih": self.lstm.weight_ih_l0,
            "lstm_1.weight_hh": self.lstm.weight_hh_l0,
            "lstm_1.bias": self.lstm.bias_ih_l0,
            "dense_1.weight": self.out.weight,
            "dense_1.bias": self.out.bias,
        }

    def frozen(self):
        return [self.lstm.bias_hh_l0]

    def forward(self, ids):
        _, (h, _) = self.lstm(self.emb(ids))
        return self.out(h[0])


class Decoder(torch.nn.Module):
    """x = ln1(x + attention(x)); x = ln2(x + ff(x)), causal."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.att = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln1 = torch.nn.LayerNorm(dim, eps=1e-5)
        self.ff1 = torch.nn.Linear(dim, hidden)
        self.ff2 = torch.nn.Linear(hidden, dim)
        self.ln2 = torch.nn.LayerNorm(dim, eps=1e-5)

    def names(self, p):
        return {
            f"{p}.attention_1.in_proj_weight": self.att.in_proj_weight,
            f"{p}.attention_1.in_proj_bias": self.att.in_proj_bias,
            f"{p}.attention_1.out_proj_weight": self.att.out_proj.weight,
            f"{p}.attention_1.out_proj_bias": self.att.out_proj.bias,
            f"{p}.layernorm_1.gamma": self.ln1.weight,
            f"{p}.layernorm_1.beta": self.ln1.bias,
            f"{p}.dense_1.weight": self.ff1.weight,
            f"{p}.dense_1.bias": self.ff1.bias,
            f"{p}.dense_2.weight": self.ff2.weight,
            f"{p}.dense_2.bias": self.ff2.bias,
            f"{p}.layernorm_2.gamma": self.ln2.weight,
            f"{p}.layernorm_2.beta": self.ln2.bias,
        }

    def forward(self, x, mask):
        a, _ = self.att(x, x, x, attn_mask=mask, need_weights=False)
        x = self.ln1(x + a)
        return self.ln2(x + self.ff2(torch.relu(self.ff1(x))))


class Transformer(torch.nn.Module):
    def __init__(self, vocab, steps, dim, heads, hidden, blocks):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.pos = torch.nn.Parameter(torch.zeros(steps, dim))
        self.blocks = torch.nn.ModuleList([Decoder(dim, heads, hidden) for _ in range(blocks)])
        self.out = torch.nn.Linear(dim, vocab)
        self.register_buffer("mask", torch.triu(torch.ones(steps, steps, dtype=torch.bool), 1))

    def names(self):
        n = {"embedding_1.weight": self.emb.weight, "positional_1.weight": self.pos,
             "dense_1.weight": self.out.weight, "dense_1.bias": self.out.bias}
        for i, b in enumerate(self.blocks):
            n.update(b.names(f"decoder_{i + 1}"))
        return n

    def frozen(self):
        return []

    def forward(self, ids):
        x = self.emb(ids) + self.pos
        for b in self.blocks:
            x = b(x, self.mask)
        return self.out(x).reshape(-1, self.out.out_features)


def build(w):
    if w["kind"] == "lstm":
        return Lstm(w["vocab"], w["dim"], w["units"], w["classes"])
    return Transformer(w["vocab"], w["steps"], w["dim"], w["heads"], w["hidden"], w["blocks"])


def run(d, w):
    params = np.fromfile(os.path.join(d, f"{w['id']}_params.f32"), dtype=np.float32)
    B, T, S = w["batch"], w["steps"], w["trainSteps"]
    ids = np.fromfile(os.path.join(d, f"{w['id']}_x.f32"), dtype=np.float32).astype(np.int64).reshape(S, B, T)
    tg = np.fromfile(os.path.join(d, f"{w['id']}_t.i64"), dtype=np.int64).reshape(S, B, -1)
    xs = [torch.from_numpy(ids[s]) for s in range(S)]
    ts = [torch.from_numpy(tg[s].reshape(-1)) for s in range(S)]
    model = build(w)
    names = model.names()
    if sorted(names) != sorted(e["name"] for e in w["layout"]):
        raise SystemExit(f"layout mismatch: {sorted(names)} vs {[e['name'] for e in w['layout']]}")

    def reset():
        with torch.no_grad():
            for e in w["layout"]:
                t = names[e["name"]]
                v = params[e["offset"]:e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"])
                t.copy_(torch.from_numpy(v.copy()))
            for t in model.frozen():
                t.zero_()
                t.requires_grad_(False)
        return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=w["lr"],
                                betas=(0.9, 0.999), eps=1e-7)

    lossf = torch.nn.CrossEntropyLoss()

    def step(opt, s):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xs[s]), ts[s])
        loss.backward()
        opt.step()
        return float(loss)

    opt = reset()
    t0 = time.perf_counter()
    # nnc's rule (bench/sequence.ts runNnc): at least 3 steps and warmupMs, at most 6 s; a short
    # warm-up leaves PyTorch's allocator cold (its first ~20 steps run at half speed).
    s = 0
    while s < 3 or (time.perf_counter() - t0 < min(w["warmupMs"], 6000) / 1000):
        step(opt, s % S)
        s += 1
    warm = time.perf_counter() - t0
    opt = reset()
    losses, rates, cpu_rates = [], [], []
    for first in range(0, S, w["chunk"]):
        end = min(S, first + w["chunk"])
        c0, t0 = time.process_time(), time.perf_counter()
        for s in range(first, end):
            losses.append(step(opt, s))
        rates.append((end - first) * B / (time.perf_counter() - t0))
        cpu_rates.append((end - first) * B / max(1e-6, time.process_time() - c0))
    return {"rate": statistics.median(rates), "cpuRate": statistics.median(cpu_rates), "chunks": rates,
            "losses": losses, "warmupSeconds": warm}


def blas_in_use():
    """The BLAS library mapped into this process (torch.ts puts OpenBLAS first when installed)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line}
    for name in ("openblas", "libmkl", "libblis", "libblas"):
        hit = sorted(p for p in paths if name in p)
        if hit:
            return hit[0]
    return "unknown"


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
    for w in cfg["workloads"]:
        out["results"][w["id"]] = run(d, w)
    out["blas"] = blas_in_use()
    print(json.dumps(out))


main()
