"""Data-parallel training on PyTorch's own engine: torch.distributed with DDP, under torchrun.

``env`` reads the job torchrun (or SLURM through torchrun) describes; ``sharding`` plans each
rank's batches and validation shard; ``ddp.DistributedRun`` is the trainer's ``Parallel`` for a
process group; ``launch`` starts a standalone torchrun job of ``twb train`` and turns its
failures into one line. The trainer never imports this package: ``twb train`` hands it a
``DistributedRun``.
"""
