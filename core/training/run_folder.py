"""Where a run writes its checkpoints, decided and checked before anything trains.

A run folder holds the checkpoint folders last/, best/ and interrupt/. A new run gets a
``runs/<date-time>`` folder of its own, created here so that a second run started in the same
second cannot take it too; a folder the user names must be writable and must not hold a last/,
best/ or interrupt/ that is not a checkpoint (those would be replaced). While a run trains, it
holds its folder (``RunFolderLock``), so a second run into the same folder stops at once rather
than both writing the same checkpoints.
"""
from __future__ import annotations

import datetime as _dt
import errno
import os
import shutil
from pathlib import Path

from core.errors import UserError
from core.training.checkpoint import is_checkpoint

CHECKPOINT_KINDS = ("last", "best", "interrupt")
DEFAULT_ROOT = Path("runs")
# Below this the first checkpoint could not be written even for the smallest model.
MIN_FREE_BYTES = 1 << 20
LOCK_FILE = ".twb-run.lock"


def create_run_folder(root: str | os.PathLike = DEFAULT_ROOT, now: _dt.datetime | None = None) -> Path:
    """A new, empty ``root/<date-time>`` folder (``-2``, ``-3``... when that second is taken)."""
    root = Path(root)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = root / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                path.mkdir()  # exclusive: exactly one caller creates it
            except FileExistsError:
                continue
            return path
    except OSError as exc:
        raise _unwritable(root, exc) from None
    raise UserError(f"{str(root)!r} already holds 10,000 runs started at {stamp}", "clean up the runs folder")


def check_run_folder(folder: str | os.PathLike, needed_bytes: int = MIN_FREE_BYTES) -> Path:
    """The run folder, created if new, once it is known that checkpoints can be written there."""
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"run folder {str(path)!r} is a file, not a folder", "choose another folder with --out")
    for kind in CHECKPOINT_KINDS:
        inside = path / kind
        if (inside.exists() or inside.is_symlink()) and not is_checkpoint(inside):
            raise UserError(f"{str(inside)!r} is not a checkpoint (it has no state.json) and training would replace it",
                            "choose another folder with --out, or move that folder away")
    try:
        path.mkdir(parents=True, exist_ok=True)
        _probe_write(path)
        free = shutil.disk_usage(path).free
    except OSError as exc:
        raise _unwritable(path, exc) from None
    if free < needed_bytes:
        raise UserError(f"run folder {str(path)!r} has {free:,} bytes free, a checkpoint needs about {needed_bytes:,}",
                        "free some disk space or choose another folder with --out")
    return path


class RunFolderLock:
    """One run's hold on its folder: an exclusive ``flock`` on ``LOCK_FILE``, which the system
    drops when the process ends however it ends (a kill -9 leaves no stale lock)."""

    def __init__(self, path: Path, fd: int | None):
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, folder: str | os.PathLike) -> "RunFolderLock":
        """The folder held by this process; UserError naming the holder when another run has it."""
        path = Path(folder) / LOCK_FILE
        try:
            import fcntl
        except ImportError:  # no flock (Windows): not held
            return cls(path, None)
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _unwritable(path.parent, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip()
                os.close(fd)
                raise UserError(f"run folder {str(path.parent)!r} is in use by another run"
                                + (f" (pid {holder})" if holder.isdigit() else ""),
                                "choose another folder with --out, or wait for that run to end") from None
            except OSError:  # a file system without locks (some network mounts): not held
                os.close(fd)
                path.unlink(missing_ok=True)
                return cls(path, None)
            try:  # the holder before us may have removed the file after we opened it: open anew
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """Let the folder go; the file goes too (while still held, so no one holds a removed one)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a folder made read-only meanwhile: the file stays, the lock still goes
        os.close(self._fd)
        self._fd = None


def choose_run_folder(out: str | os.PathLike | None, resume_from: str | os.PathLike | None = None,
                      root: str | os.PathLike = DEFAULT_ROOT) -> Path:
    """The folder a run's checkpoints go to: ``out`` when given, else the resumed checkpoint's
    run folder (the run goes on where it was), else a new ``root/<date-time>``."""
    if out is not None:
        return check_run_folder(out)
    if resume_from is not None:
        return check_run_folder(Path(resume_from).parent)
    return create_run_folder(root)


def _probe_write(folder: Path) -> None:
    probe = folder / f".twb-write-test-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    finally:
        probe.unlink(missing_ok=True)


def _unwritable(path: Path, exc: OSError) -> UserError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return UserError(f"cannot write to run folder {str(path)!r}: {reason}", "free some disk space or choose another folder with --out")
    return UserError(f"cannot write to run folder {str(path)!r}: {reason}", "choose a folder you can write to with --out")
