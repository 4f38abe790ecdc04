"""Images: the one place that accepts an upload, stores it, serves it and renders it.

An upload is checked by its content, never by its name or declared type: Pillow
must open and verify it as JPEG, PNG, WebP or GIF (SVG and everything else is
refused), within a size limit (`MEDIA_MAX_BYTES`) and a pixel limit
(`MEDIA_MAX_PIXELS`, so a small file that declares enormous dimensions, a
decompression bomb, is refused before it is decoded). It is then decoded whole
(a truncated or corrupt file is refused), turned upright by its EXIF orientation,
converted to sRGB when it carries a colour profile, and re-encoded from its pixels
alone: no EXIF (camera, GPS position), XMP, comments or text chunks survive.

Files live in `MEDIA_ROOT` (default `instance/media/`), named by the sha256 of the
re-encoded full-width file: `<hash>.<ext>`, plus narrower copies `<hash>-<width>.<ext>`
for `srcset` (never wider than the original). A name never changes content, so the
files are served with a one-year immutable cache (and nginx may serve the folder).

Animated GIFs and WebPs keep their first frame only: a still, like every other
image here, resized like them, and bounded in decoding work.

Nothing is written until the image has passed every check: a refused upload leaves
no file and no row.
"""

import contextlib
import hashlib
import html
import io
import json
import os
import re
import tempfile
import warnings

from flask import abort, current_app, send_from_directory, url_for
from PIL import Image, ImageCms, ImageOps

from models import Media, database
from sanitize import IMAGE_TAG

DEFAULT_MAX_BYTES = 10 * 2**20
DEFAULT_MAX_PIXELS = 40_000_000
WIDTHS = (480, 960, 1600)  # narrower copies made for srcset
ONE_YEAR = 365 * 24 * 3600

# Pillow's own decompression-bomb guard, for any image this process opens: above this
# it warns (made an error here, so that it refuses) and above twice this it raises.
# Uploads are also held to MEDIA_MAX_PIXELS before any pixel is decoded.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)

# Pillow format -> stored extension. MPO is the JPEG of cameras that add a second
# picture; its first frame is an ordinary JPEG.
FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
OPENERS = ["JPEG", "PNG", "WEBP", "GIF"]  # the only decoders an upload ever reaches
ENCODER = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
SAVE_OPTIONS = {
    "jpg": {"quality": 85, "optimize": True, "progressive": True},
    "png": {"compress_level": 6},
    "webp": {"quality": 82, "method": 4},
    "gif": {},
}
ACCEPTED = "JPEG, PNG, WebP or GIF"

# Sizes of images in the article column (site.css: .article-body is at most 42rem;
# below 52rem the page is one column with 1rem of padding on each side).
BODY_SIZES = "(max-width: 52rem) calc(100vw - 2rem), 42rem"
LEAD_SIZES = "(max-width: 52rem) calc(100vw - 2rem), 48rem"
THUMB_SIZES = "8rem"

MEDIA_SRC = re.compile(r'\ssrc="/media/([0-9a-f]{64})\.(?:jpg|png|webp|gif)"')
ATTRIBUTE = re.compile(r'([\w-]+)(?:="([^"]*)")?')
SERVED_NAME = re.compile(r"[0-9a-f]{64}(?:-[1-9][0-9]{0,4})?\.(jpg|png|webp|gif)")


class Refused(Exception):
    """An upload that is not accepted: `status` for the HTTP answer, `message` for people."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def init_app(app):
    """Settings (from the environment unless the app's config has them), route, filters."""
    environ = os.environ.get
    default_root = os.path.join(app.instance_path, "media")
    app.config.setdefault("MEDIA_ROOT", environ("MEDIA_ROOT") or default_root)
    app.config.setdefault("MEDIA_MAX_BYTES", int(environ("MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES)))
    app.config.setdefault("MEDIA_MAX_PIXELS", int(environ("MEDIA_MAX_PIXELS", DEFAULT_MAX_PIXELS)))
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS, app.config["MEDIA_MAX_PIXELS"])
    app.add_url_rule("/media/<path:filename>", "media_file", serve)
    app.add_template_filter(responsive_images)
    app.add_template_filter(absolute_media_urls)
    app.add_template_global(absolute_url, "media_absolute_url")
    app.add_template_global(share_url, "media_share_url")
    app.jinja_env.globals.update(
        BODY_SIZES=BODY_SIZES, LEAD_SIZES=LEAD_SIZES, THUMB_SIZES=THUMB_SIZES
    )


def media_root():
    return current_app.config["MEDIA_ROOT"]


def human_size(limit):
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:g} KB"


# --- Accepting an upload --------------------------------------------------------------------


def accept_upload(upload, alt, user):
    """Check, clean and store an uploaded file (a werkzeug FileStorage, or None).

    Returns (Media, created). Raises Refused, having stored nothing.
    """
    image, ext = checked_image(upload)
    files = encode_all(image, ext)
    return store(files, ext, image.size, " ".join((alt or "").split()), user)


def checked_image(upload):
    """(the cleaned first frame, its extension) of an upload that passes every check.

    Raises Refused. Stores nothing: a dry run checks files with this alone.
    """
    if upload is None or not hasattr(upload, "stream"):
        raise Refused(400, f"No file was sent. Choose a {ACCEPTED} image to upload.")
    limit = current_app.config["MEDIA_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    if not data:
        raise Refused(400, "The file is empty. Choose an image to upload.")
    if len(data) > limit:
        raise Refused(413, f"The file is larger than {human_size(limit)}: make it smaller.")
    return decode(data, current_app.config["MEDIA_MAX_PIXELS"])


def looks_like_svg(data):
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def decode(data, max_pixels):
    """(the first frame, cleaned, upright and in sRGB; its extension), or Refused."""
    if looks_like_svg(data):
        raise Refused(
            415, f"SVG images are not accepted: they can carry scripts. Upload a {ACCEPTED}."
        )
    try:
        with Image.open(io.BytesIO(data), formats=OPENERS) as probe:
            ext = FORMATS.get(probe.format)
            check_pixels(probe.size, max_pixels)
            probe.verify()
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(422, too_many_pixels(None, max_pixels)) from None
    except Image.UnidentifiedImageError:
        raise Refused(
            415, f"This file is not a {ACCEPTED} image, whatever its name: it was not accepted."
        ) from None
    except Exception:  # Pillow raises many kinds on hostile input: all mean "broken"
        raise Refused(422, damaged()) from None
    if ext is None:
        raise Refused(415, f"Only {ACCEPTED} images are accepted.")
    try:
        with Image.open(io.BytesIO(data), formats=OPENERS) as source:
            source.seek(0)  # animated: the first frame only (see the module's docstring)
            source.load()
            return clean_pixels(source, ext), ext
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(422, too_many_pixels(None, max_pixels)) from None
    except Exception:
        raise Refused(422, damaged()) from None


def check_pixels(size, max_pixels):
    width, height = size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise Refused(422, too_many_pixels(size, max_pixels))


def too_many_pixels(size, max_pixels):
    declared = f" ({size[0]} × {size[1]})" if size else ""
    return (
        f"The image has too many pixels{declared}: at most {max_pixels / 1e6:g} megapixels "
        "are accepted. Make it smaller and upload it again."
    )


def damaged():
    return (
        "The image is damaged or incomplete (cut short?), so it cannot be used. "
        "Export it again and upload the new file."
    )


SRGB = ImageCms.createProfile("sRGB")


def clean_pixels(source, ext):
    """A new image with the source's pixels only: upright, sRGB, no metadata at all."""
    try:
        image = ImageOps.exif_transpose(source)
    except Exception:  # unreadable EXIF: keep the pixels as they are
        image = source
    icc = source.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        # A broken profile: the pixels as they are.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                SRGB,
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
    transparency = image.info.get("transparency")
    allowed = {
        "jpg": ("L", "RGB"),
        "png": ("1", "L", "P", "RGB", "RGBA"),
        "webp": ("RGB", "RGBA"),
        "gif": ("L", "P"),
    }[ext]
    if image.mode not in allowed:
        has_alpha = image.mode == "RGBA" or transparency is not None
        image = image.convert("RGBA" if has_alpha and ext != "jpg" else "RGB")
        transparency = None
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode == "P":
        palette_mode = image.palette.mode if image.palette else "RGB"
        clean.putpalette(image.getpalette(palette_mode), palette_mode)
    if transparency is not None and image.mode in ("1", "L", "P", "RGB"):
        clean.encoderinfo_transparency = transparency
    return clean


def encoded(image, ext):
    options = dict(SAVE_OPTIONS[ext])
    transparency = getattr(image, "encoderinfo_transparency", None)
    if transparency is not None and ext in ("png", "gif"):
        options["transparency"] = transparency
    buffer = io.BytesIO()
    image.save(buffer, ENCODER[ext], **options)
    return buffer.getvalue()


def resizable(image):
    """The image in a mode that resamples smoothly (palettes and 1-bit do not)."""
    if image.mode == "P":
        has_alpha = getattr(image, "encoderinfo_transparency", None) is not None
        has_alpha = has_alpha or image.palette.mode == "RGBA"
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def encode_all(image, ext):
    """{None: full-width bytes, width: bytes of each narrower copy}."""
    files = {None: encoded(image, ext)}
    base = resizable(image)
    for width in sorted((w for w in WIDTHS if w < image.width), reverse=True):
        height = max(1, round(image.height * width / image.width))
        base = base.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        files[width] = encoded(base, ext)
    return files


def store(files, ext, size, alt, user):
    """Write the files (each atomically) and the row; on any failure, remove what was written."""
    digest = hashlib.sha256(files[None]).hexdigest()
    existing = Media.get_or_none(Media.hash == digest)
    if existing:
        if alt and not existing.has_alt:
            existing.alt = alt
            existing.save()
        return existing, False
    root = media_root()
    os.makedirs(root, exist_ok=True)
    written = []
    try:
        for width, payload in files.items():
            name = f"{digest}.{ext}" if width is None else f"{digest}-{width}.{ext}"
            path = os.path.join(root, name)
            if os.path.exists(path):
                continue
            fd, temporary = tempfile.mkstemp(dir=root, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(payload)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
            written.append(path)
        variants = [[width, len(payload)] for width, payload in files.items() if width]
        with database.atomic():
            Media.insert(
                hash=digest,
                ext=ext,
                width=size[0],
                height=size[1],
                size=len(files[None]),
                variants=json.dumps(sorted(variants)),
                alt=alt,
                uploaded_by=user.id if user else None,
            ).on_conflict_ignore().execute()
            media = Media.get(Media.hash == digest)
    except BaseException:
        for path in written:
            os.unlink(path)
        raise
    return media, True


def upload_answer(media, alt):
    """The JSON the editor gets back: what it needs for <img> and the lead-image field."""
    return {
        "id": media.id,
        "url": media.url,
        "width": media.width,
        "height": media.height,
        "alt": alt or media.alt,
        "srcset": media.srcset,
    }


# --- Serving --------------------------------------------------------------------------------


def serve(filename):
    """A stored file; its name is its content, so it is cached for a year, immutable."""
    match = SERVED_NAME.fullmatch(filename)
    if not match:
        abort(404)
    response = send_from_directory(
        media_root(), filename, mimetype=Media.CONTENT_TYPES[match.group(1)], max_age=ONE_YEAR
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def absolute_url(path):
    """An absolute URL for a path of this site (/media/…), for feeds and sharing cards."""
    return url_for("public.index", _external=True).rstrip("/") + path


def share_url(media, max_width=1600):
    """Absolute URL of the copy of `media` for feeds and sharing cards: at most 1600 wide."""
    return absolute_url(media.url_of(media.rendition(max_width)[2]))


# --- Rendering ------------------------------------------------------------------------------


def responsive_images(clean, sizes=BODY_SIZES):
    """Article HTML whose uploaded images (/media/…) are responsive: srcset of every
    stored width, sizes, width and height, lazy loading. Other images stay as they are.

    `clean` is sanitized HTML (sanitize.clean_html), whose attributes are all
    double-quoted and escaped: they are copied as they are.
    """
    hashes = {m.group(1) for tag in IMAGE_TAG.findall(clean or "") if (m := MEDIA_SRC.search(tag))}
    if not hashes:
        return clean
    stored = {m.hash: m for m in Media.select().where(Media.hash.in_(hashes))}

    def rewrite(match):
        found = MEDIA_SRC.search(match.group(0))
        media = stored.get(found.group(1)) if found else None
        if media is None:
            return match.group(0)
        attributes = dict(ATTRIBUTE.findall(match.group(0)[4:].rstrip("/>")))
        attributes.update(
            srcset=media.srcset,
            sizes=sizes,
            width=str(media.width),
            height=str(media.height),
            loading="lazy",
            decoding="async",
        )
        return "<img " + " ".join(f'{name}="{value}"' for name, value in attributes.items()) + ">"

    return IMAGE_TAG.sub(rewrite, clean)


def absolute_media_urls(clean):
    """Article HTML with its /media/ images as absolute URLs: feed readers need them."""
    return (clean or "").replace(' src="/media/', f' src="{html.escape(absolute_url("/media/"))}')
