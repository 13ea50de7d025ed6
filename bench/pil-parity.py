#!/usr/bin/env python3
"""Compares the images `report` decoded from an image-folder dataset with PIL's.

    bench/pil-parity.py SOURCE CACHE_FILE [--image-size N] [--resize N] [--grayscale]

SOURCE is a folder or .tar/.tar.gz of train/<class>/<image> and test/<class>/<image>;
CACHE_FILE is the decoded copy `report` wrote (out/cache/data/<fingerprint>.bin, after
any command that reads the data, e.g. `report list`). Images are decoded with PIL as
torchvision's ImageFolder does (convert("RGB"), or "L"), then Resize/CenterCrop as
torchvision's transforms do when asked (the same arithmetic, without torchvision),
and compared byte for byte. Needs pillow and numpy.
"""
import io, json, struct, sys, tarfile, argparse
from pathlib import Path

import numpy as np
from PIL import Image, features


def members(source):
    """(split, class, name) -> bytes, in the order report reads them."""
    files = {}
    p = Path(source)
    if p.is_dir():
        for f in p.rglob("*"):
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts):
                files[str(f.relative_to(p))] = f.read_bytes()
    else:
        with tarfile.open(p) as t:
            for m in t.getmembers():
                if m.isfile() and not any(part.startswith(".") for part in m.name.split("/")):
                    files[m.name.lstrip("./")] = t.extractfile(m).read()
    return files


def prepare(img, args):
    img = img.convert("L" if args.grayscale else "RGB")
    if args.image_size:
        short = args.resize or args.image_size
        w, h = img.size
        if w <= h:
            size = (short, int(short * h / w))
        else:
            size = (int(short * w / h), short)
        if size != img.size:
            img = img.resize(size, Image.BILINEAR)
        w, h = img.size
        top = int(round((h - args.image_size) / 2.0))
        left = int(round((w - args.image_size) / 2.0))
        img = img.crop((left, top, left + args.image_size, top + args.image_size))
    a = np.asarray(img)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("cache")
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--resize", type=int)
    ap.add_argument("--grayscale", action="store_true")
    args = ap.parse_args()

    raw = Path(args.cache).read_bytes()
    assert raw[:8] == b"RPTDATA\0", "not a report data cache"
    header_len = struct.unpack("<I", raw[12:16])[0]
    header = json.loads(raw[16:16 + header_len])
    shape = header["shape"]
    per = shape["channels"] * shape["height"] * shape["width"]
    offset = 16 + header_len

    files = members(args.source)
    root = next(k[:k.find("train/")] for k in sorted(files)
                if k.startswith("train/") or "/train/" in k)
    total = differing = worst = 0
    for split in ("train", "test"):
        names = sorted(k for k in files if k.startswith(f"{root}{split}/"))
        n = header[split]
        assert len(names) == n, f"{split}: {len(names)} files, cache has {n}"
        ours = np.frombuffer(raw, np.uint8, n * per, offset).reshape(n, per)
        offset += n * per + n
        for i, name in enumerate(names):
            theirs = prepare(Image.open(io.BytesIO(files[name])), args).reshape(-1)
            d = np.abs(theirs.astype(int) - ours[i].astype(int))
            total += d.size
            differing += int((d > 0).sum())
            worst = max(worst, int(d.max()))
    print(f"PIL {Image.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}")
    print(f"{total} decoded bytes compared: {differing} differ "
          f"({100 * differing / total:.3f} %), by at most {worst}")


if __name__ == "__main__":
    main()
