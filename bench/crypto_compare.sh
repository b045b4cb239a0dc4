#!/usr/bin/env bash
# Compare fedflow-crypto's 1024-bit Paillier with FATE's fate_utils and phe,
# one core each (taskset -c 0, RAYON_NUM_THREADS=1), in the same run.
#
#   bash bench/crypto_compare.sh [SECONDS_PER_ROW]
#
# Creates .venv-bench/ at the repository root (idempotent), installs
# fate-utils==0.1.0 (or pyfate==2.2.0 if that fails), phe, gmpy2 and numpy,
# times encrypt/decrypt/add/scalar-mul, runs `--example bench` of
# fedflow-crypto and prints both side by side with ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECS=${1:-1.0}
VENV="$ROOT/.venv-bench"
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# Keep the venv out of git without touching the repository's .gitignore.
[ -f "$VENV/.gitignore" ] || echo '*' > "$VENV/.gitignore"
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
if ! "$VENV/bin/python" -c 'import fate_utils.paillier' 2>/dev/null; then
  "${PIP[@]}" numpy
  "${PIP[@]}" fate-utils==0.1.0 || "${PIP[@]}" pyfate==2.2.0
fi
"$VENV/bin/python" -c 'import phe, gmpy2' 2>/dev/null || "${PIP[@]}" phe gmpy2

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c 0); fi
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1

echo "building fedflow-crypto bench example (release)..." >&2
cargo build --release -q -p fedflow-crypto --example bench
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
OURS=$(mktemp)
PYOUT=$(mktemp)
trap 'rm -f "$OURS" "$PYOUT"' EXIT

echo "timing fate_utils and phe (1 core)..." >&2
"${PIN[@]}" "$VENV/bin/python" - "$SECS" >"$PYOUT" <<'PYEOF'
import json, random, sys, time

SECS = float(sys.argv[1])
N = 64

def rate(fn, per_call):
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= SECS and n >= 2:
            return n * per_call / el

res = {}
xs = [random.uniform(-1, 1) for _ in range(N)]
try:
    import numpy as np
    import fate_utils.paillier as fp
    sk, pk, coder = fp.keygen(1024)
    enc = coder.encode_f64_vec(np.array(xs))
    ct = pk.encrypt_encoded(enc, True)
    s = coder.encode_f64(0.987654321)
    res["fate_utils"] = {
        "encrypt": rate(lambda: pk.encrypt_encoded(enc, True), N),
        "decrypt": rate(lambda: coder.decode_f64_vec(sk.decrypt_to_encoded(ct)), N),
        "add": rate(lambda: ct.add(pk, ct), N),
        "scalar-mul": rate(lambda: ct.mul_scalar(pk, s), N),
    }
except Exception as e:  # noqa: BLE001
    print("fate_utils unavailable:", e, file=sys.stderr)
try:
    from phe import paillier
    ppk, psk = paillier.generate_paillier_keypair(n_length=1024)
    cts = [ppk.encrypt(x) for x in xs]
    cts2 = [ppk.encrypt(x * 0.75) for x in xs]
    res["phe"] = {
        "encrypt": rate(lambda: [ppk.encrypt(x) for x in xs], N),
        "decrypt": rate(lambda: [psk.decrypt(c) for c in cts], N),
        "add": rate(lambda: [a + b for a, b in zip(cts, cts2)], N),
        "scalar-mul": rate(lambda: [c * 0.987654321 for c in cts], N),
    }
except Exception as e:  # noqa: BLE001
    print("phe unavailable:", e, file=sys.stderr)
print(json.dumps(res))
PYEOF

echo "timing fedflow-crypto (1 core)..." >&2
"${PIN[@]}" "$TARGET_DIR/release/examples/bench" --paillier-1024 "$SECS" >"$OURS"

"$VENV/bin/python" - "$PYOUT" "$OURS" <<'PYEOF'
import json, sys

py = json.load(open(sys.argv[1]))
ours = {}
for line in open(sys.argv[2]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 5 and cells[2] == "1024":
        ours[cells[1]] = float(cells[3])
mapping = [
    ("encrypt", "encrypt (public key, DJN fixed-base)"),
    ("encrypt", "encrypt (key owner, CRT r^n)"),
    ("encrypt", "encrypt (public key, full r^n as FATE)"),
    ("decrypt", "decrypt (CRT)"),
    ("add", "add (ciphertext + ciphertext)"),
    ("scalar-mul", "scalar-mul f64 (53-bit mantissa)"),
]
libs = [l for l in ("fate_utils", "phe") if l in py]
hdr = "| op (1024-bit, 1 core, ops/s) | " + " | ".join(libs) + " | fedflow-crypto | ratio vs best |"
print(hdr)
print("|" + "---|" * (len(libs) + 3))
for op, ours_name in mapping:
    theirs = [py[l].get(op, 0.0) for l in libs]
    best = max(theirs) if theirs else 0.0
    o = ours.get(ours_name, 0.0)
    ratio = f"{o / best:.2f}x" if best else "n/a"
    cells = " | ".join(f"{t:,.0f}" for t in theirs)
    print(f"| {op}: {ours_name} | {cells} | {o:,.0f} | {ratio} |")
PYEOF
