"""The Nu HTML Checker finds no error in the pages readers get.

All pages go through one run of the checker (the JVM's start is the slow part):
a module fixture renders them from the demo site and validates them together,
then one test per page reports that page's errors.
"""

import pytest

import demo
import models
from models import Article, User

pytestmark = pytest.mark.page_quality  # markup, the same on either database

PAGES = (
    "main",
    "section",
    "rubric",
    "article",
    "print",
    "author",
    "404",
    "text main",
    "text section",
    "text article",
    "text author",
)


def page_urls():
    seed = Article.get(Article.title == demo.SEED_TITLE)
    article = f"/articles/{seed.id}/{seed.slug}"
    author = f"/authors/{User.get(User.display_name == demo.SEED_AUTHOR).slug}"
    return {
        "main": "/",
        "section": "/section/reports",
        "rubric": "/rubric/global-security",
        "article": article,
        "print": article + "/print",
        "author": author,
        "404": "/articles/999999",
        "text main": "/text/",
        "text section": "/text/section/reports",
        "text article": "/text" + article,
        "text author": "/text" + author,
    }


@pytest.fixture(scope="module")
def errors(tmp_path_factory, vnu):
    """{page name: the checker's errors}, for the demo site with 30 generated articles."""
    from conftest import make_app

    path = tmp_path_factory.mktemp("validity") / "validity.db"
    app = make_app(path, TESTING=True, SECRET_KEY="t")
    with app.app_context():
        demo.load_demo(30)
        urls = page_urls()
    client = app.test_client()
    documents = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == (404 if name == "404" else 200), url
        documents[name] = response.get_data(as_text=True)
    models.database.close()
    return vnu(documents)


@pytest.mark.parametrize("name", PAGES)
def test_page_is_valid_html(errors, name):
    assert errors[name] == []
