"""Text recognition with rapidocr, from the models inside its wheel only.

The engine is built once per process, on first use (it takes about a second
and loads three ONNX models). Every model path is given explicitly, so
rapidocr never reaches for its download path; a missing model is an error,
not a fetch.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import numpy as np
import rapidocr
from rapidocr import RapidOCR
from rapidocr.utils.output import RapidOCROutput

MODELS = Path(rapidocr.__file__).resolve().parent / "models"
DETECTION = MODELS / "PP-OCRv6_det_small.onnx"
RECOGNITION = MODELS / "PP-OCRv6_rec_small.onnx"  # Chinese + Latin; charset in the model
CLASSIFIER = MODELS / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
_building = threading.Lock()


class OcrUnavailable(RuntimeError):
    """The bundled OCR models are not where the rapidocr wheel puts them."""


@cache
def _engine() -> RapidOCR:
    missing = [p.name for p in (DETECTION, RECOGNITION, CLASSIFIER) if not p.is_file()]
    if missing:
        raise OcrUnavailable(f"rapidocr models missing from {MODELS}: {', '.join(missing)}")
    return RapidOCR(
        params={
            "Global.log_level": "error",
            # Captions and tickers are upright: skip the 0/180° classifier.
            "Global.use_cls": False,
            "Det.model_path": str(DETECTION),
            "Cls.model_path": str(CLASSIFIER),
            "Rec.model_path": str(RECOGNITION),
        }
    )


def engine() -> RapidOCR:
    """The process-wide OCR engine (built on first call, thread-safe)."""
    with _building:
        return _engine()


def recognise(bgr: np.ndarray) -> list[tuple[str, float]]:
    """Lines of text in a BGR picture (H, W, 3), in reading order, with confidence."""
    result = engine()(bgr)
    if not isinstance(result, RapidOCROutput) or result.txts is None or result.scores is None:
        return []
    return [(str(t), float(s)) for t, s in zip(result.txts, result.scores, strict=True)]
