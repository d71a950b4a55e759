"""The photos and files that back an observation: checked by their content (magic bytes, not
the name), photos re-encoded without EXIF (no location) with a small JPEG thumbnail, PDFs kept
as sent; the rows that keep them in the database."""
from __future__ import annotations

import hashlib
import io
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from app.extensions import db
from app.touchpoint_audit.models import Evidence, Observation

#: The largest file kept (bytes), and how many files one observation may have.
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_OBSERVATION = 5
#: A photo with more pixels than this is refused before it is decoded (a 48-megapixel phone
#: camera stays below; a "decompression bomb" does not).
MAX_PIXELS = 60_000_000
THUMBNAIL_SIZE = (240, 240)

_FORMATS = {  # what the content is -> (Pillow's format name, the type we store, extension)
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
    "heic": ("HEIF", "image/jpeg", "jpg"),  # stored as JPEG when Pillow can read it at all
}
# WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import (it fills a cut-off photo
# with grey); a cut-off upload must be refused, so a photo is decoded with it off, one at a time.
_STRICT_DECODING = threading.Lock()
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif")


class EvidenceRefused(ValueError):
    """A file that is not kept, with the reason in the user's language and the HTTP status."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class CleanFile:
    """A checked file ready to store: what it is, its bytes and (for photos) its thumbnail."""

    filename: str
    content_type: str
    data: bytes
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None


def sniff(head: bytes) -> str | None:
    """What the first bytes say a file is (jpeg, png, webp, heic, pdf), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def safe_name(name: str, extension: str) -> str:
    """The user's file name without a path or control characters, at most 120 characters,
    ending in the extension of what the file really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0].strip(" .") or "evidence"
    return f"{stem[:100]}.{extension}"


def clean_file(data: bytes, filename: str) -> CleanFile:
    """Check one uploaded file by its content and make it safe to keep.

    Photos (JPEG, PNG, WebP; HEIC only when this Pillow reads it) are decoded and re-encoded
    with the EXIF orientation applied and no metadata (no location, camera or time), with a
    JPEG thumbnail; a PDF is kept as sent. Anything else, a file whose name lies about its
    content, a truncated photo or one over :data:`MAX_BYTES` raises :class:`EvidenceRefused`."""
    shown = (filename or "")[:80]
    if len(data) > MAX_BYTES:
        raise EvidenceRefused(_("“%(name)s” is larger than %(mb)s MB; nothing was saved.", name=shown,
                                mb=MAX_BYTES // (1024 * 1024)), 413)
    if not data:
        raise EvidenceRefused(_("“%(name)s” is empty; nothing was saved.", name=shown))
    kind = sniff(data[:32])
    if kind is None:
        raise EvidenceRefused(_("“%(name)s” is not a photo (JPEG, PNG, WebP) or a PDF, whatever its name says; "
                                "nothing was saved.", name=shown))
    if kind == "pdf":
        return CleanFile(safe_name(filename, "pdf"), "application/pdf", data)
    return _clean_photo(data, filename, kind, shown)


def _clean_photo(data: bytes, filename: str, kind: str, shown: str) -> CleanFile:
    pillow_format, content_type, extension = _FORMATS[kind]
    unreadable = _("“%(name)s” could not be read as a photo (damaged or cut off); nothing was saved.", name=shown)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != pillow_format:
                raise EvidenceRefused(unreadable)
            if image.width * image.height > MAX_PIXELS:
                raise EvidenceRefused(_("“%(name)s” has too many pixels (%(mp)s megapixels; at most %(max)s); nothing was saved.",
                                        name=shown, mp=image.width * image.height // 1_000_000,
                                        max=MAX_PIXELS // 1_000_000))
            _load_strictly(image)
            image = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if kind == "heic":
            raise EvidenceRefused(_("“%(name)s” is a HEIC photo, which this server cannot read; set the camera to "
                                    "“most compatible” (JPEG) or send a JPEG; nothing was saved.", name=shown)) from exc
        raise EvidenceRefused(unreadable) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged data
        if isinstance(exc, EvidenceRefused):
            raise
        raise EvidenceRefused(unreadable) from exc
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None or image.mode != "P" else {"transparency": transparency}
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=False)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "WEBP", quality=88)
    return CleanFile(safe_name(filename, extension), content_type, out.getvalue(), _thumbnail(image),
                     image.width, image.height)


def _load_strictly(image: Image.Image) -> None:
    """Decode ``image`` completely; OSError when its data is cut off."""
    with _STRICT_DECODING:
        lenient = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _thumbnail(image: Image.Image) -> bytes:
    """A small JPEG of the photo for lists (transparent parts on white)."""
    small = image.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    if small.mode in ("RGBA", "LA", "P"):
        small = small.convert("RGBA")
        background = Image.new("RGB", small.size, "white")
        background.paste(small, mask=small.getchannel("A"))
        small = background
    elif small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def uploaded_files() -> list:
    """The non-empty files of the request's ``evidence`` field."""
    return [f for f in request.files.getlist("evidence") if f and (f.filename or "").strip()]


def check_uploads(files: list, already: int = 0) -> list[CleanFile]:
    """Every uploaded file cleaned, or :class:`EvidenceRefused` for the first that is not kept
    (then none is); at most :data:`MAX_PER_OBSERVATION` together with the ``already`` stored."""
    if already + len(files) > MAX_PER_OBSERVATION:
        raise EvidenceRefused(_("At most %(max)d photos or files per observation (it has %(has)d, %(sent)d sent); "
                                "nothing was saved.", max=MAX_PER_OBSERVATION, has=already, sent=len(files)))
    cleaned = []
    for upload in files:
        data = upload.stream.read(MAX_BYTES + 1)
        cleaned.append(clean_file(data, upload.filename or ""))
    return cleaned


def attach(observation: Observation, files: list[CleanFile]) -> None:
    """Add the cleaned files to the observation (the caller commits)."""
    for clean in files:
        observation.evidence.append(Evidence(
            content_type=clean.content_type, filename=clean.filename, size=len(clean.data),
            sha256=hashlib.sha256(clean.data).hexdigest(), width=clean.width, height=clean.height,
            data=clean.data, thumbnail=clean.thumbnail, created_by_id=current_user.id))


def evidence_of(observation_ids: list[int]) -> dict[int, list[Evidence]]:
    """{observation id: its evidence (metadata only)} for a page's observations."""
    out: dict[int, list[Evidence]] = {}
    for start in range(0, len(observation_ids), 1000):
        chunk = observation_ids[start:start + 1000]
        for item in db.session.scalars(db.select(Evidence).where(Evidence.observation_id.in_(chunk))
                                       .order_by(Evidence.id)):
            out.setdefault(item.observation_id, []).append(item)
    return out


def too_large_message() -> str:
    """What a refused, too large request says (the request limit covers all files sent at once)."""
    return _("The photos and files sent at once are larger than this server accepts (%(mb)s MB together, "
             "%(each)s MB each); send fewer at once. Nothing was saved.",
             mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024), each=MAX_BYTES // (1024 * 1024))
