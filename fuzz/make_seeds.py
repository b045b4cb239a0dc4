#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from ../shared (FATE's example confs and
data): make_seeds.py SHARED OUT writes OUT/<target>/<n> for every target."""
import base64, glob, json, os, sys

MAX = 64 << 10
shared, out = sys.argv[1], sys.argv[2]
fate = os.path.join(shared, "examples", "fate")
data = os.path.join(shared, "data")


def put(target, name, b):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(b[:MAX])


def varint(n):
    b = bytearray()
    while True:
        x = n & 0x7F
        n >>= 7
        if n:
            b.append(x | 0x80)
        else:
            b.append(x)
            return bytes(b)


def block(rows):
    return b"".join(varint(len(k)) + k + varint(len(v)) + v for k, v in rows)


csvs = sorted(glob.glob(os.path.join(data, "*.csv")))
# CSV parser: flag byte (head, extend_sid, auto_increasing_sid; partitions in
# the high bits), delimiter index (0 = ","), then the file's first 64 KiB.
for i, p in enumerate(csvs):
    with open(p, "rb") as f:
        body = f.read(MAX)
    body = body[: body.rfind(b"\n") + 1] or body
    put("upload_csv", f"{i:03}_head", bytes([0x31, 0]) + body)
    put("upload_csv", f"{i:03}_sid", bytes([0x23, 0]) + body[:4096])
    put("upload_csv", f"{i:03}_tab", bytes([0x01, 1]) + body[:4096].replace(b",", b"\t"))

# Line format: p \t tag \t count \t base64(rows), from the CSVs' rows.
for i, p in enumerate(csvs[:40]):
    with open(p, "rb") as f:
        lines = f.read(8192).splitlines()[1:20]
    rows = [(l.split(b",", 1)[0], l.split(b",", 1)[-1]) for l in lines if l]
    enc = block(rows)
    text = f"{i % 4}\t{i}\t{len(rows)}\t".encode() + base64.b64encode(enc) + b"\n"
    put("lines", f"{i:03}", text + b"0\t-1\t0\t\\N\n")
    put("lines", f"{i:03}_raw", bytes([len(rows)]) + enc)

# Upload confs: FATE's, and every JSON object naming a table.
n = 0
for p in sorted(glob.glob(os.path.join(fate, "**", "*.json"), recursive=True)):
    with open(p, "rb") as f:
        b = f.read()
    if b"table_name" in b or b"upload" in os.path.basename(p).encode():
        put("upload_conf", f"{n:03}", b)
        n += 1
put("upload_conf", "min", json.dumps({"file": "x.csv", "table_name": "t", "namespace": "n",
                                     "head": 1, "partition": 4, "id_delimiter": ","}).encode())

# Job conf + DSL pairs (conf \0 dsl), from the testsuites and the top-level pairs.
pairs = set()
for p in sorted(glob.glob(os.path.join(fate, "**", "*testsuite*.json"), recursive=True)):
    try:
        suite = json.load(open(p))
    except Exception:
        continue
    for task in (suite.get("tasks") or {}).values():
        if isinstance(task, dict) and "conf" in task and "dsl" in task:
            d = os.path.dirname(p)
            pairs.add((os.path.join(d, task["conf"]), os.path.join(d, task["dsl"])))
for c in glob.glob(os.path.join(fate, "*_conf.json")):
    d = c[: -len("_conf.json")] + "_dsl.json"
    if os.path.exists(d):
        pairs.add((c, d))
for i, (c, d) in enumerate(sorted(pairs)):
    try:
        with open(c, "rb") as f1, open(d, "rb") as f2:
            put("job_conf", f"{i:03}", f1.read() + b"\0" + f2.read())
    except OSError:
        pass

# Wire: an object, a table with two well-formed chunks, a stream.
put("wire", "object", bytes([0, 0, 0, 5, 0, 1, 0, 0, 0, 5]) + b"hello" + bytes([3, 0]))
put("wire", "table", bytes([1, 0, 1, 0, 2, 2, 2, 1]) + b"a" + bytes([1]) + b"b" + bytes([1]) + b"c"
    + bytes([2]) + b"vv" + bytes([1, 3, 0]))
put("wire", "stream", bytes([2, 0, 2, 0, 0, 1, 0, 0, 0, 3]) + b"abc" + bytes([3, 0]))

for t in sorted(os.listdir(out)):
    print(f"seeds {t}: {len(os.listdir(os.path.join(out, t)))}", file=sys.stderr)
