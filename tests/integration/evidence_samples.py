"""Photos and files for the evidence tests, made with Pillow (no binary fixtures in the repository)."""
from __future__ import annotations

import io

from PIL import Image

# EXIF tags: GPS information (an IFD), orientation, camera make.
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg_bytes(size: tuple[int, int] = (8, 8), color=(200, 30, 30), gps: bool = False, orientation: int | None = None,
               fmt: str = "JPEG") -> bytes:
    """A small photo; with ``gps`` it carries a location (Berlin) and a camera make in its EXIF."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if gps:
        exif[MAKE] = "TestCam"
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes() if (gps or orientation) else b"")
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A minimal PDF (header, one empty page, trailer)."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
