#!/usr/bin/env bash
# Prepares the kit bench/gpu.sh runs on a GPU machine: the release binary, stripped and
# xz-compressed (gpu.sh unpacks it with xz, or with Python's lzma where xz is missing),
# the CIFAR-10 archive and the commit, at most 40 MB in all, so that the device tool can
# carry the one folder (`carry: ["gpu-kit"]`) inside its 64 MiB.
#
#   bench/gpu-prepare.sh [--archive ARCHIVE] [--kit DIR]
#       ARCHIVE: CIFAR-10 as .tar.gz (default: the shared JPEG copy,
#       ../shared/datasets/cifar10-jpeg.tar.gz); DIR: where the kit goes (gpu-kit/)
#   bench/gpu-prepare.sh --check
#       what `make test` runs: a kit from the repository's own sample, which must leave
#       room for the full archive; the kit goes to target/gpu-kit-check
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
archive=$root/../shared/datasets/cifar10-jpeg.tar.gz
kit=$root/gpu-kit
check=0
while [ $# -gt 0 ]; do
    case $1 in
        --archive) archive=$2; shift 2 ;;
        --kit) kit=$2; shift 2 ;;
        --check) check=1; archive=$root/data/cifar10-sample.tar.gz; kit=$root/target/gpu-kit-check; shift ;;
        *) echo "gpu-prepare: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
# 40 MB, not MiB: the device tool carries 64 MiB, and the kit leaves room for the tree.
limit=40000000
# The full CIFAR-10 JPEG archive the GPU run trains on (../shared/datasets, 19.4 MB):
# a kit made from a smaller archive must still leave room for it.
full_archive=19434830

[ -f "$archive" ] || { echo "gpu-prepare: no CIFAR-10 archive at $archive" >&2; exit 1; }
command -v xz >/dev/null || { echo "gpu-prepare: needs xz (apt-get install xz-utils)" >&2; exit 1; }
make -C "$root" build >/dev/null
bin=$root/target/release/report
rm -rf "$kit"
mkdir -p "$kit"
# A full strip: debug lines and symbols. The symbols were 11.5 MB and backtraces named
# them; since the parts of Typst a report never runs are built unoptimised (Cargo.toml)
# they are 18 MB, and the kit would not fit. A panic still names its file and line.
strip -o "$kit/report" "$bin"
stripped=$(stat -c %s "$kit/report")
xz -9 -T0 -c "$kit/report" >"$kit/report.xz"
rm "$kit/report"
cp "$archive" "$kit/cifar10.tar.gz"
git -C "$root" rev-parse --short HEAD >"$kit/commit" 2>/dev/null || echo unknown >"$kit/commit"
packed=$(stat -c %s "$kit/report.xz")
data=$(stat -c %s "$kit/cifar10.tar.gz")
counted=$data
[ "$counted" -ge "$full_archive" ] || counted=$full_archive
size=$((packed + counted + $(stat -c %s "$kit/commit")))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "gpu-kit: binary $(mb "$stripped") stripped, $(mb "$packed") as report.xz; data $(mb "$data")$([ "$counted" != "$data" ] && echo " (counted as the full archive's $(mb "$full_archive"))"); $(mb "$size") of $(mb "$limit")"
if [ "$size" -gt "$limit" ]; then
    echo "gpu-prepare: $kit holds $size bytes, over the 40 MB the GPU machine is sent" >&2
    exit 1
fi
if [ "$check" = 1 ]; then
    # The kit unpacks as gpu.sh unpacks it, with Python's lzma too, to the same bytes.
    strip -o "$kit/expected" "$bin"
    python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' \
        "$kit/report.xz" >"$kit/unpacked"
    cmp -s "$kit/expected" "$kit/unpacked" || { echo "gpu-prepare: report.xz does not unpack to the binary" >&2; exit 1; }
    chmod +x "$kit/unpacked"
    "$kit/unpacked" --version >/dev/null
    rm -f "$kit/expected" "$kit/unpacked"
fi
echo "gpu-kit ready: $kit ($(ls "$kit" | tr '\n' ' '))"
