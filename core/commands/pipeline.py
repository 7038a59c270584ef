"""`twb pipeline TASK --model M "text"`: the console's command-line twin; prints the JSON result."""
from __future__ import annotations

import argparse
import json
import sys

from core.errors import UserError


class _IntermixedParser(argparse.ArgumentParser):
    """Lets the text come after options (`pipeline TASK --model M "text"`): plain argparse
    would take the positionals only from before the first option."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(sub: argparse._SubParsersAction) -> None:
    parser_class, sub._parser_class = sub._parser_class, _IntermixedParser
    try:
        _add_parser(sub)
    finally:
        sub._parser_class = parser_class


def _add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "pipeline", help="run a Hugging Face pipeline task and print its JSON result",
        description="Run a pipeline task (sentiment-analysis, text-generation, translation_en_to_fr, "
        "question-answering, ...) with a model given by Hugging Face id or local folder. "
        "Offline (HF_HUB_OFFLINE=1), only local or cached models run.",
        epilog='examples:\n'
        '  twb pipeline sentiment-analysis "I love this"\n'
        '  twb pipeline translation_en_to_fr --model Helsinki-NLP/opus-mt-en-fr "Hello"\n'
        '  twb pipeline question-answering --model ./qa-model --question "Who?" --context "..."\n'
        '  twb pipeline zero-shot-classification "I love Paris" --param candidate_labels=travel,food\n'
        '  twb pipeline --list-tasks | --list-models',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", nargs="?", help="task name or alias (see --list-tasks)")
    parser.add_argument("text", nargs="*", help="the input: text, an image path, or the question")
    parser.add_argument("--model", "-m", metavar="M", help="Hugging Face id or model folder (default: the task's)")
    parser.add_argument("--question", metavar="TEXT", help="question-answering: the question")
    parser.add_argument("--context", metavar="TEXT", help="question-answering: the text holding the answer")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                        help="a task parameter, e.g. top_k=3 or max_new_tokens=20 (repeatable)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="allow this model to run Python code shipped with it (only for authors you trust)")
    parser.add_argument("--list-tasks", action="store_true", help="list the tasks and exit")
    parser.add_argument("--list-models", action="store_true", help="list the models usable offline and exit")
    parser.add_argument("--models-dir", action="append", default=[], metavar="DIR",
                        help="with --list-models: also look for model folders under DIR (repeatable)")
    parser.set_defaults(func=pipeline_command)


def parse_param(text: str) -> tuple[str, object]:
    """k=v with v read as JSON when it is JSON (3, 0.5, true, ["a"]), else as a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--param {text!r} is not KEY=VALUE", "e.g. --param top_k=3")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def pipeline_command(args: argparse.Namespace) -> int:
    from core.hf import pipelines

    if args.list_tasks:
        print(format_tasks())
        return 0
    if args.list_models:
        models = pipelines.list_local_models(args.models_dir)
        for m in models:
            print(f"{m.name:40} {m.source:9} {m.architecture or '?':36} {m.path}")
        if not models:
            print("no local models (run a model once online to cache it, or export one with `twb export`)")
        return 0
    if not args.task:
        raise UserError("no task given", "e.g. twb pipeline sentiment-analysis \"I love this\" (see --list-tasks)")
    params = dict(parse_param(p) for p in args.param)
    text = " ".join(args.text)
    if args.context is not None:
        params["context"] = args.context
    if args.question is not None:
        text = args.question
    run = pipelines.run_pipeline(args.task, args.model, text, params, trust_remote_code=args.trust_remote_code)
    for notice in run.notices:
        print(f"twb: note: {notice}", file=sys.stderr)
    print(json.dumps(run.result, indent=2, ensure_ascii=False))
    return 0


def format_tasks() -> str:
    from core.hf.pipelines import ALIASES, TASKS
    from core.hf.pipelines.runners import RUNNERS

    aliases: dict[str, list[str]] = {}
    for alias, target in ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    aliases.setdefault("translation", []).append("translation_xx_to_yy")
    lines = [f"{'task':26} {'runs on':13} {'aliases':28} description"]
    for spec in TASKS.values():
        runs_on = RUNNERS[spec.name].implementation
        lines.append(f"{spec.name:26} {runs_on:13} {', '.join(aliases.get(spec.name, [])):28} {spec.summary}")
    return "\n".join(lines)
