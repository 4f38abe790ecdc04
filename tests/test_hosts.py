"""The site's own address: absolute links come from SITE_URL, never from the Host header a
client sends, and requests for hosts the site does not serve are refused (TRUSTED_HOSTS)."""

import re

import pytest
from conftest import make_app, release_connections
from test_auth import PASSWORD, FakeSMTP, make_account

from models import User

SITE = "https://news.example.org"


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site that knows its address, with a mail server that records what it sends."""
    import smtplib

    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app = make_app(
        tmp_path / "hosts.db",
        TESTING=True,
        SECRET_KEY="test",
        WTF_CSRF_ENABLED=False,
        SITE_URL=SITE + "/",
        MAIL_SERVER="smtp.example.org",
    )
    yield app
    release_connections()


def links_in(text):
    return re.findall(r"https?://[^\s\"'<]+", text)


def test_a_reset_requested_for_another_host_is_refused_and_mails_nothing(site):
    user = make_account()
    client = site.test_client()
    response = client.post(
        "/auth/reset", data={"email": user.email}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert FakeSMTP.sent == []


def test_reset_mail_links_come_from_site_url_whatever_the_host(site):
    """Even through a second host the site serves, the link names SITE_URL, over https."""
    site.config["TRUSTED_HOSTS"] = ["news.example.org", "www.news.example.org"]
    user = make_account()
    response = site.test_client().post(
        "/auth/reset", data={"email": user.email}, base_url="http://www.news.example.org"
    )
    assert response.status_code == 200
    [message] = FakeSMTP.sent
    [link] = links_in(message.get_content())
    assert link.startswith(SITE + "/auth/reset/")


def test_pages_feeds_and_admin_links_name_site_url(site, make_article):
    article = make_article()
    admin = make_account(role="admin")
    client = site.test_client()
    page = client.get(f"/articles/{article.id}/{article.slug}", base_url="http://127.0.0.1")
    assert page.status_code == 200
    og_url = re.search(r'<meta property="og:url" content="([^"]+)"', page.text).group(1)
    assert og_url == f"{SITE}/articles/{article.id}/{article.slug}"

    feed = client.get("/rss.xml", base_url="http://localhost").text
    site_links = re.findall(r"(?:<link>|<guid[^>]*>|href=\")(https?://[^<\"]+)", feed)
    assert len(site_links) >= 4 and all(link.startswith(SITE) for link in site_links), feed

    local = "http://127.0.0.1"
    login = {"email": admin.email, "password": PASSWORD}
    assert client.post("/auth/login", data=login, base_url=local).status_code == 302
    target = make_account()
    made = client.post(f"/admin/users/{target.id}/reset-link", base_url=local)
    assert made.status_code in (200, 302)
    flashed = client.get("/admin/users", base_url=local).text
    assert f"{SITE}/auth/reset/" in flashed


@pytest.mark.parametrize("host", ["evil.example", "news.example.org.evil.example", "x:80@y"])
def test_requests_for_other_hosts_are_refused_even_when_cached(site, make_article, host):
    article = make_article()
    client = site.test_client()
    path = f"/articles/{article.id}/{article.slug}"
    assert client.get(path, base_url=SITE).status_code == 200  # now in the page cache
    assert client.get(path, base_url=SITE).status_code == 200
    refused = client.get(path, headers={"Host": host})
    assert refused.status_code == 400
    assert SITE not in refused.text and "og:url" not in refused.text


def test_trusted_hosts_can_be_listed(tmp_path):
    app = make_app(
        tmp_path / "listed.db", TESTING=True, SECRET_KEY="test",
        SITE_URL=SITE, TRUSTED_HOSTS=["news.example.org", ".example.net"],
    )
    try:
        client = app.test_client()
        assert client.get("/healthz", base_url="http://mirror.example.net").status_code == 200
        assert client.get("/healthz", base_url="http://127.0.0.1").status_code == 400
    finally:
        release_connections()


def test_loopback_answers_by_default_for_the_hosts_monitor(site):
    assert site.test_client().get("/healthz", base_url="http://127.0.0.1:8000").status_code == 200


@pytest.mark.parametrize(
    "config",
    [
        {"MAIL_SERVER": "smtp.example.org"},  # mail without the address its links need
        {"SITE_URL": "news.example.org"},
        {"SITE_URL": "ftp://news.example.org"},
        {"SITE_URL": "https://news.example.org/news?x=1"},
        {"SITE_URL": "https://"},
    ],
    ids=["mail-without-site-url", "no-scheme", "ftp", "path-and-query", "no-host"],
)
def test_a_wrong_site_address_stops_the_app_with_a_clear_message(tmp_path, config):
    from app import create_app

    with pytest.raises(RuntimeError, match="SITE_URL"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **config})


def test_without_site_url_mail_is_never_sent(app, client, monkeypatch):
    """A mail server set at run time without SITE_URL: the page says ask an admin."""
    import smtplib

    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config["MAIL_SERVER"] = "smtp.example.org"
    user = make_account()
    response = client.post("/auth/reset", data={"email": user.email},
                           headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert FakeSMTP.sent == []
    assert User.get_by_id(user.id).active
