/**
 * The fixed Python of the PyTorch script (no text from a file reaches it): nnc's weights in and
 * out of the module, the prepared data file, the evaluation, and the training loop with
 * `DistributedDataParallel`. `index.ts` writes the per-program parts around it (the module, the
 * loss, the optimizer, the clipping) and names the class (`MODEL_CLASS`).
 */

export const WEIGHTS_PART = `def load_nnc_params(model, flat, layout):
    """nnc's flat parameters (laid out as \`layout\` says) into the module."""
    state = model.state_dict()
    flat = np.asarray(flat, dtype=np.float32)
    with torch.no_grad():
        for entry in layout:
            key, axes = NNC_TENSORS[entry["name"]]
            values = torch.from_numpy(flat[entry["offset"]:entry["offset"] + entry["size"]].copy()).reshape(entry["shape"])
            if axes is not None:
                values = values.permute(*axes)
            state[key].copy_(values.reshape(state[key].shape))


def nnc_params(model, layout):
    """The module's tensors as nnc's flat parameters, laid out as \`layout\` says."""
    state = model.state_dict()
    flat = np.zeros(sum(entry["size"] for entry in layout), dtype=np.float32)
    for entry in layout:
        key, axes = NNC_TENSORS[entry["name"]]
        values = state[key].detach().cpu()
        if axes is not None:
            values = values.reshape([entry["shape"][a] for a in axes]).permute(*np.argsort(axes).tolist())
        flat[entry["offset"]:entry["offset"] + entry["size"]] = values.reshape(-1).numpy()
    return flat


def load_nnc_weights(model, path):
    """Loads a weights.json written by \`nnc train\` (or by this script) into the module; returns the file."""
    with open(path, encoding="utf-8") as f:
        weights = json.load(f)
    if not isinstance(weights, dict) or weights.get("format") != "nnc-weights":
        raise SystemExit(f"{path} is not an nnc weights file")
    missing = [e["name"] for e in weights["layout"] if e["name"] not in NNC_TENSORS]
    if missing or len(weights["layout"]) != len(NNC_TENSORS):
        raise SystemExit(f"{path} was written for another model (tensors {missing or 'missing'})")
    load_nnc_params(model, weights["params"], weights["layout"])
    return weights


def save_nnc_weights(model, template, epochs, path):
    """Writes the module's weights as nnc's weights.json (whole or not at all)."""
    weights = dict(template, epochs=epochs, params=[float(v) for v in nnc_params(model, template["layout"])])
    head = {k: v for k, v in weights.items() if k != "params"}
    text = json.dumps(head, indent=1)[:-2] + ',\\n "params": [' + ",".join(repr(v) for v in weights["params"]) + "]\\n}\\n"
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def read_data(path):
    """The data file nnc wrote: a JSON header, then raw little-endian arrays (numpy reads them as they are)."""
    blob = bytearray(os.path.getsize(path))  # writable, so the arrays are too
    with open(path, "rb") as f:
        f.readinto(blob)
    if blob[:8] != b"NNCDATA1":
        raise SystemExit(f"{path} is not a data file written by \`nnc compile --target pytorch\`")
    size = int.from_bytes(blob[8:12], "little")
    header = json.loads(blob[12:12 + size].decode("utf-8"))
    arrays = {}
    for name, a in header["arrays"].items():
        count = int(np.prod(a["shape"]))
        arrays[name] = np.frombuffer(blob, dtype=a["dtype"], count=count, offset=a["offset"]).reshape(a["shape"])
    return header, arrays`;

export const MAIN_PART = `def evaluate(model, x, y, task, batch=256):
    """Loss and (for a classifier) accuracy in inference mode, as \`nnc eval\` computes them."""
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            xb, yb = torch.from_numpy(x[start:start + batch]), torch.from_numpy(y[start:start + batch])
            scores = model(xb)
            total += float(loss_sum(scores, yb))
            if task["kind"] == "multiclass":
                correct += int((scores.argmax(-1) == yb.argmax(-1)).sum())
            elif task["kind"] in ("binary", "multilabel"):
                p = model.probabilities(xb)
                correct += int(((p >= task["threshold"]) == (yb >= 0.5)).sum())
    figures = {"loss": total / max(1, loss_count(len(x), y.shape[1])) + float(penalty(model))}
    if task["kind"] != "regression":
        figures["accuracy"] = correct / max(1, len(x) * (1 if task["kind"] == "multiclass" else y.shape[1]))
    return figures


def main():
    parser = argparse.ArgumentParser(description="Train the model on the data nnc prepared, on one process or under torchrun.")
    parser.add_argument("--data", default=DATA, help="the data file nnc wrote (default: beside this script)")
    parser.add_argument("--out", default=".", help="folder for model.pt and weights.json (default: here)")
    parser.add_argument("--init", help="start from this nnc weights.json instead of nnc's seeded initial weights")
    parser.add_argument("--steps", type=int, default=0, help="stop after this many batches (default: every epoch)")
    parser.add_argument("--losses", help="write each batch's loss to this file, one a line")
    parser.add_argument("--eval-only", action="store_true", help="evaluate the --init weights on the test split and stop")
    args = parser.parse_args()

    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")  # MASTER_ADDR, MASTER_PORT from the environment (torchrun sets them)
    header, data = read_data(args.data)
    torch.manual_seed(header["seed"] + rank)  # dropout masks
    model = MODEL_CLASS()
    if args.init:
        load_nnc_weights(model, args.init)
    else:
        load_nnc_params(model, data["init"], header["weights"]["layout"])
    held_out = "test" if "test_x" in data else "validation" if "validation_x" in data else "train"
    if args.eval_only:
        figures = evaluate(model, data[held_out + "_x"], data[held_out + "_y"], header["task"])
        print(json.dumps({"split": held_out, **figures}))
        return

    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad])
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    order, rates, batch = data["order"], data["lr"], header["batch"]
    losses, step = [], 0
    for epoch in range(header["epochs"]):
        model.train()
        for b in range(rates.shape[1]):
            rows = order[epoch, b * batch:(b + 1) * batch]
            n = len(rows)
            mine = torch.from_numpy(rows[rank * n // world:(rank + 1) * n // world].astype(np.int64))
            for group in optimizer.param_groups:
                group["lr"] = float(rates[epoch, b])
            optimizer.zero_grad(set_to_none=True)
            loss = loss_sum(net(x[mine]), y[mine]) / loss_count(n, y.shape[1])
            weights_penalty = penalty(model)
            # DDP averages the ranks' gradients: times \`world\`, that is their sum, the global batch's mean loss
            # (the penalty's once: every rank adds the same).
            (loss * world + weights_penalty).backward()
            clip_gradients(model)
            optimizer.step()
            loss = loss.detach()
            if world > 1:
                dist.all_reduce(loss)
            losses.append(float(loss) + float(weights_penalty))
            step += 1
            if step == args.steps:
                break
        if rank == 0:
            print(json.dumps({"epoch": epoch + 1, "loss": sum(losses[-(b + 1):]) / (b + 1)}), flush=True)
        if step == args.steps:
            break

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        torch.save(model.state_dict(), os.path.join(args.out, "model.pt"))
        save_nnc_weights(model, header["weights"], epoch + 1, os.path.join(args.out, "weights.json"))
        if args.losses:
            with open(args.losses, "w") as f:
                f.write("".join(f"{v!r}\\n" for v in losses))
        figures = evaluate(model, data[held_out + "_x"], data[held_out + "_y"], header["task"])
        print(json.dumps({"split": held_out, **figures}), flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()`;
