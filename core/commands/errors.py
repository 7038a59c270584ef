"""`twb errors CHECKPOINT --data FILE`: the examples the model gets wrong, worst first."""
from __future__ import annotations

import argparse
import json

from core.formatting import shorten

DEFAULT_TOP = 20


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (every row) or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "errors", help="list the examples a trained model gets wrong, worst first",
        description="Predict every row of a labelled file with the checkpoint's classifier and list the "
        "misclassified ones by loss (-log p(true label)): true and predicted label, confidence, file line, text.",
    )
    parser.add_argument("checkpoint", help="checkpoint folder (runs/<run>/best) or a run folder (its latest)")
    parser.add_argument("--data", required=True, metavar="FILE",
                        help="labelled CSV, TSV or JSONL file, e.g. the run's validation file")
    parser.add_argument("--top", type=_count, default=DEFAULT_TOP, metavar="N",
                        help=f"show the N worst (default {DEFAULT_TOP}; 0: all)")
    parser.add_argument("--true", metavar="LABEL", help="only rows of this true label (a confusion-matrix row)")
    parser.add_argument("--predicted", metavar="LABEL", help="only rows predicted as this label (a column)")
    parser.add_argument("--json", action="store_true", help="print JSON lines, one per row, instead of a table")
    parser.set_defaults(func=errors_command)


def errors_command(args: argparse.Namespace) -> int:
    from core.errors import UserError
    from core.explain.errors import error_report, read_labelled
    from core.training.checkpoint import load_classifier

    loaded = load_classifier(args.checkpoint)
    for option, label in (("--true", args.true), ("--predicted", args.predicted)):
        if label is not None and label not in loaded.label_names:
            raise UserError(f"{option} {label!r} is not one of the model's classes",
                            f"choose one of: {', '.join(loaded.label_names)}")
    texts, labels, lines = read_labelled(args.data, loaded.label_names)
    report = error_report(loaded.predict, texts, labels, lines)
    rows = [r for r in report.rows if (args.true is None or r.true == args.true)
            and (args.predicted is None or r.predicted == args.predicted)]
    shown = rows if not args.top else rows[: args.top]
    if args.json:
        for row in shown:
            print(json.dumps(row.to_record(), ensure_ascii=False))
        return 0
    print(f"{len(report.rows)} of {report.total} rows misclassified (accuracy {report.accuracy:.3f}); "
          f"showing {len(shown)} of {len(rows)}{_filter_text(args)}, worst first")
    if shown:
        width = max(len("true"), *(len(r.true) for r in shown))
        pwidth = max(len("predicted"), *(len(r.predicted) for r in shown))
        print(f"{'loss':>6}  {'true':<{width}}  {'predicted':<{pwidth}}  conf  {'line':>5}  text")
        for r in shown:
            print(f"{r.loss:6.3f}  {r.true:<{width}}  {r.predicted:<{pwidth}}  {r.confidence:.2f}  "
                  f"{r.line if r.line is not None else '':>5}  {shorten(r.text, 80)}")
    return 0


def _filter_text(args: argparse.Namespace) -> str:
    parts = [f"true {args.true}"] * (args.true is not None) + [f"predicted {args.predicted}"] * (args.predicted is not None)
    return f" ({', '.join(parts)})" if parts else ""
