"""Recording overhead on training throughput: the same run recorded as a session and not.

Same config, same data, same script; the two arms alternate (A B A B ...) so that machine load
hits both alike, and the medians are compared. Two logging rates: the preset's, and the worst
case of asking for a StepLogged after every optimizer step (the trainer still emits at most one
every 0.1 s). Checkpoints are written in both arms (the recorder adds an fsync of the log at
each one). End-to-end timings on a shared machine are noisy, so the script also measures the
recorder's cost per record directly and prints the overhead that cost implies for each run.

    python benchmarks/session_recording_overhead.py [--pairs 3] [--device auto]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import config as cfg  # noqa: E402
from core.data.prepare import prepare_data  # noqa: E402
from core.sessions import SessionRecorder  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def one_run(config: cfg.RunConfig, data, root: Path, recorded: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds of Trainer.run, and the log records written (0 when not recorded).

    CPU time (all threads of this process) is much less disturbed by other processes than
    wall time on a shared machine, so it is the figure to trust there.
    """
    out = Path(tempfile.mkdtemp(dir=root))
    recorder = SessionRecorder.create("bench", root / "sessions", config=config) if recorded else None
    on_event = recorder.on_event if recorder else (lambda event: None)
    trainer = Trainer(config, on_event, out_dir=out, data=data)
    start, cpu = time.perf_counter(), time.process_time()
    trainer.run()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    records = 0
    if recorder:
        recorder.close()
        records = sum(1 for _ in open(recorder.writer.path, "rb"))
    assert type(trainer.outcome).__name__ == "TrainingFinished", trainer.outcome
    return elapsed, cpu, records


def cost_per_record(root: Path, n: int = 20000) -> float:
    from core.events import StepLogged

    recorder = SessionRecorder.create("cost", root / "sessions")
    event = StepLogged(epoch=1, step=1, total_steps=1000, epoch_progress=0.5, loss=0.6931, lr=1e-3,
                       samples_per_s=1234.5, tokens_per_s=23456.7, elapsed_s=12.3, eta_s=45.6, memory_bytes=123456789)
    start = time.perf_counter()
    for _ in range(n):
        recorder.on_event(event)
    seconds = (time.perf_counter() - start) / n
    recorder.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; 1 keeps timings steady on a shared machine")
    args = parser.parse_args()
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    base = cfg.preset(args.preset)
    base = cfg.apply_overrides(base, [f"data.num_samples={args.samples}", "train.epochs=1", f"train.device={args.device}"])
    data = prepare_data(base.data, base.model, base.train.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one_run(base, data, root, recorded=False)  # warm-up: allocator, kernels, page cache
        per_record = cost_per_record(root)
        print(f"recorder: {per_record * 1e6:.1f} us per StepLogged record (json + one write syscall)")
        for log_every in (base.train.log_every_steps, 1):
            config = cfg.with_field(base, "train.log_every_steps", log_every)
            plain, recorded, records = [], [], 0
            for _ in range(args.pairs):
                plain.append(one_run(config, data, root, recorded=False)[:2])
                wall, cpu, records = one_run(config, data, root, recorded=True)
                recorded.append((wall, cpu))
            (pw, pc), (rw, rc) = ([statistics.median(x) for x in zip(*arm)] for arm in (plain, recorded))
            print(f"log every {log_every} step(s), {records} records a run, median of {args.pairs} pairs:")
            print(f"  not recorded {pw:.3f} s wall / {pc:.3f} s CPU; recorded {rw:.3f} s wall / {rc:.3f} s CPU")
            print(f"  recorded / not recorded: {rc / pc:.3f}x CPU time, {rw / pw:.3f}x wall time "
                  "(budget: at most 1.02x)")
            print(f"  implied by the per-record cost: {records * per_record / pw * 100:.3f}% of the run")


if __name__ == "__main__":
    main()
