"""`twb export CHECKPOINT FOLDER`: write a trained classifier as a Hugging Face model folder."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export", help="write a trained checkpoint as a Hugging Face model folder",
        description="Write the checkpoint's classifier as a Hugging Face model folder (config.json with "
        "the label names, model.safetensors, tokenizer files). In Python, `import core.hf.classifier` "
        "and then transformers.pipeline('text-classification', model=FOLDER) loads it.",
    )
    parser.add_argument("checkpoint", help="checkpoint folder, e.g. runs/<run>/best")
    parser.add_argument("folder", help="the folder to write (new, empty, or an earlier export)")
    parser.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    from core.hf.export import export_checkpoint

    out = export_checkpoint(args.checkpoint, args.folder)
    print(f"exported to {out}")
    print(f"  twb pipeline text-classification --model {out} \"some text\"")
    return 0
