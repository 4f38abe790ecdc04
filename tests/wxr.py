"""Small WordPress exports (WXR 1.2) for the import tests, written from a few items."""

from xml.sax.saxutils import escape

HOME = "http://old.example.com"


def category(nicename, name, parent=""):
    return (
        f"<wp:category><wp:category_nicename>{nicename}</wp:category_nicename>"
        f"<wp:category_parent>{parent}</wp:category_parent>"
        f"<wp:cat_name><![CDATA[{name}]]></wp:cat_name></wp:category>"
    )


def post(
    wp_id,
    title,
    link,
    *,
    name="",
    date="2019-07-21 08:16:00",
    status="publish",
    post_type="post",
    categories=(),
    tags=(),
    content="Some text.",
    thumbnail=None,
    creator="jdoe",
):
    """An item; `categories` and `tags` are (nicename, name) pairs."""
    terms = "".join(
        f'<category domain="{domain}" nicename="{nicename}"><![CDATA[{label}]]></category>'
        for domain, pairs in (("category", categories), ("post_tag", tags))
        for nicename, label in pairs
    )
    meta = (
        "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
        f"<wp:meta_value>{thumbnail}</wp:meta_value></wp:postmeta>"
        if thumbnail
        else ""
    )
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<dc:creator>{creator}</dc:creator>"
        f'<guid isPermaLink="false">{HOME}/?p={wp_id}</guid>'
        f"<content:encoded><![CDATA[{content}]]></content:encoded>"
        f"<wp:post_id>{wp_id}</wp:post_id><wp:post_date>{date}</wp:post_date>"
        f"<wp:post_name>{name}</wp:post_name><wp:status>{status}</wp:status>"
        f"<wp:post_type>{post_type}</wp:post_type>{terms}{meta}</item>"
    )


def attachment(wp_id, url, file="", alt=""):
    meta = "".join(
        f"<wp:postmeta><wp:meta_key>{key}</wp:meta_key>"
        f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta>"
        for key, value in (("_wp_attached_file", file), ("_wp_attachment_image_alt", alt))
        if value
    )
    return (
        f"<item><title>Attachment {wp_id}</title><wp:post_id>{wp_id}</wp:post_id>"
        "<wp:status>inherit</wp:status><wp:post_type>attachment</wp:post_type>"
        f"<wp:attachment_url>{escape(url)}</wp:attachment_url>{meta}</item>"
    )


def write(path, *parts, home=HOME):
    """The export of `parts` (categories, then items) at `path`; returns the path."""
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
        f"<title>Old site</title><link>{home}</link><wp:wxr_version>1.2</wp:wxr_version>"
        f"<wp:base_site_url>{home}</wp:base_site_url><wp:base_blog_url>{home}</wp:base_blog_url>"
        + "".join(parts)
        + "</channel></rss>",
        encoding="utf-8",
    )
    return path
