"""Built-in data sets, generated from the seed: no files needed.

- ``random``: the tutorial's data, random token sequences with random labels. Nothing links a
  text to its label, so accuracy stays at chance: it teaches what overfitting looks like.
- ``synthetic``: a learnable task in English-looking sentences. With two classes it is
  sentiment with negation ("the plot was not good" is negative), so attention has something to
  do; with three, neutral sentences join; with more, each class is a topic.

Both return plain texts, so they go through the same tokenizer path as a user's file.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

# Mixed into the seed so the data and the model's initial weights don't share one stream.
_DATA_SEED_SALT = 0x5EED_DA7A


@dataclass
class GeneratedData:
    texts: list[str]
    labels: list[int]
    label_names: list[str]


def random_data(num_samples: int, num_classes: int, vocab_size: int, seq_len: int, seed: int) -> GeneratedData:
    """The tutorial's random data as text: ``seq_len`` tokens like ``t17`` per example.

    Words are drawn from ``vocab_size - 2`` distinct tokens so that, with the word tokenizer,
    every one of them has its own id next to [PAD] and [UNK].
    """
    rng = random.Random(seed ^ _DATA_SEED_SALT)
    words = max(1, vocab_size - 2)
    texts = [" ".join(f"t{rng.randrange(words)}" for _ in range(max(1, seq_len))) for _ in range(num_samples)]
    labels = [rng.randrange(num_classes) for _ in range(num_samples)]
    return GeneratedData(texts, labels, [str(i) for i in range(num_classes)])


# --- synthetic ----------------------------------------------------------------------------

POSITIVE = ("good", "great", "wonderful", "excellent", "delightful", "charming", "brilliant", "enjoyable",
            "moving", "funny", "clever", "beautiful", "superb", "fresh", "touching", "gripping")
NEGATIVE = ("bad", "boring", "awful", "dull", "terrible", "tedious", "clumsy", "bland", "weak", "painful",
            "messy", "forgettable", "stale", "silly", "lifeless", "predictable")
NEUTRAL = ("long", "recent", "french", "quiet", "ordinary", "familiar", "short", "serious", "modern", "late")
NEGATORS = ("not", "never", "hardly", "not really")
INTENSIFIERS = ("", "", "", "very", "really", "quite", "truly", "rather", "so")
SUBJECTS = ("movie", "film", "plot", "acting", "story", "script", "cast", "ending", "soundtrack", "direction",
            "dialogue", "pacing", "camera", "hero", "music", "screenplay")
OPENERS = ("", "", "", "honestly ,", "overall ,", "i think", "in the end ,", "frankly ,", "my friends said",
           "we agreed that")
CLOSERS = ("", "", ".", ".", "!", "for me .", "this time .", "in my view .", "if you ask me .")

TOPICS: dict[str, tuple[str, ...]] = {
    "sports": ("football", "match", "goal", "coach", "stadium", "tennis", "league", "referee", "team", "race"),
    "food": ("pizza", "soup", "bread", "recipe", "chef", "dinner", "cheese", "kitchen", "salad", "dessert"),
    "music": ("guitar", "song", "concert", "album", "drummer", "melody", "band", "piano", "singer", "chorus"),
    "travel": ("flight", "hotel", "beach", "passport", "train", "island", "luggage", "museum", "tour", "map"),
    "science": ("experiment", "atom", "telescope", "theory", "laboratory", "molecule", "physics", "data",
                "microscope", "planet"),
    "weather": ("rain", "storm", "sunshine", "snow", "wind", "cloud", "forecast", "thunder", "fog", "heat"),
    "money": ("bank", "loan", "price", "budget", "salary", "market", "tax", "coin", "invest", "profit"),
    "health": ("doctor", "fever", "hospital", "medicine", "nurse", "sleep", "exercise", "diet", "vaccine",
               "clinic"),
}
TOPIC_FRAMES = ("yesterday we talked about the {a} and the {b}", "the {a} was on the news again",
                "she wrote a long note about the {a}", "nobody expected the {a} to matter so much",
                "my neighbour keeps asking about the {a} and the {b}", "there was a question about the {a}",
                "the {a} and the {b} came up at lunch", "i read an article on the {a}")

_SYLLABLES = ("ka", "lo", "mi", "ren", "tas", "vo", "ble", "dor", "fin", "gu", "pel", "sor", "tri", "zan")


def _pseudo_topic(index: int, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A made-up topic (name and words) for class counts beyond the built-in topics."""
    words = tuple("".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(10))
    return f"topic_{index}", words


def _topics(num_classes: int, seed: int) -> list[tuple[str, tuple[str, ...]]]:
    rng = random.Random(seed ^ _DATA_SEED_SALT ^ 0x7091C)
    topics = list(TOPICS.items())[:num_classes]
    while len(topics) < num_classes:
        topics.append(_pseudo_topic(len(topics), rng))
    return topics


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _sentiment_clause(rng: random.Random, polarity: int | None) -> str:
    """ "the plot was not good": ``polarity`` 1 positive, 0 negative, None neutral."""
    subject = rng.choice(SUBJECTS)
    if polarity is None:
        adjective, negated = rng.choice(NEUTRAL), False
    else:
        # Negation flips the meaning, so a bag of words alone can't get every sentence right.
        negated = rng.random() < 0.3
        adjective = rng.choice(POSITIVE if polarity != negated else NEGATIVE)
    # "felt never good" is not English; negated clauses keep to "was"/"is".
    verb = rng.choice(("was", "is") if negated else ("was", "is", "felt", "seemed"))
    return _join("the", subject, verb, rng.choice(NEGATORS) if negated else "",
                 "" if negated else rng.choice(INTENSIFIERS), adjective)


def synthetic_data(num_samples: int, num_classes: int, seed: int) -> GeneratedData:
    """A learnable classification task; balanced classes, deterministic for ``seed``."""
    rng = random.Random(seed ^ _DATA_SEED_SALT)
    labels = [i % num_classes for i in range(num_samples)]
    rng.shuffle(labels)
    texts: list[str] = []
    if num_classes in (2, 3):
        names = ["negative", "positive"] if num_classes == 2 else ["negative", "neutral", "positive"]
        for label in labels:
            polarity = None if names[label] == "neutral" else int(names[label] == "positive")
            clause = _sentiment_clause(rng, polarity)
            if rng.random() < 0.2:  # a neutral aside, so position alone doesn't give the answer
                aside = _sentiment_clause(rng, None)
                clause = _join(aside, "and", clause) if rng.random() < 0.5 else _join(clause, "and", aside)
            texts.append(_join(rng.choice(OPENERS), clause, rng.choice(CLOSERS)))
        return GeneratedData(texts, labels, names)
    topics = _topics(num_classes, seed)
    for label in labels:
        words = topics[label][1]
        a, b = rng.sample(words, 2)
        texts.append(_join(rng.choice(OPENERS), rng.choice(TOPIC_FRAMES).format(a=a, b=b), rng.choice(CLOSERS)))
    return GeneratedData(texts, labels, [name for name, _ in topics])
