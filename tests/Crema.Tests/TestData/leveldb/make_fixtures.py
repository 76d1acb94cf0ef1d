#!/usr/bin/python3
"""Regenerates the LevelDB fixtures with real libleveldb (Debian: apt-get install python3-plyvel).

Each fixture is a Caffe-style Datum database of MNIST digits (keys "%08d", channels 1, 28x28, raw bytes, label)
taken from data/mnist-10k, plus overwrites and deletions, and expected.tsv: what plyvel's iterator sees at the end
(key, label, sha256 of the value), in order. Run from anywhere: /usr/bin/python3 make_fixtures.py
"""
import gzip
import hashlib
import os
import shutil

import plyvel

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "..", "..", "data", "mnist-10k")


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def datum(pixels, label):
    """caffe.Datum: channels=1, height=2, width=3, data=4 (bytes), label=5."""
    return (b"\x08" + varint(1) + b"\x10" + varint(28) + b"\x18" + varint(28)
            + b"\x22" + varint(len(pixels)) + pixels + b"\x28" + varint(label))


def digits(count):
    with gzip.open(os.path.join(MNIST, "train-images-idx3-ubyte.gz")) as f:
        images = f.read()[16:16 + count * 784]
    with gzip.open(os.path.join(MNIST, "train-labels-idx1-ubyte.gz")) as f:
        labels = f.read()[8:8 + count]
    return [(images[i * 784:(i + 1) * 784], labels[i]) for i in range(count)]


def key(i):
    return b"%08d" % i


def fresh(name):
    path = os.path.join(HERE, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def finish(db, path):
    with open(os.path.join(path, "..", path + ".expected.tsv"), "w") as out:
        for k, v in db.iterator():
            label = v[v.rindex(b"\x28") + 1]  # label is the last field, a one-byte varint here
            out.write("%s\t%d\t%s\n" % (k.decode(), label, hashlib.sha256(v).hexdigest()))
    db.close()
    for junk in ("LOG", "LOG.old", "LOCK"):
        if os.path.exists(os.path.join(path, junk)):
            os.remove(os.path.join(path, junk))


def main():
    d = digits(30)

    # 1. Everything compacted into Snappy-compressed tables: 20 digits, key 5 overwritten, key 7 deleted.
    path = fresh("mnist20_sst")
    db = plyvel.DB(path, create_if_missing=True, compression="snappy")
    for i in range(20):
        db.put(key(i), datum(*d[i]))
    db.put(key(5), datum(d[25][0], d[25][1]))
    db.delete(key(7))
    db.compact_range()
    finish(db, path)

    # 2. Everything still in the write-ahead log (never reopened, so never flushed): batches, overwrites, deletions.
    path = fresh("mnist20_log")
    db = plyvel.DB(path, create_if_missing=True)
    with db.write_batch() as wb:
        for i in range(20):
            wb.put(key(i), datum(*d[i]))
    db.put(key(3), datum(*d[23]))
    db.delete(key(11))
    db.delete(key(99))  # deleting a key that never existed is harmless
    db.put(key(20), datum(*d[20]))
    finish(db, path)

    # 3. Mixed: a compacted table, a level-0 table (a log flushed when reopened) and a live log, each shadowing the last.
    path = fresh("mnist20_mixed")
    db = plyvel.DB(path, create_if_missing=True)
    for i in range(20):
        db.put(key(i), datum(*d[i]))
    db.compact_range()
    db.put(key(2), datum(*d[22]))
    db.delete(key(4))
    db.put(key(21), datum(*d[21]))
    db.close()
    db = plyvel.DB(path)
    db.put(key(2), datum(*d[27]))
    db.put(key(4), datum(*d[24]))
    db.delete(key(19))
    db.delete(key(21))
    finish(db, path)


if __name__ == "__main__":
    main()
