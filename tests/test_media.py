"""Images: upload checks, storage, serving, rendering, lead images and alt text.

Every image is made here with Pillow. A refused upload must leave nothing behind:
no file in MEDIA_ROOT (conftest puts it beside each test's database) and no row.
"""

import hashlib
import io
import json
import os
import re
import struct
import zlib

import feedparser
import pytest
from desk_helpers import (
    HX,
    Newsroom,
    article_url,
    fresh,
    input_value,
    log_in,
    make_login,
    revision_count,
    text_of,
)
from PIL import ExifTags, Image, ImageCms

import media
import models
from models import Media, Revision

# As in production (media.py makes Pillow's bomb warning an error; pytest resets filters).
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


# --- Images made for the tests --------------------------------------------------------------------


def picture(size=(1200, 800), mode="RGB"):
    """A picture with some detail: a gradient per channel."""
    width, height = size
    gradient = Image.linear_gradient("L")
    red = gradient.resize(size)
    green = gradient.rotate(90).resize(size)
    blue = Image.effect_noise(size, 40)  # detail that compresses like a photo: not much
    image = Image.merge("RGB", (red, green, blue))
    if mode == "RGBA":
        image.putalpha(gradient.rotate(45).resize(size))
    return image


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_bytes(size=(640, 400)):
    return encode(picture(size), "PNG")


def png_declaring(width, height):
    """A 1×1 PNG whose header claims `width` × `height`: a tiny decompression bomb."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def jpeg_with_gps():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Spycam"
    exif[ExifTags.Base.Model] = "Tracker 3000"
    exif[ExifTags.Base.Artist] = "Jane Photographer"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>secret place</rdf:RDF></x:xmpmeta>'
    data = encode(
        picture((1000, 700)), "JPEG", exif=exif, icc_profile=icc, comment=b"shot at home", xmp=xmp
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test image must carry GPS"
    assert "xmp" in source.info and "comment" in source.info
    return data


# --- Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def room(app):
    return Newsroom.create()


@pytest.fixture
def editor(client, room):
    return log_in(client, room.editor)


def upload(client, data, name="photo.jpg", alt="A red and green gradient", **headers):
    form = {"alt": alt}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(
        "/desk/media", data=form, headers=headers, content_type="multipart/form-data"
    )


def log_out(client):
    assert client.post("/auth/logout").status_code == 302


def stored_files(app):
    root = app.config["MEDIA_ROOT"]
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def assert_nothing_stored(app):
    assert stored_files(app) == []
    assert Media.select().count() == 0


def uploaded(client, data, name="photo.jpg", alt="A red and green gradient"):
    response = upload(client, data, name, alt)
    assert response.status_code == 201, response.get_json()
    return Media.get_by_id(response.get_json()["id"])


def path_of(app, filename):
    return os.path.join(app.config["MEDIA_ROOT"], filename)


def body_with(*images):
    return "".join(f'<p>Text.</p><p><img src="{m.url}" alt="{alt}"></p>' for m, alt in images)


def save_field(client, article, name, **form):
    data = {"version": fresh(article).version, **form}
    return client.post(f"/desk/articles/{article.id}/fields/{name}", data=data, headers=HX)


def act(client, article, action, **form):
    data = {"version": fresh(article).version, **form}
    return client.post(f"/desk/articles/{article.id}/actions/{action}", data=data, headers=HX)


# --- Valid uploads --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_accepted_type_is_stored_by_content_hash_with_narrower_copies(app, editor, room, fmt):
    ext = FORMATS[fmt]
    data = encode(picture((1200, 800)), fmt)
    response = upload(editor, data, name=f"holiday.{ext}")
    assert response.status_code == 201
    answer = response.get_json()
    item = Media.get_by_id(answer["id"])
    digest = item.hash
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert answer["url"] == f"/media/{digest}.{ext}"
    assert (answer["width"], answer["height"], answer["alt"]) == (
        1200,
        800,
        "A red and green gradient",
    )
    assert answer["srcset"] == (
        f"/media/{digest}-480.{ext} 480w, /media/{digest}-960.{ext} 960w, "
        f"/media/{digest}.{ext} 1200w"
    )
    # Named by the sha256 of the stored full-width file; never upscaled (no 1600).
    assert stored_files(app) == sorted(
        [f"{digest}.{ext}", f"{digest}-480.{ext}", f"{digest}-960.{ext}"]
    )
    with open(path_of(app, f"{digest}.{ext}"), "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == digest
    for width, height, name, size in item.renditions:
        with Image.open(path_of(app, name)) as copy:
            assert copy.format == fmt
            assert copy.size == (width, height)
        assert os.path.getsize(path_of(app, name)) == size
    assert (item.uploaded_by_id, item.alt) == (room.editor.id, "A red and green gradient")


def test_transparency_survives(app, editor):
    data = encode(picture((600, 400), mode="RGBA"), "PNG")
    item = uploaded(editor, data, "logo.png")
    for *_, name, _ in item.renditions:
        with Image.open(path_of(app, name)) as copy:
            assert copy.mode == "RGBA"
            assert copy.getchannel("A").getextrema()[0] < 50


def test_a_small_image_gets_no_copies(app, editor):
    item = uploaded(editor, png_bytes((300, 200)), "small.png")
    assert item.widths == [300]
    assert stored_files(app) == [item.filename]


def test_the_same_file_twice_is_one_row_and_one_set_of_files(app, editor):
    data = png_bytes()
    first = upload(editor, data, alt="")
    second = upload(editor, data, alt="Now described")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert Media.select().count() == 1
    assert Media.get().alt == "Now described"  # an empty alt text gets filled in
    assert len(stored_files(app)) == 2


def test_an_animated_gif_keeps_its_first_frame(app, editor):
    frames = [Image.new("RGB", (500, 300), colour) for colour in ("red", "green", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    item = uploaded(editor, data, "dance.gif")
    with Image.open(path_of(app, item.filename)) as stored:
        assert stored.format == "GIF"
        assert getattr(stored, "n_frames", 1) == 1


def test_exif_orientation_is_applied(app, editor):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotated 90° clockwise
    item = uploaded(editor, encode(picture((400, 200)), "JPEG", exif=exif))
    assert (item.width, item.height) == (200, 400)
    with Image.open(path_of(app, item.filename)) as stored:
        assert stored.size == (200, 400)
        assert not stored.getexif()


def test_metadata_is_stripped_gps_first(app, editor):
    item = uploaded(editor, jpeg_with_gps())
    for *_, name, _ in item.renditions:
        with open(path_of(app, name), "rb") as raw:
            content = raw.read()
        for secret in (b"Spycam", b"Tracker", b"Jane", b"secret place", b"shot at home", b"Exif"):
            assert secret not in content, (name, secret)
        with Image.open(path_of(app, name)) as stored:
            assert not stored.getexif()
            assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            for key in ("exif", "xmp", "icc_profile", "comment"):
                assert key not in stored.info, (name, key)


def test_a_cmyk_jpeg_is_stored_as_rgb(app, editor):
    item = uploaded(editor, encode(picture((300, 200)).convert("CMYK"), "JPEG"))
    with Image.open(path_of(app, item.filename)) as stored:
        assert stored.mode == "RGB"


def test_a_16_bit_png_keeps_its_tones(app, editor):
    data = encode(Image.new("I;16", (40, 30), 32768), "PNG")
    item = uploaded(editor, data, "scan.png")
    with Image.open(path_of(app, item.filename)) as stored:
        assert stored.mode == "L"
        assert stored.getpixel((0, 0)) == 128  # scaled, not clipped to white


# --- Refused uploads: a clear message, nothing stored ---------------------------------------------

REFUSED = {
    "php renamed to jpg": (b"<?php system($_GET['cmd']); ?>\n", "photo.jpg", 415, "not a JPEG"),
    "shell script renamed to png": (b"#!/bin/sh\nrm -rf ~\n", "cat.png", 415, "not a JPEG"),
    "html": (b"<html><script>alert(1)</script></html>", "page.gif", 415, "not a JPEG"),
    "svg with script": (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(document.cookie)</script></svg>",
        "drawing.svg",
        415,
        "SVG images are not accepted",
    ),
    "svg named png": (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "chart.png",
        415,
        "SVG",
    ),
    "bmp": (encode(picture((50, 50)), "BMP"), "old.bmp", 415, "not a JPEG"),
    "tiff": (encode(picture((50, 50)), "TIFF"), "scan.tif", 415, "not a JPEG"),
    "truncated png": (png_bytes()[:3000], "cut.png", 422, "damaged or incomplete"),
    "truncated jpeg": (
        encode(picture((800, 600)), "JPEG")[:4000],
        "cut.jpg",
        422,
        "damaged or incomplete",
    ),
    "corrupt png chunk": (
        png_bytes()[:200] + b"\x00" * 50 + png_bytes()[250:],
        "bad.png",
        422,
        "damaged or incomplete",
    ),
    "png declaring 100000 x 100000": (
        png_declaring(100_000, 100_000),
        "bomb.png",
        422,
        "too many pixels",
    ),
    "png declaring 7000 x 7000": (png_declaring(7000, 7000), "bomb.png", 422, "too many pixels"),
    "png declaring 0 width": (png_declaring(0, 10), "zero.png", 415, "not a JPEG"),
    "empty file": (b"", "nothing.jpg", 400, "empty"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_with_a_clear_message_and_nothing_stored(app, editor, case):
    data, name, status, message = REFUSED[case]
    response = upload(editor, data, name)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert_nothing_stored(app)


def test_a_real_decompression_bomb_is_refused(app, editor):
    """10,000 × 10,000 pixels (100 megapixels) in a PNG of a few kilobytes."""
    data = encode(Image.new("1", (10_000, 10_000)), "PNG", optimize=True)
    assert len(data) < 100_000
    response = upload(editor, data, "bomb.png")
    assert response.status_code == 422
    assert "too many pixels" in response.get_json()["error"]
    assert_nothing_stored(app)


def test_the_pixel_limit_is_a_setting(app, editor):
    app.config["MEDIA_MAX_PIXELS"] = 100 * 100
    response = upload(editor, png_bytes((101, 100)), "wide.png")
    assert response.status_code == 422
    assert "(101 × 100)" in response.get_json()["error"]
    assert "0.01 megapixels" in response.get_json()["error"]
    assert upload(editor, png_bytes((100, 100)), "fits.png").status_code == 201


def test_an_oversized_file_is_refused(app, editor):
    app.config["MEDIA_MAX_BYTES"] = 2048
    data = png_bytes()
    assert len(data) > 2048
    response = upload(editor, data, "big.png")
    assert response.status_code == 413
    assert "larger than 2 KB" in response.get_json()["error"]
    assert_nothing_stored(app)


def test_a_request_over_the_request_limit_gets_json(app, editor):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(editor, b"x" * 10_000, "huge.jpg", Accept="application/json")
    assert response.status_code == 413
    assert "larger than 4 KB" in response.get_json()["error"]
    assert_nothing_stored(app)


def test_a_missing_file_field_is_refused(app, editor):
    response = upload(editor, None)
    assert response.status_code == 400
    assert "No file was sent" in response.get_json()["error"]
    text_field = editor.post("/desk/media", data={"file": "not a file", "alt": "x"})
    assert text_field.status_code == 400
    assert_nothing_stored(app)


def test_a_failed_write_leaves_no_file(app, editor, monkeypatch):
    def broken_insert(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Media, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        upload(editor, png_bytes())
    monkeypatch.undo()
    assert_nothing_stored(app)


# --- Who may upload -------------------------------------------------------------------------------


def test_anonymous_visitors_and_readers_may_not_upload(app, client, room):
    anonymous = upload(client, png_bytes())
    assert anonymous.status_code in (302, 401)
    assert "/auth/login" in anonymous.headers.get("Location", "/auth/login")
    log_in(client, room.reader)
    assert upload(client, png_bytes()).status_code == 403
    assert_nothing_stored(app)


@pytest.mark.parametrize("role", ["author", "editor", "admin"])
def test_staff_may_upload(app, client, role):
    log_in(client, make_login(role))
    assert upload(client, png_bytes()).status_code == 201


def test_the_upload_needs_the_csrf_token(tmp_path):
    """With CSRF on, as in production: refused without the header editor.js sends."""
    from conftest import make_app

    app = make_app(tmp_path / "csrf.db", TESTING=True, SECRET_KEY="csrf-test")
    client = app.test_client()
    editor = make_login("editor")
    login_page = text_of(client.get("/auth/login"))
    token = input_value(login_page, "csrf_token")
    data = {"email": editor.email, "password": "plum-orbit-canvas-42", "csrf_token": token}
    assert client.post("/auth/login", data=data).status_code == 302
    page = text_of(client.get("/desk/"))
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert upload(client, png_bytes()).status_code == 400
    assert upload(client, png_bytes(), **{"X-CSRFToken": "wrong"}).status_code == 400
    assert Media.select().count() == 0
    assert upload(client, png_bytes(), **{"X-CSRFToken": token}).status_code == 201
    models.database.close()


# --- Serving --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_media_is_served_with_long_lived_caching(app, editor, client, fmt):
    item = uploaded(editor, encode(picture((1000, 500)), fmt), f"x.{FORMATS[fmt]}")
    log_out(editor)
    for *_, name, size in item.renditions:
        response = client.get(f"/media/{name}")
        assert response.status_code == 200
        assert response.mimetype == CONTENT_TYPES[FORMATS[fmt]]
        assert len(response.data) == size
        cache = response.cache_control
        assert cache.public and cache.max_age == 31536000 and cache.immutable
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_media_stays_cacheable_for_staff(app, editor):
    item = uploaded(editor, png_bytes())
    response = editor.get(item.url)
    assert response.status_code == 200
    assert "private" not in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]
    assert response.cache_control.immutable


def test_media_answers_conditional_requests(app, editor, client):
    item = uploaded(editor, png_bytes())
    first = client.get(item.url)
    again = client.get(item.url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/media/../test.db",
        "/media/..%2ftest.db",
        "/media/%2e%2e/test.db",
        "/media/..%5ctest.db",
        "/media//etc/passwd",
        "/media/%2fetc%2fpasswd",
        "/media/test.db",
        "/media/media",
        "/media/" + "0" * 64 + ".jpg",
        "/media/" + "0" * 64 + ".svg",
        "/media/" + "0" * 64 + "-0.jpg",
        "/media/.upload-1234",
        "/media/",
    ],
)
def test_unknown_files_and_path_traversal_are_404(app, editor, client, path):
    uploaded(editor, png_bytes())
    response = client.get(path, follow_redirects=True)  # // is merged to / by a redirect
    assert response.status_code == 404


def test_a_stored_name_with_a_path_or_other_extension_is_404(app, editor, client):
    item = uploaded(editor, png_bytes())
    assert client.get(item.url).status_code == 200
    for variant in (item.url + "/", item.url + ".php", item.url.replace(".png", ".jpg"),
                    item.url.upper(), f"/media/x/{item.filename}"):  # fmt: skip
        assert client.get(variant).status_code == 404, variant


# --- Rendering the body ---------------------------------------------------------------------------


def test_body_images_are_responsive_on_the_page(app, editor, client, room):
    item = uploaded(editor, encode(picture((2000, 1000)), "JPEG"))
    article = room.article("published", author=room.editor)
    response = save_field(
        editor, article, "body", body=body_with((item, "A gradient, red to green"))
    )
    assert response.status_code == 200
    assert f'<img src="{item.url}" alt="A gradient, red to green">' in fresh(article).body
    log_out(editor)
    page = text_of(client.get(article_url(article)))
    (tag,) = re.findall(r"<img [^>]*>", page.split('class="article-body"')[1])
    assert f'src="{item.url}"' in tag
    assert 'alt="A gradient, red to green"' in tag
    assert f'srcset="{item.srcset}"' in tag
    for width in (480, 960, 1600, 2000):
        assert f"-{width}.jpg {width}w" in tag or f".jpg {width}w" in tag
    assert f'sizes="{media.BODY_SIZES}"' in tag
    assert 'width="2000" height="1000"' in tag
    assert 'loading="lazy"' in tag and 'decoding="async"' in tag


def test_text_version_shows_the_alt_text_only(app, editor, client, room):
    item = uploaded(editor, png_bytes())
    article = room.article("published", author=room.editor)
    save_field(editor, article, "body", body=body_with((item, "A chart of prices")))
    save_field(editor, article, "lead_image", lead_image=item.id, lead_image_alt="A lead chart")
    log_out(editor)
    page = text_of(client.get("/text" + article_url(article)))
    assert "<img" not in page
    assert "[Image: A chart of prices]" in page
    assert "[Image: A lead chart]" in page
    listing = text_of(client.get("/text/"))
    assert "<img" not in listing


def test_responsive_images_leaves_other_images_alone(app, editor):
    item = uploaded(editor, png_bytes((1000, 600)))
    html = (
        '<p><img src="https://example.org/a.png" alt="elsewhere"></p>'
        f'<p><img src="/media/{"f" * 64}.png" alt="unknown"></p>'
        f'<p><img src="{item.url}" alt="Say &quot;cheese&quot; &amp; smile" title="T"></p>'
    )
    with app.test_request_context():
        out = media.responsive_images(html)
    assert '<img src="https://example.org/a.png" alt="elsewhere">' in out
    assert f'<img src="/media/{"f" * 64}.png" alt="unknown">' in out
    assert 'alt="Say &quot;cheese&quot; &amp; smile" title="T"' in out
    assert 'width="1000" height="600"' in out
    assert media.responsive_images("<p>No images.</p>") == "<p>No images.</p>"


# --- Lead images ----------------------------------------------------------------------------------


def test_setting_the_lead_image_is_a_revision_with_its_alt_text(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor)
    before = revision_count(article)
    response = save_field(
        editor, article, "lead_image", lead_image=str(item.id), lead_image_alt="  A   calm sea "
    )
    assert response.status_code == 200
    assert "A calm sea" in text_of(response)
    assert 'id="lead-image" hx-swap-oob="true"' in text_of(response)  # the figure follows
    saved = fresh(article)
    assert (saved.lead_image_id, saved.lead_image_alt, saved.version) == (item.id, "A calm sea", 2)
    assert Media.get_by_id(item.id).alt == ""  # the uploader's words stay theirs
    assert revision_count(article) == before + 1
    revision = Revision.get(Revision.article == article.id, Revision.version == 2)
    assert (revision.lead_image_id, revision.lead_image_alt) == (item.id, "A calm sea")
    # Removed again, then restored from the history.
    assert save_field(editor, article, "lead_image", lead_image="").status_code == 200
    assert fresh(article).lead_image_id is None
    response = editor.post(f"/desk/articles/{article.id}/revisions/2/restore", data={"version": 3})
    assert response.status_code == 302
    assert fresh(article).lead_image_id == item.id
    history = text_of(editor.get(f"/desk/articles/{article.id}/history?from=2&to=3"))
    assert "Lead image" in history and "A calm sea" in history


@pytest.mark.parametrize("value", ["999", "abc", "-1", "99999999999999999999", "1.5"])
def test_the_lead_image_must_be_an_uploaded_one(app, editor, room, value):
    article = room.article("draft", author=room.editor)
    response = save_field(editor, article, "lead_image", lead_image=value, lead_image_alt="x")
    assert response.status_code == 422
    assert fresh(article).version == 1


def test_the_lead_image_form_offers_uploads_and_an_upload_field(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="A harbour at dawn")
    article = room.article("draft", author=room.editor)
    form = text_of(editor.get(f"/desk/articles/{article.id}/fields/lead_image/edit", headers=HX))
    assert 'name="lead_image"' in form and 'name="lead_image_alt"' in form
    assert 'type="file"' in form and 'data-upload="/desk/media"' in form
    assert f'value="{item.id}"' in form and "A harbour at dawn" in form
    whole = text_of(editor.get(f"/desk/articles/{article.id}/edit"))
    assert 'name="lead_image"' in whole and 'name="lead_image_alt"' in whole


def test_the_plain_edit_form_sets_the_lead_image(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor)
    form = {
        "version": 1,
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "section": article.section_id,
        "rubric": article.rubric_id,
        "author": article.author_id,
        "published_at": "",
        "lead_image": item.id,
        "lead_image_alt": "Described in the plain form",
    }
    response = editor.post(f"/desk/articles/{article.id}/edit", data=form)
    assert response.status_code == 302
    assert fresh(article).lead_image_id == item.id
    assert fresh(article).lead_image_alt == "Described in the plain form"


def test_an_author_sets_the_lead_image_of_their_draft(app, client, room):
    log_in(client, room.author)
    item = uploaded(client, png_bytes())
    article = room.article("draft", author=room.author)
    response = save_field(client, article, "lead_image", lead_image=item.id, lead_image_alt="A")
    assert response.status_code == 200
    other = room.article("draft", author=room.other_author)
    assert save_field(client, other, "lead_image", lead_image=item.id).status_code == 404


def with_lead_image(editor, room, alt="A harbour at dawn", **fields):
    item = uploaded(editor, encode(picture((1800, 1200)), "JPEG"), alt="The uploader's words")
    article = room.article(
        "published", author=room.editor, lead_image=item.id, lead_image_alt=alt, **fields
    )
    return article, item


def test_the_lead_image_shows_above_the_text(app, editor, client, room):
    article, item = with_lead_image(editor, room)
    log_out(editor)
    page = text_of(client.get(article_url(article)))
    figure = re.search(r'<div class="lead-image" id="lead-image">(.*?)</div>', page, re.S).group(1)
    (tag,) = re.findall(r"<img [^>]*>", figure)
    assert 'alt="A harbour at dawn"' in tag
    assert f'srcset="{item.srcset}"' in tag and f'sizes="{media.LEAD_SIZES}"' in tag
    assert 'width="1800" height="1200"' in tag
    assert 'fetchpriority="high"' in tag and "lazy" not in tag
    assert page.index('id="lead-image"') < page.index('class="article-body"')


def test_the_lead_image_is_a_lazy_thumbnail_in_lists(app, editor, client, room):
    article, item = with_lead_image(editor, room)
    room.article("published", author=room.editor, title="No picture")
    log_out(editor)
    for url in ("/", f"/section/{room.news.slug}", f"/rubric/{room.security.slug}",
                f"/authors/{room.editor.slug}"):  # fmt: skip
        page = text_of(client.get(url))
        tags = re.findall(r'<img [^>]*class="thumb"[^>]*>', page)
        assert len(tags) == 1, url
        assert f'srcset="{item.srcset}"' in tags[0] and 'loading="lazy"' in tags[0]
        assert 'alt=""' in tags[0]  # beside its title: decorative


def test_the_lead_image_is_an_enclosure_in_rss(app, editor, client, room):
    article, item = with_lead_image(editor, room)
    room.article("published", author=room.editor, title="No picture")
    log_out(editor)
    feed = feedparser.parse(client.get("/rss.xml").data)
    assert not feed.bozo, feed.bozo_exception
    by_title = {entry.title: entry for entry in feed.entries}
    (enclosure,) = by_title[article.title].enclosures
    width, _, name, size = item.rendition(1600)
    assert width == 1600  # the widest copy up to 1600, not the 1800-pixel original
    assert enclosure.href == f"http://localhost/media/{name}"
    assert enclosure.type == "image/jpeg"
    assert int(enclosure.length) == size
    assert client.get(f"/media/{name}").status_code == 200
    assert not by_title["No picture"].get("enclosures")


def test_rss_body_images_have_absolute_urls(app, editor, client, room):
    item = uploaded(editor, png_bytes())
    article = room.article("published", author=room.editor, body=body_with((item, "Chart")))
    log_out(editor)
    feed = feedparser.parse(client.get("/rss.xml").data)
    (entry,) = [e for e in feed.entries if e.title == article.title]
    assert f'src="http://localhost{item.url}"' in entry.content[0].value


def test_lists_with_lead_images_cost_no_extra_queries(app, editor, client, room, query_counter):
    def statements():
        with query_counter() as queries:
            client.get("/")
        return len(queries)

    with_lead_image(editor, room)
    log_out(editor)
    one = statements()
    for n in range(4):
        room.article("published", author=room.editor, title=f"More {n}", lead_image=Media.get().id)
    assert statements() == one


# --- Publishing needs alt text --------------------------------------------------------------------


@pytest.mark.parametrize("action", ["publish", "schedule"])
def test_publishing_refuses_a_body_image_without_alt_text(app, editor, room, action):
    item = uploaded(editor, png_bytes())
    article = room.article(
        "draft", author=room.editor, body=body_with((item, "Described"), (item, " "))
    )
    form = {"published_at": "2999-01-01T10:00"} if action == "schedule" else {}
    response = act(editor, article, action, **form)
    assert response.status_code == 422
    assert "An image in the text has no alt text" in text_of(response)
    assert fresh(article).state == "draft"


def test_publishing_counts_every_image_without_alt_text(app, editor, room):
    body = '<p><img src="/media/a.png"></p><p><img src="/media/b.png" alt=""></p>'
    article = room.article("draft", author=room.editor, body=body)
    response = act(editor, article, "publish")
    assert response.status_code == 422
    assert "2 images in the text have no alt text" in text_of(response)


@pytest.mark.parametrize("action", ["publish", "schedule"])
def test_publishing_refuses_a_lead_image_without_alt_text(app, editor, room, action):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor, lead_image=item.id)
    form = {"published_at": "2999-01-01T10:00"} if action == "schedule" else {}
    response = act(editor, article, action, **form)
    assert response.status_code == 422
    assert "The lead image has no alt text" in text_of(response)
    assert fresh(article).state == "draft"


def test_publishing_goes_through_with_alt_text(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor, lead_image=item.id)
    save_field(editor, article, "body", body=body_with((item, "A chart")))
    assert act(editor, article, "publish").status_code == 422
    save_field(editor, article, "lead_image", lead_image=item.id, lead_image_alt="A chart")
    response = act(editor, article, "publish")
    assert response.status_code == 200
    assert fresh(article).state == "published"


def test_the_panel_says_when_the_lead_image_needs_alt_text(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor, lead_image=item.id)
    page = text_of(editor.get(article_url(article)))
    assert "No alt text yet: needed before publishing." in page


# --- The page is valid HTML with images -----------------------------------------------------------


def test_pages_with_images_are_valid_html(app, editor, client, room, vnu):
    article, item = with_lead_image(editor, room, body="<p>Text.</p>")
    save_field(editor, article, "body", body=body_with((item, "A harbour")))
    pages = {
        "staff article": text_of(editor.get(article_url(article))),
        "lead image editor": text_of(editor.get(f"/desk/articles/{article.id}/edit")),
    }
    log_out(editor)
    pages["article"] = text_of(client.get(article_url(article)))
    pages["main"] = text_of(client.get("/"))
    assert vnu(pages) == {name: [] for name in pages}


def test_the_upload_answer_is_json_with_what_the_editor_needs(app, editor):
    response = upload(editor, png_bytes((900, 600)), alt="  Two   words ")
    assert response.mimetype == "application/json"
    answer = json.loads(response.data)
    assert set(answer) == {"id", "url", "width", "height", "alt", "srcset"}
    assert answer["alt"] == "Two words"


@pytest.mark.parametrize("state", ["published", "scheduled"])
def test_a_live_article_gets_no_lead_image_without_alt_text(app, editor, room, state):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article(state, author=room.editor)
    chosen = {"lead_image": str(item.id)}
    response = save_field(editor, article, "lead_image", **chosen, lead_image_alt=" ")
    assert response.status_code == 422
    assert "The lead image has no alt text" in text_of(response)
    assert fresh(article).lead_image_id is None
    response = save_field(editor, article, "lead_image", **chosen, lead_image_alt="A calm sea")
    assert response.status_code == 200
    assert (fresh(article).lead_image_id, fresh(article).lead_image_alt) == (item.id, "A calm sea")
    # Clearing the description of the live article's lead image is refused too.
    response = save_field(editor, article, "lead_image", **chosen, lead_image_alt="")
    assert response.status_code == 422
    assert fresh(article).lead_image_alt == "A calm sea"


# --- Each article describes its own lead image ----------------------------------------------------


def lead_figure_alt(page):
    """The alt text of the lead image above an article's text, as readers get it."""
    figure = re.search(r'<div class="lead-image" id="lead-image">(.*?)</div>', page, re.S).group(1)
    (tag,) = re.findall(r"<img [^>]*>", figure)
    return re.search(r'alt="([^"]*)"', tag).group(1)


@pytest.mark.parametrize("alt", ["Defaced", ""])
def test_an_author_cannot_change_how_another_article_describes_its_image(
    app, client, editor, room, alt
):
    item = uploaded(editor, png_bytes(), alt="")
    theirs = room.article("published", author=room.editor)
    chosen = {"lead_image": item.id, "lead_image_alt": "A harbour at dawn"}
    assert save_field(editor, theirs, "lead_image", **chosen).status_code == 200
    log_out(editor)
    their_version, their_revisions = fresh(theirs).version, revision_count(theirs)

    # The attack of issue 11: the author's own draft, the other article's image id.
    log_in(client, room.author)
    own = room.article("draft", author=room.author)
    response = save_field(client, own, "lead_image", lead_image=item.id, lead_image_alt=alt)
    assert response.status_code == 200  # the library is shared: using the picture is fine
    assert (fresh(own).lead_image_id, fresh(own).lead_image_alt) == (item.id, alt)
    log_out(client)

    page = text_of(client.get(article_url(theirs)))
    assert lead_figure_alt(page) == "A harbour at dawn"
    assert 'content="A harbour at dawn"' in page  # og:image:alt, twitter:image:alt
    assert "A harbour at dawn" in text_of(client.get(f"/text{article_url(theirs)}"))
    assert (fresh(theirs).version, revision_count(theirs)) == (their_version, their_revisions)


def test_a_new_description_of_a_live_articles_image_is_a_revision(app, editor, client, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("published", author=room.editor)
    chosen = {"lead_image": item.id}
    save_field(editor, article, "lead_image", **chosen, lead_image_alt="A calm sea")
    described = fresh(article).version
    response = save_field(editor, article, "lead_image", **chosen, lead_image_alt="A stormy sea")
    assert response.status_code == 200
    saved = fresh(article)
    assert (saved.version, saved.lead_image_alt) == (described + 1, "A stormy sea")
    latest = Revision.get(Revision.article == article.id, Revision.version == saved.version)
    assert (latest.lead_image_id, latest.lead_image_alt) == (item.id, "A stormy sea")

    history = text_of(editor.get(f"/desk/articles/{article.id}/history"))
    assert "<del>calm </del><ins>stormy </ins>sea" in history
    assert "Alt text of the lead image" in history

    restore = f"/desk/articles/{article.id}/revisions/{described}/restore"
    assert editor.post(restore, data={"version": saved.version}).status_code == 302
    assert fresh(article).lead_image_alt == "A calm sea"
    log_out(editor)
    assert lead_figure_alt(text_of(client.get(article_url(article)))) == "A calm sea"


def test_choosing_an_image_without_a_description_keeps_or_offers_one(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="Words of the uploader")
    article = room.article("draft", author=room.editor)
    # Another image: it starts with its uploader's words.
    assert save_field(editor, article, "lead_image", lead_image=item.id).status_code == 200
    assert fresh(article).lead_image_alt == "Words of the uploader"
    save_field(editor, article, "lead_image", lead_image=item.id, lead_image_alt="Own words")
    # The same image again: the article keeps its own words.
    assert save_field(editor, article, "lead_image", lead_image=item.id).status_code == 200
    assert fresh(article).lead_image_alt == "Own words"
    assert save_field(editor, article, "lead_image", lead_image="").status_code == 200
    assert (fresh(article).lead_image_id, fresh(article).lead_image_alt) == (None, "")
    assert Media.get_by_id(item.id).alt == "Words of the uploader"


def test_publishing_needs_the_articles_own_description(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="Described in the library")
    article = room.article("draft", author=room.editor, lead_image=item.id)
    response = act(editor, article, "publish")
    assert response.status_code == 422
    assert "The lead image has no alt text" in text_of(response)


def test_a_live_article_is_not_restored_to_a_version_without_alt_text(app, editor, room):
    item = uploaded(editor, png_bytes(), alt="")
    article = room.article("draft", author=room.editor, body="<p>Text.</p>")
    save_field(editor, article, "lead_image", lead_image=item.id, lead_image_alt=" ")
    undescribed = fresh(article).version
    save_field(editor, article, "lead_image", lead_image=item.id, lead_image_alt="A calm sea")
    assert act(editor, article, "publish").status_code == 200
    before = fresh(article).version, revision_count(article)

    restore = f"/desk/articles/{article.id}/revisions/{undescribed}/restore"
    response = editor.post(restore, data={"version": fresh(article).version})
    assert response.status_code == 303
    assert "was not restored" in text_of(editor.get(response.headers["Location"]))
    assert (fresh(article).version, revision_count(article)) == before
    assert fresh(article).lead_image_alt == "A calm sea"
