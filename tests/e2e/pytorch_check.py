"""Re-evaluates every run of a store in PyTorch, through the run's own model.py.

Usage: pytorch_check.py RUNS_DIR TEST_BATCH_BIN

RUNS_DIR is out/runs/<profile> (one seed per run); TEST_BATCH_BIN the CIFAR-10 binary test batch the
runs were tested on. For each run folder (one with a run.json) it prints one JSON line:
the run, its status, and for complete runs what PyTorch computes (accuracy, confusion
matrix, mean test loss) beside what metrics.json's last epoch says. Judging the
agreement is the caller's (tests/e2e/pytorch.rs), so the tolerance is stated there.
"""

import importlib.util
import json
import os
import sys

import torch
import torch.nn.functional as F

# The batch size report evaluates with (train::EVAL_BATCH): the loss is summed per
# batch in float32, so the same batches sum in the same order.
EVAL_BATCH = 1000
RECORD = 1 + 3 * 32 * 32


def test_set(path):
    """Labels (int64) and uint8 images N x 3 x 32 x 32 of a CIFAR-10 binary batch."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    records = torch.frombuffer(data, dtype=torch.uint8).view(-1, RECORD)
    return records[:, 0].long(), records[:, 1:].reshape(-1, 3, 32, 32).clone()


def import_model(folder, name):
    """The run's model.py as a module of its own: each run's file defines its own Net."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(folder, name, labels, images):
    model = import_model(folder, name)
    net = model.load(folder)
    k = len(model.CLASSES)
    loss = torch.zeros((), dtype=torch.float32)
    preds = []
    with torch.no_grad():
        for lo in range(0, len(labels), EVAL_BATCH):
            x = model.preprocess(images[lo : lo + EVAL_BATCH])
            y = labels[lo : lo + EVAL_BATCH]
            logits, latent = net.forward_latent(x)
            assert torch.equal(net(x), logits), "forward and forward_latent disagree"
            loss += F.cross_entropy(logits, y, reduction="sum")
            preds.append(logits.argmax(-1))
    preds = torch.cat(preds)
    confusion = torch.bincount(labels * k + preds, minlength=k * k).view(k, k)
    return {
        "accuracy": (preds == labels).sum().item() / len(labels),
        "confusion": confusion.tolist(),
        "loss": loss.item() / len(labels),
        "latent_dim": latent.shape[1],
    }


def learning_rates(train):
    """The learning rate of each epoch as torch.optim.lr_scheduler gives it for the run's
    optimizer rate, schedule and warm-up (spec.json's train), read before each epoch's
    scheduler.step()."""
    lr = train["optimizer"]["lr"]
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedule = train.get("lr_schedule")
    warmup = train.get("warmup_epochs", 0)
    sched = lambda: torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
    if schedule and schedule["type"] == "step":
        sched = lambda: torch.optim.lr_scheduler.StepLR(
            opt, step_size=schedule["step_size"], gamma=schedule["gamma"])
    elif schedule and schedule["type"] == "multistep":
        sched = lambda: torch.optim.lr_scheduler.MultiStepLR(
            opt, milestones=schedule["milestones"], gamma=schedule["gamma"])
    elif schedule and schedule["type"] == "cosine":
        sched = lambda: torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=schedule["t_max"], eta_min=schedule["eta_min"])
    if warmup > 0:
        first = torch.optim.lr_scheduler.LinearLR(
            opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
        scheduler = torch.optim.lr_scheduler.SequentialLR(
            opt, [first, sched()], milestones=[warmup])
    else:
        scheduler = sched()
    rates = []
    for _ in range(train["epochs"]):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return rates


def main():
    runs, test_batch = sys.argv[1], sys.argv[2]
    labels, images = test_set(test_batch)
    for section in sorted(os.listdir(runs)):
        for variant in sorted(os.listdir(os.path.join(runs, section))):
            # One folder per seed: <section>/<variant>/seed-<seed>/.
            seeds = sorted(os.listdir(os.path.join(runs, section, variant)))
            if len(seeds) != 1:
                raise SystemExit(f"{section}/{variant}: expected one seed, found {seeds}")
            folder = os.path.join(runs, section, variant, seeds[0])
            if not os.path.isfile(os.path.join(folder, "run.json")):
                continue
            with open(os.path.join(folder, "run.json")) as f:
                record = json.load(f)
            line = {
                "run": f"{section}/{variant}",
                "folder": f"{section}/{variant}/{seeds[0]}",
                "state": record["status"]["state"],
            }
            if line["state"] == "complete":
                # The thread count the run evaluated with: kernels may split their sums
                # by thread, so the same count gives the same floats.
                torch.set_num_threads(record["threads"])
                with open(os.path.join(folder, "metrics.json")) as f:
                    metrics = json.load(f)
                name = f"model_{section}_{variant}".replace("-", "_")
                line["pytorch"] = evaluate(folder, name, labels, images)
                last = metrics["epochs"][-1]
                line["report"] = {
                    "accuracy": last["test_accuracy"],
                    "confusion": metrics["confusion"],
                    "loss": last["test_loss"],
                    "lrs": [e["lr"] for e in metrics["epochs"]],
                }
                with open(os.path.join(folder, "spec.json")) as f:
                    line["pytorch"]["lrs"] = learning_rates(json.load(f)["train"])
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
