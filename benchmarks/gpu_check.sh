#!/usr/bin/env bash
# One check of the workbench on a CUDA machine, in under 8 minutes; prints one summary table.
#
#   1. throughput: `twb train` (seed-shaped model, bf16) against the tutorial's loop
#      (../shared/baseline/seed_loop.py, run here on CUDA under bf16 autocast), same data and batch
#   2. DDP over NCCL on every GPU present: `twb train --nproc-per-node <GPUs>`
#   3. CUDA out-of-memory recovery: a run that cannot fit fails with the one-line OOM error, and
#      the next run in the same process trains
#   4. GPU memory readings in the session log (StepLogged.memory_bytes)
#
# usage: benchmarks/gpu_check.sh [PYTHON]     (default: python3; run from anywhere)
# Without CUDA it says so in one line and exits 2.
set -u
PY="${1:-python3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASELINE="${TWB_BASELINE:-$ROOT/../shared/baseline/seed_loop.py}"
SST2="${TWB_SST2:-$ROOT/../shared/data/sst2}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT" || exit 2

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "gpu_check: no CUDA device is available to $PY (torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'not installed')); nothing was checked" >&2
    exit 2
fi
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
WORK="$(mktemp -d -t twb-gpu-check-XXXX)"
trap 'rm -rf "$WORK"' EXIT
declare -a ROWS

row() { ROWS+=("$(printf '%-34s %-10s %s' "$1" "$2" "$3")"); }

# Data: SST-2 train when present, else the built-in synthetic task.
if [[ -f "$SST2/train.tsv" ]]; then
    DATA=(--data "$SST2/train.tsv" --val "$SST2/dev.tsv" --set data.tokenizer=word --set model.vocab_size=16000)
    BASE_DATA=(--data "$SST2/train.tsv" --vocab 16000)
else
    DATA=(--set data.source=synthetic --set data.num_samples=20000)
    BASE_DATA=(--vocab 1000)
fi
SHAPE=(--preset seed --set model.max_seq_len=64 --set train.batch_size=256 --set train.epochs=1
       --set train.log_every_steps=50 --set train.bf16=true --quiet)

session_figure() {  # session folder name -> "samples_per_s max_memory_bytes"
    "$PY" - "$WORK/sessions" "$1" <<'PY'
import json, sys
from pathlib import Path
folder = next(p for p in Path(sys.argv[1]).iterdir() if p.name.endswith(sys.argv[2]))
records = [json.loads(l) for l in (folder / "session.jsonl").read_text().splitlines()]
steps = [r for r in records if r.get("type") == "StepLogged"]
rates = [r["samples_per_s"] for r in steps[1:]] or [r["samples_per_s"] for r in steps] or [0]
memory = max((r.get("memory_bytes") or 0 for r in steps), default=0)
print(f"{sorted(rates)[len(rates) // 2]:.0f} {memory}")
PY
}

# 1. throughput against the tutorial's loop on CUDA with bf16.
BASE=$(timeout 120 "$PY" - "$BASELINE" "${BASE_DATA[@]}" <<'PY' 2>&1 | tail -1
import runpy, sys, time
import torch
path, rest = sys.argv[1], sys.argv[2:]
seed = runpy.run_path(path)  # the tutorial's model and data loading, unchanged
data = rest[rest.index("--data") + 1] if "--data" in rest else None
vocab = int(rest[rest.index("--vocab") + 1])
torch.manual_seed(42)
if data:
    x, y = seed["load_tsv"](data, vocab, 64)
else:
    x, y = torch.randint(1, vocab, (256 * 300, 64)), torch.randint(0, 2, (256 * 300,))
x, y = x.cuda(), y.cuda()
model = seed["SeedTransformer"](vocab, 128, 4, 2, 256, 2, 100).cuda()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
n, batch = 0, 256
for step in range(310):
    if step == 10:
        torch.cuda.synchronize(); t0, n = time.perf_counter(), 0
    i = (step * batch) % (len(x) - batch)
    opt.zero_grad()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = loss_fn(model(x[i:i + batch]).float(), y[i:i + batch])
    loss.backward(); opt.step(); n += batch
torch.cuda.synchronize()
print(f"{n / (time.perf_counter() - t0):.0f}")
PY
)
if timeout 240 "$PY" -m core.cli train "${SHAPE[@]}" "${DATA[@]}" --out "$WORK/one" --session one \
        --sessions-dir "$WORK/sessions" >"$WORK/one.log" 2>&1; then
    read -r RATE MEM <<<"$(session_figure one)"
    RATIO=$("$PY" -c "print(f'{$RATE / max(1.0, float(\"${BASE:-0}\" or 0)):.2f}x')" 2>/dev/null || echo "?")
    row "throughput, 1 GPU, bf16" "ok" "twb $RATE samples/s vs tutorial loop ${BASE:-?} samples/s: $RATIO"
    row "GPU memory in the log" "$([[ ${MEM:-0} -gt 0 ]] && echo ok || echo MISSING)" \
        "max StepLogged.memory_bytes $(( ${MEM:-0} / 1048576 )) MiB"
else
    row "throughput, 1 GPU, bf16" "FAILED" "$(tail -1 "$WORK/one.log")"
fi

# 2. DDP over NCCL on every GPU.
if timeout 240 "$PY" -m core.cli train "${SHAPE[@]}" "${DATA[@]}" --nproc-per-node "$GPUS" --out "$WORK/ddp" \
        --session ddp --sessions-dir "$WORK/sessions" >"$WORK/ddp.log" 2>&1; then
    read -r DRATE DMEM <<<"$(session_figure ddp)"
    row "DDP/NCCL x $GPUS GPU(s)" "ok" "$DRATE samples/s in all; $(grep -o 'Val Accuracy: [0-9.]*' "$WORK/ddp.log" | tail -1)"
else
    row "DDP/NCCL x $GPUS GPU(s)" "FAILED" "$(tail -1 "$WORK/ddp.log")"
fi

# 3. CUDA out-of-memory recovery, in one process.
OOM=$(timeout 120 "$PY" - <<'PY' 2>&1 | tail -1
import torch
from core import events as ev
from core.config import apply_overrides, preset
from core.training.trainer import Trainer
torch.cuda.set_per_process_memory_fraction(0.003)  # a few hundred MiB, so a big batch runs out
def outcome(*overrides):
    seen = []
    trainer = Trainer(apply_overrides(preset("nano"), list(overrides)), seen.append)
    trainer.run()
    return seen[-1]
big = outcome("model.emb_dim=1024", "model.ff_dim=8192", "model.max_seq_len=512", "train.batch_size=1024",
              "data.num_samples=4096", "train.epochs=1")
small = outcome("train.epochs=1")
ok = isinstance(big, ev.TrainingFailed) and "ran out of memory" in big.message and isinstance(small, ev.TrainingFinished)
print(("ok " if ok else "FAILED ") + (big.message if isinstance(big, ev.TrainingFailed) else type(big).__name__)
      + f"; then {type(small).__name__}")
PY
)
row "CUDA OOM recovery" "${OOM%% *}" "${OOM#* }"

echo
printf '%-34s %-10s %s\n' "check" "result" "figures"
printf '%s\n' "${ROWS[@]}"
[[ "${ROWS[*]}" != *FAILED* && "${ROWS[*]}" != *MISSING* ]]
