"""Media adapter: probe, one-pass analysis, screening (OCR), derivatives.

PyAV (FFmpeg) decodes and encodes, Pillow reads images, numpy/scipy measure,
imagehash hashes, rapidocr reads text, pyahocorasick matches words. What the
measurements mean is decided in ``lianbo.domain.qc`` and
``lianbo.domain.screening``; this package only measures.
"""
