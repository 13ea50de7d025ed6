#!/usr/bin/env python3
"""Writes an MNIST-format dataset of rendered digits, for trying the IDX path offline.

    bench/synthetic-mnist.py DIR [--train 6000] [--test 1000] [--seed 0]

DIR receives train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz and classes.txt, laid out as
`report data fetch mnist` leaves the real MNIST: 28×28 grayscale digits, white on black,
each drawn with PIL's built-in font at a random size, position and rotation, with noise.
They are not MNIST's handwriting; they only exercise the same format and shapes.
"""
import argparse, gzip, random, struct
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

NAMES = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
         "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]


def digit(d, rng):
    img = Image.new("L", (56, 56), 0)
    font = ImageFont.load_default(size=rng.randint(26, 40))
    ImageDraw.Draw(img).text((28 + rng.randint(-5, 5), 28 + rng.randint(-5, 5)), str(d),
                             fill=rng.randint(180, 255), font=font, anchor="mm")
    img = img.rotate(rng.uniform(-20, 20), resample=Image.BILINEAR)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.0)))
    img = img.resize((28, 28), Image.BILINEAR)
    noise = bytes(min(255, p + rng.randint(0, 30)) for p in img.tobytes())
    return noise


def write(path, magic_dims, payload):
    header = struct.pack(">BBBB", 0, 0, 0x08, len(magic_dims)) + b"".join(
        struct.pack(">I", d) for d in magic_dims)
    with gzip.open(path, "wb") as f:
        f.write(header + payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--train", type=int, default=6000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", a.train), ("t10k", a.test)):
        labels = [i % 10 for i in range(n)]
        rng.shuffle(labels)
        images = b"".join(digit(l, rng) for l in labels)
        write(out / f"{prefix}-images-idx3-ubyte.gz", (n, 28, 28), images)
        write(out / f"{prefix}-labels-idx1-ubyte.gz", (n,), bytes(labels))
    (out / "classes.txt").write_text("\n".join(NAMES) + "\n")
    print(f"{a.train} train and {a.test} test images in {out}")


if __name__ == "__main__":
    main()
