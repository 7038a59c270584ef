"""`twb eval MODEL --data FILE`: accuracy, the per-class report and the confusion matrix."""
from __future__ import annotations

import argparse
import dataclasses
import json

from core.commands.inference_common import RowProgress, add_arguments, load

EPILOG = """examples:
  twb eval runs/sst2/best --data ../shared/data/sst2/dev.tsv
  twb eval exported/ --data test.csv --json > report.json
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval", help="score a trained classifier on labelled data: accuracy, per-class report, confusion matrix",
        description="Evaluate a twb checkpoint, a `twb export` folder or a Hugging Face text-classification "
                    "folder on a labelled CSV/TSV/JSONL file; prints the same report as training's.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--full-report", metavar="FILE.csv",
                        help="with more than 20 classes, every class's figures go to this CSV file")
    parser.set_defaults(func=eval_command)


def eval_command(args: argparse.Namespace) -> int:
    from core.commands.printer import HeadlessPrinter
    from core.inference.evaluation import evaluate

    classifier, table, options = load(args, labels_optional=False)
    progress = RowProgress()
    try:
        report = evaluate(classifier, table, progress=progress, **options)
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    if args.json:
        data = {"model": classifier.name, "data": table.path, "rows": len(table.texts), **dataclasses.asdict(report)}
        del data["epoch"]  # a training field: an evaluation has none
        print(json.dumps(data, indent=2))
        return 0
    print(f"Evaluation of {classifier.name} on {table.path} ({len(table.texts):,} rows): "
          f"accuracy {report.accuracy:.4f}")
    HeadlessPrinter(quiet=True, full_report=args.full_report)(report)
    return 0
