#!/usr/bin/env python3
"""Builds data/cifar10-sample.tar.gz, the small CIFAR-10 subset embedded in the repo.

Usage: scripts/make-sample.py SOURCE.tar.gz [OUTPUT.tar.gz]

SOURCE is the full JPEG archive (cifar10-jpeg/{train,test}/<class>/NNNN.jpg). The sample
keeps the first TRAIN_PER_CLASS train and TEST_PER_CLASS test images of every class, by
sorted file name, under cifar10-sample/ instead of cifar10-jpeg/.

The output is byte-for-byte reproducible: members are sorted, every timestamp is 0,
owners are 0/root, modes are fixed, and the gzip header carries no name and mtime 0, so
re-running the script gives the same sha256. Standard library only.
"""

import gzip
import io
import os
import sys
import tarfile

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
OUT_ROOT = "cifar10-sample"
DEFAULT_OUTPUT = os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "data", "cifar10-sample.tar.gz")
)


def read_source(path):
    """Returns {(split, class): {file name: bytes}} for the source's regular files."""
    found = {}
    with tarfile.open(path, "r:*") as src:
        for member in src:
            if not member.isfile():
                continue
            name = member.name
            while name.startswith("./"):
                name = name[2:]
            parts = name.split("/")
            if len(parts) != 4 or parts[1] not in ("train", "test"):
                continue
            _, split, cls, name = parts
            found.setdefault((split, cls), {})[name] = src.extractfile(member).read()
    return found


def select(found):
    """Picks the first N files per class and split; fails if a class has too few."""
    chosen = {}
    for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        classes = sorted(cls for (s, cls) in found if s == split)
        if not classes:
            sys.exit(f"{split}/ has no class folders in the source archive")
        for cls in classes:
            files = found[(split, cls)]
            names = sorted(files)
            if len(names) < per_class:
                sys.exit(f"{split}/{cls} has {len(names)} images, need {per_class}")
            for name in names[:per_class]:
                chosen[f"{OUT_ROOT}/{split}/{cls}/{name}"] = files[name]
    return chosen


def tar_bytes(chosen):
    """A USTAR archive of `chosen` with parent folders, in sorted order, all metadata fixed."""
    dirs = set()
    for name in chosen:
        parts = name.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(dirs | set(chosen)):
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if name in dirs:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = chosen[name]
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    source = sys.argv[1]
    output = sys.argv[2] if len(sys.argv) == 3 else DEFAULT_OUTPUT
    chosen = select(read_source(source))
    raw = tar_bytes(chosen)
    # Written beside the target and renamed, so an interrupted run never leaves half a file.
    tmp = output + ".tmp"
    with open(tmp, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
            gz.write(raw)
    os.replace(tmp, output)
    print(f"{output}: {len(chosen)} images, {os.path.getsize(output)} bytes")


if __name__ == "__main__":
    main()
