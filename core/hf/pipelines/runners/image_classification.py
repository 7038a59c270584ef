"""image-classification: label an image file."""
from __future__ import annotations

from pathlib import Path

from core.errors import UserError
from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import Prepared, label_lines, register
from core.hf.pipelines.spec import TOP_K, TaskSpec


@register
class ImageClassification(NativeRunner):
    order = 70
    needs = "an image classification model"
    spec = TaskSpec(
        "image-classification", "Label an image file.", "image", "Image file",
        "image-classification", True, "google/vit-base-patch16-224", (TOP_K,),
    )

    def preprocess(self, text, params):
        from PIL import Image, UnidentifiedImageError

        path = Path(text.strip()).expanduser()
        if not path.is_file():
            raise UserError(f"image file {str(path)!r} does not exist", "give the path of a PNG or JPEG file")
        try:
            with Image.open(path) as image:
                return Prepared(image.convert("RGB"))
        except (UnidentifiedImageError, OSError) as exc:
            raise UserError(f"{str(path)!r} is not an image Pillow can read", str(exc)) from None

    def forward(self, image, params, cancel):
        return self.pipe(image, top_k=params.get("top_k", 5))

    @classmethod
    def format(cls, result):
        return label_lines(result)
