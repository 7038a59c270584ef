"""Encoder-layer speed: core.model.EncoderLayer vs nn.TransformerEncoderLayer(batch_first=True).

Forward + backward on (batch, seq, emb) batches with a padding mask, the shape of an SST-2 batch
after dynamic padding. Prints the time per step of each and the ratio (> 1: ours is faster).

usage: python benchmarks/model_layer_speed.py [--batch 32] [--seq 12] [--emb 128] [--steps 300]
       [--device cpu|cuda] [--threads N]
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn as nn

from core.model import EncoderLayer


def time_steps(step, steps: int, device: str) -> float:
    for _ in range(max(10, steps // 10)):  # warm-up: kernels chosen, caches filled
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=12)
    p.add_argument("--emb", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ff", type=int, default=256)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = a.device
    ours = EncoderLayer(a.emb, a.heads, a.ff, dropout=0.1).to(dev).train()
    ref = nn.TransformerEncoderLayer(a.emb, a.heads, a.ff, dropout=0.1, batch_first=True).to(dev).train()
    x = torch.randn(a.batch, a.seq, a.emb, device=dev, requires_grad=True)
    lengths = torch.randint(a.seq // 2, a.seq + 1, (a.batch,), device=dev)
    mask = torch.arange(a.seq, device=dev)[None, :] < lengths[:, None]  # (B, T) True = real

    def step_ours():
        out, _ = ours(x, mask)
        out.sum().backward()

    def step_ref():
        ref(x, src_key_padding_mask=~mask).sum().backward()

    results = {}
    for name, step in (("nn.TransformerEncoderLayer", step_ref), ("EncoderLayer", step_ours)):
        results[name] = time_steps(step, a.steps, dev)
    # Twice, alternating, so neither gets only the cold or the warm machine.
    for name, step in (("nn.TransformerEncoderLayer", step_ref), ("EncoderLayer", step_ours)):
        results[name] = min(results[name], time_steps(step, a.steps, dev))
    for name, t in results.items():
        print(f"{name:28s} {t * 1e3:8.3f} ms/step  ({a.batch / t:9.0f} samples/s)")
    ratio = results["nn.TransformerEncoderLayer"] / results["EncoderLayer"]
    print(f"speed ratio EncoderLayer / nn.TransformerEncoderLayer: {ratio:.2f}x "
          f"(batch {a.batch}, seq {a.seq}, emb {a.emb}, {dev}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
