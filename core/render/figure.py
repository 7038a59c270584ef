"""Making a bare matplotlib figure, and saving one as SVG or PNG without leaving half a file."""
from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.files import write_bytes_atomic

IMAGE_SUFFIXES = (".svg", ".png")
PNG_DPI = 100
# Agg allocates width x height x 4 bytes: beyond this many pixels a side the dpi goes down
# instead (a 512-token view is about 60 inches wide).
MAX_PNG_SIDE = 8192
INSTALL_HINT = "install it with pip install 'transformer-workbench[images]'"


def new_figure(width_in: float, height_in: float) -> Any:
    """A ``Figure`` of that size in inches, with no pyplot state behind it."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UserError("saving images needs matplotlib, which is not installed", INSTALL_HINT) from None
    return Figure(figsize=(width_in, height_in))


def check_image_path(path: str | os.PathLike) -> Path:
    """The path, if an image can be saved there: a .svg or .png name in a folder that exists.

    Checked before the work of computing a figure, so a typo costs nothing."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{str(path)!r} is a folder", "give a file name ending in .svg or .png")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UserError(f"cannot save an image as {path.name!r}: images are .svg or .png",
                        "end the file name in .svg or .png")
    if not path.parent.is_dir():
        raise UserError(f"the folder {str(path.parent)!r} does not exist",
                        "create it first or save into a folder that exists")
    return path


def png_dpi(fig: Any) -> float:
    """PNG_DPI, or less when the figure would be more than MAX_PNG_SIDE pixels a side."""
    return min(PNG_DPI, MAX_PNG_SIDE / max(fig.get_size_inches()))


def render_bytes(fig: Any, suffix: str) -> bytes:
    """The figure encoded as SVG (text kept as <text>, so labels can be searched) or PNG."""
    import matplotlib

    buffer = io.BytesIO()
    if suffix == ".svg":
        # rc_context is the only way to pick how the SVG writer stores text: as <text>
        # elements (searchable, scalable) rather than glyph outlines.
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "twb"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        fig.savefig(buffer, format="png", dpi=png_dpi(fig), metadata={"Software": "twb"})
    return buffer.getvalue()


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` as SVG or PNG (by its suffix); the path written.

    The image is encoded in memory first and then written through a temp file in the target
    folder and ``os.replace``: a missing, read-only or full folder gives a one-line UserError,
    and never a half-written image (an earlier file of that name stays as it was)."""
    path = check_image_path(path)
    data = render_bytes(fig, path.suffix.lower())
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise UserError(f"cannot write {str(path)!r}: {_reason(exc)}", _hint(exc)) from None
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _hint(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full: free some space or save elsewhere"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is read-only: save into a folder you can write"
    return "choose another file name or folder"
