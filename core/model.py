"""The Transformer text classifier: embedding + positions + encoder layers + pooling + head.

The tutorial's model, done right:

- every tensor is (batch, time, channels) end to end, so attention never mixes the samples
  of a batch (the tutorial feeds (B, T, E) to layers built for (T, B, E));
- padding is masked out of attention (as keys) and out of the pooled sentence vector;
- attention runs through ``scaled_dot_product_attention`` (fused kernels) while training and
  predicting; only when the weights are asked for does it take an explicit softmax path, whose
  output is computed from exactly the weights it returns.

The encoder layer is the tutorial's block, ``nn.TransformerEncoderLayer``'s default: post-norm,
ReLU feed-forward, dropout on attention weights and on both residual branches. This file holds
only the model; the trainer knows nothing about it beyond ``forward`` and ``attention_maps``.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from core.config import ModelConfig
from core.dropout import Dropout, dropout

PAD_ID = 0


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused Q/K/V projection (as nn.MultiheadAttention)."""

    def __init__(self, emb_dim: int, n_heads: int, dropout: float):
        super().__init__()
        if emb_dim % n_heads:
            raise ValueError(f"emb_dim={emb_dim} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.head_dim = emb_dim // n_heads
        self.dropout = dropout
        self.in_proj = nn.Linear(emb_dim, 3 * emb_dim)
        self.out_proj = nn.Linear(emb_dim, emb_dim)
        # nn.MultiheadAttention's initialisation, so training behaves like the tutorial's layer.
        nn.init.xavier_uniform_(self.in_proj.weight)
        nn.init.zeros_(self.in_proj.bias)
        nn.init.zeros_(self.out_proj.bias)

    def heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Project to per-head queries, keys and values, each (B, H, T, D)."""
        B, T, E = x.shape
        qkv = self.in_proj(x)  # (B, T, 3E)
        # split (backward: one cat), not indexing (backward: three zero-filled copies of qkv)
        q, k, v = (t.view(B, T, self.n_heads, self.head_dim).transpose(1, 2) for t in qkv.split(E, dim=-1))
        return q, k, v

    def forward(self, x: Tensor, key_mask: Tensor | None, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        """x (B, T, E); key_mask (B, T) bool, True = a real token that may be attended to.

        Returns the attention output (B, T, E) before the residual, and the weights
        (B, H, T, T) that produced it when ``need_weights`` (else None).
        """
        B, T, E = x.shape
        q, k, v = self.heads(x)  # (B, H, T, D) each
        mask = None if key_mask is None else key_mask[:, None, None, :]  # (B, 1, 1, T)
        p = self.dropout if self.training else 0.0
        # With dropout on a CPU (where core.dropout draws its own mask), SDPA takes its unfused
        # path anyway, and draws its mask slowly.
        if need_weights or (p and x.device.type == "cpu"):
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (B, H, T, T)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)  # padding keys: exactly 0
            weights = dropout(weights, p)  # the weights used are the ones returned
            y = weights @ v  # (B, H, T, D)
            if not need_weights:
                weights = None
        else:
            weights = None
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, E)  # heads side by side: (B, T, E)
        return self.out_proj(y), weights


class EncoderLayer(nn.Module):
    """Post-norm encoder block with ReLU: nn.TransformerEncoderLayer's defaults, batch first."""

    def __init__(self, emb_dim: int, n_heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.self_attn = SelfAttention(emb_dim, n_heads, dropout)
        self.linear1 = nn.Linear(emb_dim, ff_dim)
        self.linear2 = nn.Linear(ff_dim, emb_dim)
        self.norm1 = nn.LayerNorm(emb_dim)
        self.norm2 = nn.LayerNorm(emb_dim)
        self.dropout = Dropout(dropout)  # inside the feed-forward
        self.dropout1 = Dropout(dropout)  # on the attention branch
        self.dropout2 = Dropout(dropout)  # on the feed-forward branch

    def forward(self, x: Tensor, key_mask: Tensor | None, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        attn, weights = self.self_attn(x, key_mask, need_weights)  # (B, T, E), (B, H, T, T) | None
        x = self.norm1(x + self.dropout1(attn))
        ff = self.linear2(self.dropout(F.relu(self.linear1(x))))  # (B, T, E)
        x = self.norm2(x + self.dropout2(ff))
        return x, weights


def sinusoidal_table(length: int, dim: int) -> Tensor:
    """The fixed sine/cosine position table of "Attention Is All You Need": (length, dim)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (P, 1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))  # (ceil(C/2),)
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table


class TransformerClassifier(nn.Module):
    """Token ids (B, T) and a padding mask (B, T) in, class logits (B, C) out."""

    def __init__(self, cfg: ModelConfig, num_classes: int, vocab_size: int | None = None):
        super().__init__()
        if cfg.positional not in ("learned", "sinusoidal"):
            raise ValueError(f"unknown positional encoding {cfg.positional!r}")
        if cfg.pooling not in ("mean", "cls"):
            raise ValueError(f"unknown pooling {cfg.pooling!r}")
        self.cfg = cfg
        self.num_classes = num_classes
        # A pretrained tokenizer brings its own vocabulary, which may not be cfg.vocab_size.
        self.vocab_size = vocab_size or cfg.vocab_size
        self.use_cls = cfg.pooling == "cls"
        # One more position when a [CLS] vector is put in front of the text.
        self.num_positions = cfg.max_seq_len + (1 if self.use_cls else 0)

        self.embedding = nn.Embedding(self.vocab_size, cfg.emb_dim, padding_idx=PAD_ID)
        if cfg.positional == "learned":
            # Small random start, not the tutorial's zeros: positions differ from step one.
            self.positional_encoding = nn.Parameter(torch.randn(self.num_positions, cfg.emb_dim) * 0.02)
        else:
            # Fixed, so recomputed rather than stored in checkpoints.
            self.register_buffer("positional_encoding", sinusoidal_table(self.num_positions, cfg.emb_dim), persistent=False)
        self.cls = nn.Parameter(torch.randn(cfg.emb_dim) * 0.02) if self.use_cls else None
        self.embed_dropout = Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(cfg.emb_dim, cfg.n_heads, cfg.ff_dim, cfg.dropout) for _ in range(cfg.num_layers)
        )
        self.head_dropout = Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.emb_dim, num_classes)

    def _encode(self, input_ids: Tensor, attention_mask: Tensor | None, need_weights: bool
                ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """Run the encoder: hidden states (B, T', E), real-token mask (B, T'), per-layer weights."""
        B, T = input_ids.shape
        if T > self.cfg.max_seq_len:
            raise ValueError(f"input has {T} tokens but the model takes at most max_seq_len={self.cfg.max_seq_len}")
        if attention_mask is None:
            attention_mask = input_ids != PAD_ID
        mask = attention_mask.to(torch.bool)  # (B, T)
        x = self.embedding(input_ids)  # (B, T, E)
        if self.use_cls:
            x = torch.cat([self.cls.expand(B, 1, -1).to(x.dtype), x], dim=1)  # (B, T+1, E)
            mask = torch.cat([mask.new_ones(B, 1), mask], dim=1)  # [CLS] is always real: (B, T+1)
        x = x + self.positional_encoding[: x.size(1)]  # (B, T', E)
        x = self.embed_dropout(x)
        # A text with no real token would leave every key masked and softmax would return NaN;
        # let such a row attend to everything instead (its output is meaningless but finite).
        key_mask = mask | ~mask.any(dim=1, keepdim=True)  # (B, T')
        if not x.is_cuda and bool(key_mask.all()):
            key_mask = None  # no padding in this batch: the unmasked kernel is faster
        weights: list[Tensor] = []
        for layer in self.layers:
            x, w = layer(x, key_mask, need_weights)  # (B, T', E), (B, H, T', T') | None
            if w is not None:
                weights.append(w)
        return x, mask, weights

    def _pool(self, x: Tensor, mask: Tensor) -> Tensor:
        """Sentence vector (B, E): the [CLS] position, or the mean over real tokens only."""
        if self.use_cls:
            return x[:, 0]
        m = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        return (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        """input_ids (B, T) long, attention_mask (B, T) bool (True = real token) -> logits (B, C)."""
        x, mask, _ = self._encode(input_ids, attention_mask, need_weights=False)
        return self.head(self.head_dropout(self._pool(x, mask)))  # (B, C)

    @torch.no_grad()
    def logits_and_attention(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Logits (B, C) and the weights each layer used (B, L, H, T', T'), from one eval pass.

        One pass, so a shown prediction always comes from the shown weights. T' = T + 1 with cls
        pooling ([CLS] first). Padding keys have weight exactly 0; rows of padding queries are
        zeroed (they are never shown). The model's train/eval mode is restored afterwards.
        """
        was_training = self.training
        self.eval()
        try:
            x, mask, weights = self._encode(input_ids, attention_mask, need_weights=True)
            logits = self.head(self._pool(x, mask))  # (B, C)
        finally:
            self.train(was_training)
        maps = torch.stack(weights, dim=1)  # (B, L, H, T', T')
        return logits, maps * mask[:, None, None, :, None].to(maps.dtype)  # zero padding-query rows

    def attention_maps(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        """The weights each layer used, (B, L, H, T', T'), computed in eval mode without grad."""
        return self.logits_and_attention(input_ids, attention_mask)[1]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
