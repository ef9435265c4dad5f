#!/usr/bin/python3
"""make_idx_corpus.py - writes the IDX reader's seed corpus (tests/fuzz/corpus/idx/).

Tiny gzip-compressed IDX files, made here rather than cut from the real data: valid
labels and images, and one of each way a file can be wrong (truncated, a wrong CRC-32,
a forged count, bytes after the stream), so that fuzzing starts next to every check.
Run it from anywhere; it rewrites the folder. mtime=0 keeps the files the same bytes
on every run.
"""
import gzip
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "idx")


def idx(dims, items):
    return struct.pack(">I", 0x800 | len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + items


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


labels = idx([5], bytes([3, 0, 9, 9, 1]))
images = idx([2, 28, 28], bytes((i * 37) % 256 for i in range(2 * 28 * 28)))
good = gz(labels)
cases = {
    "labels.gz": good,
    "images.gz": gz(images),
    "truncated.gz": good[: len(good) // 2],
    "bad_crc.gz": good[:-8] + bytes([good[-8] ^ 1]) + good[-7:],
    "forged_count.gz": gz(idx([100000], bytes(5))),
    "trailing.gz": good + good[-8:],
    "float_items.gz": gz(struct.pack(">I", 0xD01) + struct.pack(">I", 1) + bytes(4)),
    "uncompressed.idx": labels,
}
os.makedirs(here, exist_ok=True)
for old in os.listdir(here):
    os.remove(os.path.join(here, old))
for name, data in cases.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
print(f"wrote {len(cases)} files into {here}")
