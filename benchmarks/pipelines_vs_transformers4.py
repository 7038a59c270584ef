"""Our QA and seq2seq tasks side by side with transformers 4's own pipelines (the reference).

Builds tiny random models (tests/core/hf_fixtures.py) into a temporary folder *with the
reference venv's transformers*, so both sides load the same files; runs every case with our
``run_task`` (this interpreter: transformers 5, where these pipelines are gone) and with
``transformers.pipeline`` in the reference venv (a subprocess); prints per task the largest
score difference and whether answers, spans and texts match. Not part of the tests.

usage: python benchmarks/pipelines_vs_transformers4.py [--venv /work/venv-tf4] [--keep DIR]
  The venv: python3 -m venv /work/venv-tf4 &&
            /work/venv-tf4/bin/pip install torch 'transformers==4.49.*' sentencepiece safetensors tokenizers
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LONG = " ".join(["Paris is a beautiful city in France ."] * 12) + " The workbench trains a small transformer ."
CONTEXT = "The capital of France is Paris . Paris is a beautiful city in France . Hyperboloids live in Berkeley ."

# (task name, model, inputs, params): the same call on both sides.
CASES = [
    ("question-answering", "bert-qa", {"question": "What is the capital of France?", "context": CONTEXT}, {}),
    ("question-answering", "bert-qa", {"question": "Who lives in Berkeley?", "context": CONTEXT}, {"top_k": 3}),
    ("question-answering", "bert-qa", {"question": "Where?", "context": CONTEXT}, {"align_to_words": False, "top_k": 3}),
    ("question-answering", "bert-qa", {"question": "Is it raining on the moon?", "context": CONTEXT},
     {"handle_impossible_answer": True}),
    ("question-answering", "bert-qa", {"question": "What does the workbench train?", "context": LONG}, {}),
    ("question-answering", "bert-qa", {"question": "What does the workbench train?", "context": LONG},
     {"doc_stride": 10, "max_seq_len": 40, "top_k": 2, "max_answer_len": 4}),
    ("question-answering", "bert-qa-left", {"question": "What is the capital of France?", "context": CONTEXT}, {}),
    ("translation_en_to_fr", "t5", "the house is blue .", {}),
    ("translation_en_to_fr", "t5", ["the house is blue .", "est-ce la ?"], {"max_new_tokens": 8}),
    ("translation", "marian", "Le chat est noir et la maison est bleue ?", {"max_new_tokens": 10}),
    ("translation", "marian", "the house", {"max_new_tokens": 6, "num_beams": 2, "num_return_sequences": 2}),
    ("summarization", "t5", "the quick brown fox jumps over the lazy dog . is it ?", {}),
    ("summarization", "t5", ["the quick brown fox .", "the lazy dog !"], {"max_new_tokens": 6}),
    ("text2text-generation", "t5", "def add ( a , b ) : return a + b", {"max_new_tokens": 10}),
    ("text2text-generation", "t5", "hello world", {"max_new_tokens": 5, "num_beams": 3, "num_return_sequences": 3}),
]

# Runs in the reference venv: build the models, then run every case with transformers' pipelines.
REFERENCE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import hf_fixtures
from pathlib import Path
import transformers
from transformers import AutoTokenizer, pipeline
root, cases = Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text())
folders = {"bert-qa": hf_fixtures.build_bert_qa(root / "bert-qa"), "t5": hf_fixtures.build_t5(root / "t5"),
           "marian": hf_fixtures.build_marian(root / "marian")}
hf_fixtures.build_bert_qa(root / "bert-qa-left")
left = AutoTokenizer.from_pretrained(root / "bert-qa-left")
left.padding_side = "left"
left.save_pretrained(root / "bert-qa-left")
out = []
for task, model, inputs, params in cases:
    pipe = pipeline(task, model=str(root / model))
    if task == "question-answering":
        out.append(pipe(question=inputs["question"], context=inputs["context"], **params))
    else:
        out.append(pipe(inputs, **params))
print(json.dumps({"version": transformers.__version__, "results": out}))
"""


def flatten(result) -> list[dict]:
    items = result if isinstance(result, list) else [result]
    return [r for item in items for r in (item if isinstance(item, list) else [item])]


def compare(ours, theirs) -> tuple[bool, float]:
    """(same answers/spans/texts and shape, largest score difference)."""
    same_shape = type(ours) is type(theirs) and (not isinstance(ours, list) or
                                                 [type(x) for x in ours] == [type(x) for x in theirs])
    a, b = flatten(ours), flatten(theirs)
    if len(a) != len(b):
        return False, float("nan")
    diff = 0.0
    same = same_shape
    for x, y in zip(a, b):
        if set(x) != set(y):
            return False, float("nan")
        for key in x:
            if key == "score":
                diff = max(diff, abs(x[key] - y[key]))
            elif x[key] != y[key]:
                same = False
    return same, diff


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default="/work/venv-tf4", help="the venv with transformers 4.x")
    parser.add_argument("--keep", help="build the models here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    python = Path(args.venv) / "bin" / "python"
    if not python.exists():
        print(f"no reference venv at {args.venv} (see this script's docstring)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        cases_file = root / "cases.json"
        cases_file.write_text(json.dumps(CASES))
        done = subprocess.run([str(python), "-c", REFERENCE, str(ROOT / "tests" / "core"), str(root), str(cases_file)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        reference = json.loads(done.stdout.strip().splitlines()[-1])
        from core.errors import UserError
        from core.hf.pipelines import run_task

        print(f"reference: transformers {reference['version']} pipelines; ours: core.hf.pipelines")
        print(f"{'task':22} {'model':13} {'params':58} {'same':5} {'max |score diff|'}")
        worst: dict[str, float] = {}
        all_same = True
        for (task, model, inputs, params), theirs in zip(CASES, reference["results"]):
            try:
                ours = run_task(task, str(root / model), inputs, params)
            except UserError as exc:  # a parameter we do not take, ...: a difference, not a crash
                ours = f"error: {exc}"
            same, diff = compare(ours, theirs) if not isinstance(ours, str) else (False, float("nan"))
            all_same &= same
            worst[task] = max(worst.get(task, 0.0), diff) if diff == diff else diff
            shown = json.dumps(params)[:58]
            print(f"{task:22} {model:13} {shown:58} {'yes' if same else 'NO':5} {diff:.2e}")
            if not same:
                print(f"    ours:   {json.dumps(ours)[:300]}\n    theirs: {json.dumps(theirs)[:300]}")
        print("per task, largest score difference: " + ", ".join(f"{t} {d:.2e}" for t, d in worst.items()))
        print("answers, spans and texts: " + ("all the same" if all_same else "DIFFERENT (see above)"))
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
