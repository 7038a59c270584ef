"""A classifier trained on synthetic data where one known word decides the label.

Texts are 4-8 words drawn from a neutral vocabulary; those with "not" somewhere are
"negative", the others "positive". A model that learned the task must lean on "not".
"""
import random
from pathlib import Path

from core.config import apply_overrides, preset

DECIDING_WORD = "not"
NEUTRAL = ("the film plot actor scene was is a an very quite rather story music it this that "
           "really so long short day night people movie ending").split()


def not_texts(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = [rng.choice(NEUTRAL) for _ in range(rng.randint(4, 8))]
        negated = i % 2 == 0
        if negated:
            words.insert(rng.randrange(len(words) + 1), DECIDING_WORD)
        rows.append((" ".join(words), "negative" if negated else "positive"))
    return rows


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows), encoding="utf-8")
    return path


def train_not_model(folder: Path):
    """Train the nano preset on the "not" task; returns the run's out dir (best/ and last/)."""
    from core.training.trainer import Trainer

    train = write_tsv(folder / "train.tsv", not_texts(1200, seed=1))
    val = write_tsv(folder / "val.tsv", not_texts(200, seed=2))
    config = apply_overrides(preset("nano"), [
        "data.source=file", f"data.train_path={train}", f"data.val_path={val}", "train.epochs=3"])
    out = folder / "run"
    Trainer(config, lambda event: None, out_dir=out).run()
    return out
