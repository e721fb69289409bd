"""PyTorch peer of the nnc bench: W1 (SGD, Adam), W3 and W2 with the bench's data and weights.

Called by bench/systems/torch.ts as `/usr/bin/python3 torch_bench.py DIR`; DIR holds
config.json and raw little-endian float32/uint8 arrays written by the bench. Prints one JSON
object on stdout. One thread unless config.json says `threads` (the caller sets the OpenMP and
OpenBLAS thread counts to match); the BLAS in use is read from the loaded libraries.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch


def blas_in_use():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    paths = [line.split()[-1] for line in maps.splitlines() if line.count(" ") >= 5 and "/" in line]
    for name, label in (("libopenblas", "OpenBLAS"), ("openblas", "OpenBLAS"), ("libmkl", "MKL"),
                        ("libblis", "BLIS"), ("libblas", "reference BLAS")):
        for p in paths:
            if name in p:
                return f"{label} ({p})"
    return "unknown (none of openblas/mkl/blis/libblas mapped)"


def load(d, name, dtype, shape):
    return torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=dtype).reshape(shape).copy())


class MLP(torch.nn.Module):
    def __init__(self, init, hidden):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        for w, b in init:
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            self.layers.append(lin)
        self.hidden = torch.relu if hidden == "relu" else torch.tanh
        self.init = init
        self.reset()

    def reset(self):
        with torch.no_grad():
            for lin, (w, b) in zip(self.layers, self.init):
                lin.weight.copy_(w.t())  # ours are [in][out]; torch stores [out][in]
                lin.bias.copy_(b)

    def forward(self, x):
        for i, lin in enumerate(self.layers):
            x = lin(x)
            if i < len(self.layers) - 1:
                x = self.hidden(x)
        return x


def train_run(cfg, d, w, opt_kind):
    sizes, B, steps = w["sizes"], w["batch"], w["steps"]
    f, k = sizes[0], sizes[-1]
    init = []
    for l in range(len(sizes) - 1):
        init.append((load(d, f"{w['id']}_w{l}.f32", np.float32, (sizes[l], sizes[l + 1])),
                     load(d, f"{w['id']}_b{l}.f32", np.float32, (sizes[l + 1],))))
    x = load(d, f"{w['id']}_x.f32", np.float32, (steps * B, f))
    y = load(d, f"{w['id']}_y.f32", np.float32, (steps * B, k))
    ex = load(d, f"{w['id']}_ex.f32", np.float32, (-1, f))
    el = load(d, f"{w['id']}_el.u8", np.uint8, (-1,))
    xs = [x[b * B:(b + 1) * B] for b in range(steps)]
    if w["head"] == "softmax_ce":
        targets = [y[b * B:(b + 1) * B].argmax(dim=1) for b in range(steps)]
        lossf = torch.nn.CrossEntropyLoss()
    else:
        targets = [y[b * B:(b + 1) * B] for b in range(steps)]
        lossf = torch.nn.BCEWithLogitsLoss()
    model = MLP(init, w["hidden"])

    def make_opt():
        lr = w["lr"][opt_kind]
        if opt_kind == "sgd":
            return torch.optim.SGD(model.parameters(), lr=lr)
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-7)

    def step(opt, b):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xs[b]), targets[b])
        loss.backward()
        opt.step()

    opt = make_opt()
    for s in range(cfg["warmupSteps"]):
        step(opt, s % steps)
    model.reset()
    opt = make_opt()
    per = max(1, steps // cfg["chunks"])
    rates = []
    cpu_rates = []
    start = time.perf_counter()
    b = 0
    while b < steps:
        first, end = b, min(steps, b + per)
        c0 = time.process_time()
        t0 = time.perf_counter()
        while b < end:
            step(opt, b)
            b += 1
        rates.append((end - first) * B / (time.perf_counter() - t0))
        cpu_rates.append((end - first) * B / max(1e-6, time.process_time() - c0))
    seconds = time.perf_counter() - start
    with torch.no_grad():
        out = model(ex)
        if k == 1:
            pred = (out[:, 0] > 0).to(torch.uint8)
        else:
            pred = out.argmax(dim=1).to(torch.uint8)
        acc = float((pred == el).float().mean())
    res = {"rate": statistics.median(rates), "chunks": rates, "cpuRate": statistics.median(cpu_rates),
           "seconds": seconds,
           "samples": steps * B, "accuracy": acc}
    if opt_kind == "sgd" and w.get("latency"):
        with torch.no_grad():
            rows = [ex[i:i + 1] for i in range(min(100, ex.shape[0]))]
            for i in range(300):
                torch.softmax(model(rows[i % len(rows)]), dim=1)
            lat = []
            for i in range(cfg["latencyReps"]):
                r = rows[i % len(rows)]
                t0 = time.perf_counter_ns()
                torch.softmax(model(r), dim=1)
                lat.append((time.perf_counter_ns() - t0) / 1000)
        res["latencyUs"] = statistics.median(lat)
    return res


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    torch.set_num_threads(cfg.get("threads", 1))
    torch.set_num_interop_threads(1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
    for w in cfg["workloads"]:
        for opt_kind in w["opts"]:
            out["results"][f"{w['id']}_{opt_kind}"] = train_run(cfg, d, w, opt_kind)
    out["blas"] = blas_in_use()
    print(json.dumps(out))


main()
