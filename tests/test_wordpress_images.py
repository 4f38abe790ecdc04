"""`import-wordpress --uploads DIR`: the images posts use go into the media library, through
media.py's checks, and bodies point at them there (wordpress.Uploads).

The uploads folder is built here with Pillow: an original with WordPress's size copies,
a big upload of which only the -scaled copy is left, a size copy without its original,
and hostile files (not an image, a decompression bomb, a symlink out, a file outside).
"""

from pathlib import Path

import pytest
import wxr
from test_media import picture, png_declaring

import media
import wordpress
from models import Article, LegacyPost, Media

pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")

UPLOADS = f"{wxr.HOME}/wp-content/uploads/2020/05"
CDN = "https://cdn.example.net"  # the same uploads, served from another host
ELSEWHERE = "https://images.example.net/elsewhere.png"  # not the old site's: left alone
HARBOUR = (
    f'[caption id="attachment_801" align="alignnone" width="300"]<a href="{UPLOADS}/harbour.jpg">'
    f'<img class="size-medium wp-image-801" src="{UPLOADS}/harbour-300x200.jpg" '
    f'srcset="{UPLOADS}/harbour-300x200.jpg 300w, {UPLOADS}/harbour-1024x683.jpg 1024w, '
    f'{UPLOADS}/harbour.jpg 1200w" sizes="(max-width: 300px) 100vw, 300px" alt="" '
    'width="300" height="200" /></a> Boats at dawn[/caption]'
)
POSTS = (
    wxr.attachment(801, f"{UPLOADS}/harbour.jpg", "2020/05/harbour.jpg", alt="Harbour at dawn"),
    wxr.attachment(802, f"{UPLOADS}/big-scaled.jpg", "2020/05/big-scaled.jpg", alt="Big"),
    wxr.attachment(803, f"{wxr.HOME}/wp-content/uploads/../../secret.jpg", "../../secret.jpg"),
    wxr.post(
        701,
        "Harbour",
        f"{wxr.HOME}/harbour/",
        thumbnail=801,
        content=f"""{HARBOUR}

A chart from the CDN: <img src="{CDN}/wp-content/uploads/2020/05/chart.png" alt="Sales chart">

<img src="/wp-content/uploads/2020/05/big-300x200.jpg" alt="">

<img src="{UPLOADS}/only-300x200.jpg" alt="Small only"> <img src="{ELSEWHERE}" alt="Elsewhere">""",
    ),
    wxr.post(
        702,
        "Again",
        f"{wxr.HOME}/again/",
        thumbnail=801,
        content=f"""<img src="{UPLOADS}/harbour-1024x683.jpg" alt="Harbour again">

[caption width="300"]<img src="{UPLOADS}/gone.jpg" alt="Gone picture"> Lost forever[/caption]

See <a href="{UPLOADS}/gone-full.jpg">the full size</a>.""",
    ),
    wxr.post(
        703,
        "Hostile",
        f"{wxr.HOME}/hostile/",
        thumbnail=803,
        content=f"""<img src="{UPLOADS}/fake.jpg" alt="Fake">
<img src="{UPLOADS}/bomb.png" alt="Bomb">
<img src="{UPLOADS}/../../../../secret.jpg" alt="Traversal">
<img src="{UPLOADS}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.jpg" alt="Encoded">
<img src="{UPLOADS}/link.jpg" alt="Link">""",
    ),
)


@pytest.fixture
def uploads(tmp_path):
    """The old site's wp-content/uploads folder, and a secret beside it."""
    root = tmp_path / "wp-content" / "uploads"
    folder = root / "2020" / "05"
    folder.mkdir(parents=True)
    photo = picture((1200, 800))
    photo.save(folder / "harbour.jpg")
    photo.resize((300, 200)).save(folder / "harbour-300x200.jpg")
    photo.resize((1024, 683)).save(folder / "harbour-1024x683.jpg")
    picture((1600, 1000)).save(folder / "big-scaled.jpg")  # big.jpg itself was not kept
    picture((400, 300)).save(folder / "chart.png")
    picture((300, 200)).save(folder / "only-300x200.jpg")
    (folder / "fake.jpg").write_text("<?php system($_GET['c']); ?>")
    (folder / "bomb.png").write_bytes(png_declaring(20000, 20000))
    picture((200, 100)).save(tmp_path / "secret.jpg")
    (folder / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    return root


@pytest.fixture
def export(tmp_path):
    return wxr.write(tmp_path / "export.xml", *POSTS)


def run_import(runner, export, *options):
    result = runner.invoke(args=["import-wordpress", str(export), *options])
    assert result.exit_code == 0, result.output
    return result


def imported(wp_id):
    return Article.get_by_id(LegacyPost.get(LegacyPost.wp_id == wp_id).article_id)


def media_files(app):
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(path.name for path in root.iterdir()) if root.exists() else []


def section(output, heading):
    """The indented lines under a heading line of the summary."""
    lines = output.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return lines[start:end]


MISSING = [
    f"  post 702 “Again”: {UPLOADS}/gone.jpg: no such file in --uploads",
    f"  post 702 “Again”: {UPLOADS}/gone-full.jpg: no such file in --uploads",
    f"  post 703 “Hostile”: {UPLOADS}/link.jpg: no such file in --uploads",  # it leads out
]
LEAVES = "its path leaves the uploads folder: never read"
REFUSED = [
    f"  post 703 “Hostile”: {UPLOADS}/fake.jpg: This file is not a JPEG, PNG, WebP or GIF "
    "image, whatever its name: it was not accepted.",
    f"  post 703 “Hostile”: {UPLOADS}/bomb.png: The image has too many pixels: at most 40 "
    "megapixels are accepted. Make it smaller and upload it again.",
    # Once for both ways of writing it (..%2e%2e): the same file, the same post.
    f"  post 703 “Hostile”: {UPLOADS}/../../../../secret.jpg: {LEAVES}",
    f"  post 703 “Hostile”: {wxr.HOME}/wp-content/uploads/../../secret.jpg: {LEAVES}",
]


def test_the_images_posts_use_are_imported_once_and_bodies_point_at_them(
    app, client, runner, uploads, export, monkeypatch
):
    opened = []
    accept = wordpress.Uploads.accept
    monkeypatch.setattr(
        wordpress.Uploads,
        "accept",
        lambda self, path, alt: opened.append(path) or accept(self, path, alt),
    )
    result = run_import(runner, export, "--uploads", str(uploads))
    assert (
        "Image files imported into the media library: 4 (used as 2 featured images, 5 images "
        "in bodies)"
    ) in result.output.splitlines()
    assert section(result.output, "Images missing: 3") == MISSING
    assert section(result.output, "Images refused: 4") == REFUSED
    assert all(path.is_relative_to(uploads.resolve()) for path in opened)  # nothing outside

    stored = {(m.width, m.height): m for m in Media.select()}
    # The original of the harbour (not its copies), the -scaled big one, the chart, a size
    # copy whose original is gone, and… the fake's neighbours only: no secret, no bomb.
    assert sorted(stored) == [(300, 200), (400, 300), (1200, 800), (1600, 1000)]
    harbour, big, chart, only = (
        stored[s] for s in ((1200, 800), (1600, 1000), (400, 300), (300, 200))
    )
    assert harbour.alt == "Harbour at dawn"
    assert media_files(app) == sorted(name for m in stored.values() for *_, name, _ in m.renditions)

    body = imported(701).body
    assert (
        f'<figure><a href="{harbour.url}" rel="noopener noreferrer"><img src="{harbour.url}" '
        'alt="Harbour at dawn"></a><figcaption>Boats at dawn</figcaption></figure>'
    ) in body  # the alt text the attachment had; its size copy and srcset: the original
    assert f'A chart from the CDN: <img src="{chart.url}" alt="Sales chart">' in body
    assert f'<img src="{big.url}" alt="Big">' in body
    assert f'<img src="{only.url}" alt="Small only">' in body
    assert f'<img src="{ELSEWHERE}" alt="Elsewhere">' in body
    assert "wp-content" not in body and "srcset" not in body
    assert imported(701).lead_image_id == imported(702).lead_image_id == harbour.id

    again = imported(702).body
    assert f'<img src="{harbour.url}" alt="Harbour again">' in again
    assert "<figure>[Image: Gone picture]<figcaption>Lost forever</figcaption></figure>" in again
    assert "<p>See the full size.</p>" in again
    hostile = imported(703)
    assert hostile.body == (
        "<p>[Image: Fake]<br>\n[Image: Bomb]<br>\n[Image: Traversal]<br>\n[Image: Encoded]<br>\n"
        "[Image: Link]</p>"
    )
    assert hostile.lead_image is None

    page = client.get(f"/articles/{imported(701).id}/harbour").get_data(as_text=True)
    assert f'srcset="{harbour.srcset}"' in page  # the page's own sizes of the stored image
    assert client.get(harbour.url).status_code == 200


def test_a_dry_run_checks_every_file_and_stores_none(app, runner, uploads, export):
    result = run_import(runner, export, "--uploads", str(uploads), "--dry-run")
    assert (
        "Image files would be imported into the media library: 4 (used as 2 featured images, "
        "5 images in bodies)"
    ) in result.output.splitlines()
    assert section(result.output, "Images missing: 3") == MISSING
    assert section(result.output, "Images refused: 4") == REFUSED
    assert Media.select().count() == Article.select().count() == 0
    assert media_files(app) == []


def test_an_original_over_the_size_limit_gives_way_to_a_size_copy(app, runner, uploads, export):
    folder = uploads / "2020" / "05"
    limit = app.config["MEDIA_MAX_BYTES"] = (folder / "harbour-1024x683.jpg").stat().st_size
    assert (folder / "harbour.jpg").stat().st_size > limit
    result = run_import(runner, export, "--uploads", str(uploads))
    too_large = f"The file is larger than {media.human_size(limit)}: make it smaller."
    refused = section(result.output, "Images refused: 8")  # the chart and big one too
    for post in ("701 “Harbour”", "702 “Again”"):  # their featured image: its original only
        assert f"  post {post}: {UPLOADS}/harbour.jpg: {too_large}" in refused
    assert imported(701).lead_image is None
    # The image's own size copy (the link around it to the original goes); another's.
    small = Media.get(Media.alt == "Harbour at dawn")
    assert (small.width, small.height) == (300, 200)
    assert f'<figure><img src="{small.url}" alt="Harbour at dawn"><figcaption>' in (
        imported(701).body
    )
    large = Media.get(Media.alt == "Harbour again")
    assert (large.width, large.height) == (1024, 683)
    assert f'<img src="{large.url}" alt="Harbour again">' in imported(702).body


def test_without_uploads_bodies_keep_their_old_addresses(runner, export):
    result = run_import(runner, export)
    assert (
        "Images not imported (no --uploads given): 3 featured; 13 images and links in bodies "
        "left pointing at the old site"
    ) in result.output.splitlines()
    assert "srcset" not in imported(701).body  # the sanitizer's doing
    assert f'<img src="{UPLOADS}/harbour-300x200.jpg" alt="" width="300" height="200">' in (
        imported(701).body
    )
    assert Media.select().count() == 0


@pytest.mark.parametrize(
    ("srcset", "widest_first"),
    [
        ("a.jpg 300w, b.jpg 1024w,c.jpg 768w", ["b.jpg", "c.jpg", "a.jpg"]),
        ("a.jpg 1x, b.jpg 2x", ["b.jpg", "a.jpg"]),
        ("a.jpg", ["a.jpg"]),
        ("", []),
    ],
)
def test_srcset_candidates(srcset, widest_first):
    assert wordpress.srcset_urls(srcset) == widest_first


@pytest.mark.parametrize(
    ("relative", "originals"),
    [
        ("2020/05/photo-300x200.jpg", ["2020/05/photo.jpg", "2020/05/photo-scaled.jpg",
                                       "2020/05/photo-300x200.jpg"]),
        ("2020/05/photo-scaled-1024x683.jpg", ["2020/05/photo.jpg", "2020/05/photo-scaled.jpg",
                                               "2020/05/photo-scaled-1024x683.jpg"]),
        ("photo.jpg", ["photo.jpg", "photo-scaled.jpg"]),
        ("2020/05/README", ["2020/05/README"]),
    ],
)  # fmt: skip
def test_a_size_copy_is_taken_as_its_original_first(relative, originals):
    assert wordpress.Uploads.originals(relative) == originals
