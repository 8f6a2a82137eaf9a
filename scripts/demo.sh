#!/usr/bin/env bash
# The main job, end to end: set up, convert the bundled IR-Net digits model to
# .irb, run the whole digits test split through irnet-infer, compare with
# onnxruntime and the float32 twin, and write out/report.md + out/report.png.
#   scripts/demo.sh            (THREADS=n to run the engine with n threads)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
export PATH="$ROOT/.venv/bin:$PATH"
mkdir -p out
echo "=== irnet-convert models/irnet_digits.onnx out/irnet_digits.irb ==="
irnet-convert models/irnet_digits.onnx out/irnet_digits.irb
echo "=== irnet-convert models/float_digits.onnx out/float_digits.irb (the float32 twin) ==="
irnet-convert models/float_digits.onnx out/float_digits.irb | tail -n 1
echo "=== running the digits test split ==="
python tools/digits_demo.py --irb out/irnet_digits.irb --float-irb out/float_digits.irb \
  --out out --threads "${THREADS:-1}"
