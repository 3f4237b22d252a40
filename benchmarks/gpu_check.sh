#!/usr/bin/env bash
# The GPU checks of movierec, in one go, on a machine with a CUDA device:
#   1. the tests marked gpu (tests/test_gpu.py) on cuda: cost, kernel, training, NCCL ranks;
#   2. benchmarks/cost_epoch.py --full on cuda: the seed's step vs movierec's, d up to n;
#   3. benchmarks/scale.py --device cuda: the step at every release's shape, peak GPU memory;
#   4. the course notebook's d = n runs (Adam lr 0.5 and the sweep, 100 epochs each) timed, with
#      the Adam run's costs at epochs 0, 10, ..., 90 against the ones the course printed.
# On a machine without CUDA it says so and exits 0.
#
#   MOVIEREC_DATA=/path/to/ml-latest-small.zip benchmarks/gpu_check.sh
#
# PYTHON picks the interpreter (default: .venv/bin/python, else python3), papermill beside it; the
# course page's first cost must agree with the printed one to 1e-6, and its executed copy (every
# printed cost beside the rerun's) lands in $OUT (default: here).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
PAPERMILL=("$PYTHON" -m papermill)

if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: no CUDA device: skipped"
    exit 0
fi
if [[ -z "${MOVIEREC_DATA:-}" ]]; then
    echo "gpu_check: set MOVIEREC_DATA to the ml-latest-small archive" >&2
    exit 2
fi
"$PYTHON" -c "import torch; print('gpu_check:', torch.cuda.device_count(), 'x', torch.cuda.get_device_name(0), \
'| torch', torch.__version__, '| CUDA', torch.version.cuda)"

echo "== 1/4 tests on cuda (marker gpu)"
MOVIEREC_TEST_DEVICE=cuda "$PYTHON" -m pytest -m gpu -q -p no:cacheprovider tests/test_gpu.py

echo "== 2/4 benchmarks/cost_epoch.py --full --device cuda"
"$PYTHON" benchmarks/cost_epoch.py --full --device cuda

echo "== 3/4 benchmarks/scale.py --device cuda"
"$PYTHON" benchmarks/scale.py --device cuda

echo "== 4/4 the course notebook's d = n runs on cuda: its own page, 100 epochs and its sweep"
"${PAPERMILL[@]}" notebooks/05_course.ipynb "${OUT:-.}/05_course-cuda.ipynb" -p course_epochs 100 -p course_sweep True \
    --cwd "$PWD" --no-progress-bar
"$PYTHON" - "${OUT:-.}/05_course-cuda.ipynb" <<'EOF'
import sys

from movierec.book.pages import read_results

results = read_results(sys.argv[1])
print(f"first cost {results['first_cost']:,.1f} against the printed {results['printed_first_cost']:,.1f}: "
      f"relative {results['relative_difference']:.1e}; sweep runs stored: {results['sweep_stored']} of 6")
raise SystemExit(0 if results["relative_difference"] < 1e-6 and results["sweep_stored"] == 6 else 1)
EOF
echo "gpu_check: all done"
