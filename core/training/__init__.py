"""The trainer, its loop, schedule, metrics, devices and checkpoints."""
