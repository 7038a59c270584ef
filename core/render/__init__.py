"""Images of what the workbench shows: attention views, the model-view grid, training curves.

Figures are ``matplotlib.figure.Figure`` objects built directly, never through pyplot, so
rendering holds no global state and may run in a UI's thread worker. matplotlib is an
optional extra (``images``) imported only when a figure is built; ``save_figure`` writes SVG
or PNG atomically.
"""
from core.render.attention import attention_figure, grid_figure
from core.render.curves import Run, Series, curves_figure
from core.render.figure import IMAGE_SUFFIXES, check_image_path, save_figure

__all__ = ["attention_figure", "grid_figure", "Run", "Series", "curves_figure", "IMAGE_SUFFIXES",
           "check_image_path", "save_figure"]
