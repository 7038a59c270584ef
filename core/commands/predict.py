"""`twb predict MODEL --data FILE [--out FILE]`: a label and a score for every row of a file."""
from __future__ import annotations

import argparse
import sys

from core.commands.inference_common import RowProgress, add_arguments, load

EPILOG = """examples:
  twb predict runs/sst2/best --data reviews.csv --out predictions.csv
  twb predict exported/ --data texts.jsonl --format jsonl | head
  twb predict ~/models/distilbert-sst2 --data dev.tsv --text-column sentence
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "predict", help="label every text of a CSV/TSV/JSONL file with a trained classifier",
        description="Predict a label and its score for every row of a file (labels in it are not needed), "
                    "with a twb checkpoint, a `twb export` folder or any Hugging Face text-classification "
                    "folder. Rows come out in the file's order; texts are batched by length for speed.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--out", metavar="FILE", help="write text,label,score rows to FILE (.csv, .jsonl or .tsv; "
                                                       "written whole or not at all); default: stdout")
    parser.add_argument("--format", choices=("tsv", "jsonl"), default="tsv", help="stdout's format without --out")
    parser.set_defaults(func=predict_command)


def predict_command(args: argparse.Namespace) -> int:
    from core.inference import predict_proba, top_labels
    from core.inference.output import out_format, render, write_predictions

    fmt = out_format(args.out, args.data) if args.out else args.format  # refused before any work
    classifier, table, options = load(args, labels_optional=True)
    progress = RowProgress()
    try:
        scores = predict_proba(classifier, table.texts, progress=progress, **options)
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    labels, best = top_labels(classifier, scores)
    text = render(fmt, table.texts, labels, best)
    if args.out:
        write_predictions(args.out, text)
        print(f"wrote {len(labels):,} predictions to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
