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
# PYTHON picks the interpreter (default: .venv/bin/python, else python3); COURSE_TOLERANCE
# bounds the relative difference at epochs 10..90 (default 1e-2; epoch 0 must agree to 1e-6).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

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

echo "== 4/4 the course notebook's d = n runs on cuda"
"$PYTHON" - <<'EOF'
import math
import os
import time

import torch

from movierec.model.cost import CoLikeCost
from movierec.book.course import COURSE_ADAM_COSTS, COURSE_SWEEP_COSTS, against_printed
from movierec.book.course import course_adam_config, course_sweep_configs
from movierec.data import likes_matrix, load_movielens
from movierec.model.train import train

tolerance = float(os.environ.get("COURSE_TOLERANCE", "1e-2"))
data = load_movielens()
likes = likes_matrix(data.ratings, data.movies)
cost = CoLikeCost(likes, "cuda")
failed = False
for config in [course_adam_config(100), *course_sweep_configs(100)]:
    torch.cuda.synchronize()
    start = time.perf_counter()
    result = train(likes, config, device="cuda", cost=cost)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"{config.label} draw {config.init_draw}, d = n: {result.status_text}, {seconds:.1f} s "
          f"({seconds / config.epochs * 1e3:.1f} ms per epoch), final cost {result.final_cost:,.1f}")
    printed = COURSE_ADAM_COSTS if config == course_adam_config(100) else COURSE_SWEEP_COSTS.get(
        (config.optimizer, config.lr))
    if printed is None:
        continue
    table = against_printed(result, printed)
    print(table.to_string(index=False, float_format=lambda value: f"{value:,.6g}"))
    first = table["relative difference"].iloc[0]
    later = table["relative difference"].iloc[1:].dropna()
    if first > 1e-6 or (later > tolerance).any():
        failed = True
        print(f"FAILED: epoch 0 must agree to 1e-6 (got {first:.1e}), later epochs to {tolerance:g} "
              f"(worst {later.max() if len(later) else math.nan:.1e})")
raise SystemExit(1 if failed else 0)
EOF
echo "gpu_check: all done"
