"""PyTorch peer of the nnc bench's CNN (examples/fashion-cnn.nn) with the bench's data and weights.

Called by bench/systems/torch-cnn.ts as `/usr/bin/python3 torch_cnn.py DIR`; DIR holds
config.json (threads, steps, chunk, lr, the parameter layout) and raw little-endian arrays:
params.f32 (nnc's initial parameters, nnc's layout), x.f32 / y.f32 (the training batches in
order), tx.f32 / tl.u8 (the test images and labels). The protocol of bench/cnn.ts: 3 warm-up
steps, back to the initial weights and a fresh Adam, `steps` timed steps in chunks, the median
chunk; then the test accuracy. Prints one JSON object on stdout.
"""
import json
import os
import sys
import time

import numpy as np
import torch


def upper_median(xs):
    """bench/cnn.ts's median: the upper middle of an even count."""
    return sorted(xs)[len(xs) // 2]


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    threads = cfg["threads"]
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    B, steps, chunk = cfg["batch"], cfg["steps"], cfg["chunk"]
    params = np.fromfile(os.path.join(d, "params.f32"), dtype=np.float32)
    x = torch.from_numpy(np.fromfile(os.path.join(d, "x.f32"), dtype=np.float32).reshape(-1, 1, 28, 28).copy())
    labels = torch.from_numpy(np.fromfile(os.path.join(d, "y.f32"), dtype=np.float32).reshape(-1, 10).argmax(axis=1))
    tx = torch.from_numpy(np.fromfile(os.path.join(d, "tx.f32"), dtype=np.float32).reshape(-1, 1, 28, 28).copy())
    tl = torch.from_numpy(np.fromfile(os.path.join(d, "tl.u8"), dtype=np.uint8).astype(np.int64))

    def tensor(name):
        e = next(e for e in cfg["layout"] if e["name"] == name)
        return torch.from_numpy(params[e["offset"]:e["offset"] + e["size"]].reshape(e["shape"]).copy())

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv2d(1, 16, 3, padding=1)
            self.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
            self.d1 = torch.nn.Linear(7 * 7 * 32, 64)
            self.d2 = torch.nn.Linear(64, 10)

        def forward(self, v):
            v = torch.max_pool2d(torch.relu(self.c1(v)), 2)
            v = torch.max_pool2d(torch.relu(self.c2(v)), 2)
            # nnc flattens [7, 7, 32] channels last: the same order here.
            v = v.permute(0, 2, 3, 1).reshape(v.shape[0], -1)
            return self.d2(torch.relu(self.d1(v)))

    net = Net()
    convs, denses = cfg["convs"], cfg["denses"]

    def reset():
        with torch.no_grad():
            for layer, name in zip((net.c1, net.c2), convs):
                layer.weight.copy_(tensor(name + ".weight").permute(0, 3, 1, 2))  # [F, KH, KW, C] → [F, C, KH, KW]
                layer.bias.copy_(tensor(name + ".bias"))
            for layer, name in zip((net.d1, net.d2), denses):
                layer.weight.copy_(tensor(name + ".weight"))  # [units, inputs], as torch's
                layer.bias.copy_(tensor(name + ".bias"))
        return torch.optim.Adam(net.parameters(), lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-7)

    lossf = torch.nn.CrossEntropyLoss()

    def step(opt, b):
        opt.zero_grad(set_to_none=True)
        lossf(net(x[b * B:(b + 1) * B]), labels[b * B:(b + 1) * B]).backward()
        opt.step()

    opt = reset()
    for b in range(3):
        step(opt, b)
    opt = reset()
    rates, cpu_rates = [], []
    for first in range(0, steps, chunk):
        m = min(chunk, steps - first)
        c0, t0 = time.process_time(), time.perf_counter()
        for b in range(first, first + m):
            step(opt, b)
        rates.append(m * B / (time.perf_counter() - t0))
        cpu_rates.append(m * B / max(1e-6, time.process_time() - c0))
    with torch.no_grad():
        c0, t0 = time.process_time(), time.perf_counter()
        pred = torch.cat([net(tx[s:s + B]) for s in range(0, tx.shape[0], B)]).argmax(dim=1)
        infer, infer_cpu = tx.shape[0] / (time.perf_counter() - t0), tx.shape[0] / max(1e-6, time.process_time() - c0)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "trainRate": upper_median(rates), "trainCpuRate": upper_median(cpu_rates),
        "inferRate": infer, "inferCpuRate": infer_cpu,
        "testAccuracy": float((pred == tl).float().mean()),
    }))


main()
