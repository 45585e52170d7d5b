"""Decide what a file is from its bytes, never from its name.

Pillow is asked first, restricted to the still-image formats we accept: it
identifies by magic bytes and reads only the header, so a decompression bomb
is refused before any pixel is decoded (FFmpeg would allocate the whole
picture while probing). Everything else goes to PyAV; a container with
neither a real video nor an audio stream is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
from av.container import InputContainer
from PIL import Image, UnidentifiedImageError

from lianbo.domain.errors import InvalidInput

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
PILLOW_DEFAULT_MAX_PIXELS = 89_478_485  # Image.MAX_IMAGE_PIXELS as Pillow ships it


def refuse(reason: str) -> InvalidInput:
    """The one error a bad upload gets (400 at the API, a message at the CLI)."""
    return InvalidInput(f"unsupported or unreadable media: {reason}", field="file")


def check_file(path: Path) -> None:
    """Refuse what is not a non-empty regular file."""
    if not path.is_file():
        raise refuse("not a regular file")
    if path.stat().st_size == 0:
        raise refuse("empty file")


@contextmanager
def opened_image(path: Path) -> Iterator[Image.Image | None]:
    """Open ``path`` as a still image with the decompression-bomb guard on.

    Yields None when the bytes are not an accepted image format. Pillow warns
    (``DecompressionBombWarning``) above ``Image.MAX_IMAGE_PIXELS`` and raises
    above twice that; both are refusals here, so the warning is turned into
    an error for this call. Warning filters are process-wide and not
    thread-safe, and someone may set the limit to None, so the size is also
    checked here against the limit (or Pillow's default).
    """
    with path.open("rb") as handle:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(handle, formats=IMAGE_FORMATS)
        except UnidentifiedImageError:
            image = None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise refuse(f"image too large to decode safely ({exc})") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise refuse(f"broken image ({exc})") from exc
        try:
            if image is not None:
                _check_pixels(image)
            yield image
        finally:
            if image is not None:
                image.close()


def _check_pixels(image: Image.Image) -> None:
    limit = Image.MAX_IMAGE_PIXELS or PILLOW_DEFAULT_MAX_PIXELS
    if image.width * image.height > limit:
        raise refuse(f"image too large to decode safely ({image.width}×{image.height} pixels)")


def load_image(path: Path) -> Image.Image:
    """A fully decoded RGB copy of the image at ``path`` (bomb guard on)."""
    with opened_image(path) as image:
        if image is None:
            raise refuse("not an image")
        try:
            image.seek(0)  # first frame of an animated GIF/WebP
            return image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as exc:
            raise refuse(f"broken image ({exc})") from exc


@contextmanager
def opened_container(path: Path) -> Iterator[InputContainer]:
    """Open ``path`` with PyAV, refusing what FFmpeg cannot demux."""
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:  # strerror only: the message names our path
        raise refuse(f"not a media container ({exc.strerror})") from exc
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror})") from exc
    with container:
        demuxer = container.format.name
        # FFmpeg reads stills too ("png_pipe", "image2"); we take only what
        # Pillow reads, so the bomb guard always applies to images.
        if demuxer == "image2" or demuxer.endswith("_pipe"):
            raise refuse(f"image format {demuxer} is not accepted")
        yield container
