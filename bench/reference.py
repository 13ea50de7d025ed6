"""PyTorch reference pipelines for the training benchmark (see bench/README.md).

Trains one homework model (shared/homework/models.md) for N epochs on CIFAR-10 image
folders and prints one JSON line of measurements. Two pipelines:

  dataloader  torchvision ImageFolder + per-image PIL transforms + DataLoader workers,
              as the homework did;
  tensor      the fastest honest pure-PyTorch loop: images decoded once into a uint8
              tensor, batched tensor augmentation, no autograd at test time, loss and
              accuracy accumulated on the device and read once per epoch.

--channels-last runs either with the model and its inputs in channels-last memory
format, as `report` does by default.
"""

import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def model(name):
    """The models of shared/homework/models.md (5 and 9; the others follow the same table)."""
    def block(cin, cout, k, pool):
        layers = [nn.Conv2d(cin, cout, k), nn.BatchNorm2d(cout), nn.ReLU()]
        return layers + ([nn.MaxPool2d(2)] if pool else [])

    if name == "model-5":
        return nn.Sequential(*block(3, 16, 3, False), *block(16, 32, 3, True), *block(32, 16, 2, True),
                             nn.Flatten(), nn.Linear(576, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "model-9":
        return nn.Sequential(*block(3, 16, 3, False), *block(16, 32, 3, True), *block(32, 16, 2, False),
                             nn.Flatten(), nn.Linear(2704, 512), nn.ReLU(), nn.Linear(512, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    raise SystemExit(f"unknown model {name}")


def dataloader_pipeline(args, net, opt):
    import torchvision
    import torchvision.transforms as T

    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.ToTensor(), T.Normalize(MEAN, STD)])
    test_tf = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    train = torchvision.datasets.ImageFolder(os.path.join(args.data, "train"), train_tf)
    test = torchvision.datasets.ImageFolder(os.path.join(args.data, "test"), test_tf)
    train_dl = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True, num_workers=args.workers,
                                           persistent_workers=args.workers > 0)
    test_dl = torch.utils.data.DataLoader(test, batch_size=1000, num_workers=args.workers)

    def epoch():
        net.train()
        seen = correct = 0
        for x, y in train_dl:
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            opt.zero_grad()
            out = net(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            seen += len(y)
            correct += (out.argmax(1) == y).sum().item()
        return seen, correct / seen

    def evaluate():
        net.eval()
        correct = n = 0
        with torch.no_grad():
            for x, y in test_dl:
                if args.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                correct += (net(x).argmax(1) == y).sum().item()
                n += len(y)
        return correct / n

    return epoch, evaluate


def decode_folder(root):
    """Decodes train/ or test/ once into (uint8 N×3×32×32, int64 labels)."""
    from torchvision.io import decode_image
    classes = sorted(os.listdir(root))
    xs, ys = [], []
    for label, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            data = torch.frombuffer(bytearray(open(os.path.join(root, c, f), "rb").read()), dtype=torch.uint8)
            xs.append(decode_image(data))
            ys.append(label)
    return torch.stack(xs), torch.tensor(ys)


def tensor_pipeline(args, net, opt):
    train_x, train_y = decode_folder(os.path.join(args.data, "train"))
    test_x, test_y = decode_folder(os.path.join(args.data, "test"))
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    ar = torch.arange(32)

    def crop(x, pad=4):
        b = x.shape[0]
        p = F.pad(x, (pad, pad, pad, pad))
        oy = torch.randint(0, 2 * pad + 1, (b,))
        ox = torch.randint(0, 2 * pad + 1, (b,))
        rows = (oy[:, None] + ar)[:, None, :, None].expand(b, 3, 32, 32 + 2 * pad)
        cols = (ox[:, None] + ar)[:, None, None, :].expand(b, 3, 32, 32)
        return p.gather(2, rows).gather(3, cols)

    fmt = torch.channels_last if args.channels_last else torch.contiguous_format

    def epoch():
        net.train()
        n = len(train_y)
        perm = torch.randperm(n)
        correct = torch.zeros((), dtype=torch.long)
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            x = ((crop(train_x[idx].float() / 255) - mean) / std).contiguous(memory_format=fmt)
            y = train_y[idx]
            out = net(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == y).sum()
        return n, correct.item() / n

    def evaluate():
        net.eval()
        correct = torch.zeros((), dtype=torch.long)
        with torch.no_grad():
            for i in range(0, len(test_y), 1000):
                x = ((test_x[i:i + 1000].float() / 255 - mean) / std).contiguous(memory_format=fmt)
                correct += (net(x).argmax(1) == test_y[i:i + 1000]).sum()
        return correct.item() / len(test_y)

    return epoch, evaluate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", choices=["dataloader", "tensor"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="folder with train/<class>/ and test/<class>/")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    net = model(args.model)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    start = time.perf_counter()
    epoch, evaluate = (dataloader_pipeline if args.pipeline == "dataloader" else tensor_pipeline)(args, net, opt)
    setup = time.perf_counter() - start
    train_seconds = epoch_seconds = 0.0
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        seen, train_acc = epoch()
        t1 = time.perf_counter()
        test_acc = evaluate()
        train_seconds += t1 - t0
        epoch_seconds += time.perf_counter() - t0
    print(json.dumps({
        "pipeline": args.pipeline, "model": args.model, "epochs": args.epochs,
        "images_per_second": seen * args.epochs / train_seconds,
        "epoch_seconds": epoch_seconds / args.epochs, "setup_seconds": setup,
        "train_accuracy": train_acc, "test_accuracy": test_acc,
        "channels_last": args.channels_last, "seed": args.seed, "torch": torch.__version__, "threads": torch.get_num_threads(), "workers": args.workers,
    }))


if __name__ == "__main__":
    main()
