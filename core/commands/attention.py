"""`twb attention "TEXT" --model M`: how a model attends to a text, as text or as an image."""
from __future__ import annotations

import argparse

from core.errors import UserError

EPILOG = """examples:
  twb attention "a good movie" --model runs/<run>/best                 top attended tokens, per token
  twb attention "a good movie" --model runs/<run>/best --layer 2 --head 1 --out head.svg
  twb attention "Paris is nice" --model path/to/hf-model --grid --out model-view.png
"""
TOP_K = 3


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "attention", help="a model's attention for a text: the most attended tokens, or an SVG/PNG image",
        description="Compute the attention of a workbench checkpoint or a local Hugging Face model for TEXT. "
                    "Without --out, print each token's most attended tokens for one layer and head; with "
                    "--out FILE.svg or FILE.png, draw that layer and head (or, with --grid, every layer x "
                    "head) into the image. Layers and heads count from 1, as the attention pane shows them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", help="the text to look at")
    parser.add_argument("--model", required=True, metavar="FOLDER",
                        help="a checkpoint folder (runs/<run>/best) or a Hugging Face model folder")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--head", metavar="H", default="mean",
                       help="head number, or 'mean' for the mean of the layer's heads (default: mean)")
    which.add_argument("--grid", action="store_true", help="every layer x head in one image (needs --out)")
    parser.add_argument("--layer", type=int, default=1, metavar="L", help="layer number (default: 1)")
    parser.add_argument("--out", metavar="FILE", help="write an image: FILE.svg or FILE.png")
    parser.set_defaults(func=attention_command)


def _head(value: str) -> int | None:
    """The --head value as a 1-based head number, None for the mean."""
    if value.strip().lower() == "mean":
        return None
    try:
        return int(value)
    except ValueError:
        raise UserError(f"--head {value!r} is not a head number", "give a number from 1, or 'mean'") from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_layer_head(view, layer: int, head: int | None) -> tuple[int, int | None]:
    """1-based numbers as given to 0-based indexes; a UserError naming the range when out of it."""
    if not 1 <= layer <= view.num_layers:
        raise UserError(f"--layer {layer} is out of range: the model has {_count(view.num_layers, 'layer')}",
                        f"give --layer from 1 to {view.num_layers}")
    if head is not None and not 1 <= head <= view.num_heads:
        raise UserError(f"--head {head} is out of range: each layer has {_count(view.num_heads, 'head')}",
                        f"give --head from 1 to {view.num_heads}, or 'mean'")
    return layer - 1, None if head is None else head - 1


def top_lines(view, layer: int, head: int | None) -> list[str]:
    """One line per query token: the tokens it attends to most in that layer and head."""
    from core.attention import token_label, top_attended

    width = min(16, max(len(token_label(t)) for t in view.tokens))
    lines = []
    for q, token in enumerate(view.tokens):
        top = ", ".join(f"{token_label(t)} {w:.2f}" for t, w in top_attended(view, layer, head, q, TOP_K))
        lines.append(f"{token_label(token):>{width}} -> {top}")
    return lines


def attention_command(args: argparse.Namespace) -> int:
    from core.render import check_image_path

    head = _head(args.head)
    if args.grid and not args.out:
        raise UserError("--grid draws an image", "add --out FILE.svg or --out FILE.png")
    out = check_image_path(args.out) if args.out else None  # before loading the model: a typo costs nothing
    from core.hf.attention import attention_of_model

    view = attention_of_model(args.model, args.text)
    layer, head_index = check_layer_head(view, args.layer, None if args.grid else head)
    if out is None:
        which = "mean of heads" if head_index is None else f"head {head_index + 1}/{view.num_heads}"
        print(f"{view.source} · layer {layer + 1}/{view.num_layers} · {which} · {len(view.tokens)} tokens")
        if view.prediction:
            label, prob = max(view.prediction.items(), key=lambda kv: kv[1])
            print(f"predicts {label} ({prob:.2f})")
        print("\n".join(top_lines(view, layer, head_index)))
        return 0
    from core.render import attention_figure, grid_figure, save_figure

    fig = grid_figure(view) if args.grid else attention_figure(view, layer, head_index)
    print(f"wrote {save_figure(fig, out)}")
    return 0
