"""What lists need besides their query: prepared SQL for the hottest reads, names
set in place of joins, and pages."""

import math

from models.base import database
from models.media import Media
from models.people import User
from models.taxonomy import Rubric, Section


class PreparedQuery:
    """A hot read whose SQL Peewee builds once per kind of database, then runs with new values.

    Building a query's SQL costs Peewee several times what the database takes to run it.
    `build(*values)` returns the query; each value must come out as one parameter of the
    SQL, unchanged, which the first call checks: if not, Peewee builds it every time.
    """

    def __init__(self, build):
        self.build = build
        self.prepared = {}  # database class -> (model, sql, params, positions), or None

    def __call__(self, *values):
        kind = type(database.obj)
        if kind not in self.prepared:
            query = self.build(*values)
            sql, params = query.sql()
            found = [
                [i for i, param in enumerate(params) if (type(param), param) == (type(v), v)]
                for v in values
            ]
            usable = all(len(positions) == 1 for positions in found)
            positions = [positions[0] for positions in found]
            self.prepared[kind] = (query.model, sql, params, positions) if usable else None
            return list(query)
        if self.prepared[kind] is None:
            return list(self.build(*values))
        model, sql, params, positions = self.prepared[kind]
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        return list(model.raw(sql, *params))


class Directory:
    """Sections, rubrics and authors by id, set on listed articles in place of a join.

    Peewee takes several times longer to build a five-table join's SQL than SQLite takes
    to run it. These rows are few and change only with content, so the site keeps one
    Directory per content version (caching.named); lead images, which are many, are
    fetched for each list in one query.
    """

    def __init__(self):
        self.rows = {
            "section": {row.id: row for row in Section.select()},
            "rubric": {row.id: row for row in Rubric.select()},
            # The staff; anyone else (a former author, say) is added when an article needs them.
            "author": {row.id: row for row in User.select().where(User.role != "reader")},
        }

    def attach(self, articles):
        """The articles, as a list, with section, rubric, author and lead image set."""
        articles = list(articles)
        authors = self.rows["author"]
        missing = {article.author_id for article in articles} - authors.keys()
        if missing:
            authors.update((user.id, user) for user in User.select().where(User.id.in_(missing)))
        image_ids = {article.lead_image_id for article in articles} - {None}
        images = Media.select().where(Media.id.in_(image_ids)) if image_ids else []
        rows = {**self.rows, "lead_image": {image.id: image for image in images}}
        for article in articles:
            for name, by_id in rows.items():
                row = by_id.get(getattr(article, f"{name}_id"))
                if row is not None:  # else Peewee fetches it when it is read
                    setattr(article, name, row)
        return articles


class Pagination:
    """One page of a list. `page` is 1-based; a page past the end is empty."""

    def __init__(self, items_query, total, page, per_page):
        self.page = page
        self.per_page = per_page
        self.total = total
        self.pages = max(1, math.ceil(total / per_page))
        self.items = list(items_query) if page <= self.pages else []

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def exists(self):
        return self.page <= self.pages
