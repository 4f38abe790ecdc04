"""Two editors on one article (models.Article.save_changes): what is stored and what each
is told, for every pair of fields they change and every kind of overlap."""

import pytest
from desk_helpers import HX, Newsroom, fresh, input_value, log_in, text_of, textarea_value

from models import EditConflict, Revision, Section

BODY = "<p>First paragraph.</p><p>Second paragraph.</p><p>Third paragraph.</p>"

# A change of each field from the base article below: field -> (value, another value).
CHANGES = {
    "title": ("Talks resume in Kabul today", "Peace talks resume in Kabul"),
    "lead": ("A short lead about the talks.", "A lead about the new talks."),
    "body": (
        "<p>First paragraph, edited.</p><p>Second paragraph.</p><p>Third paragraph.</p>",
        "<p>First paragraph.</p><p>Second paragraph.</p><p>Third paragraph, edited.</p>",
    ),
    "hot": (True, True),
}


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def base(newsroom):
    return newsroom.article(
        "published", title="Talks resume in Kabul", lead="A lead about the talks.", body=BODY
    )


@pytest.mark.parametrize("theirs", CHANGES, ids=lambda f: f"they change {f}")
@pytest.mark.parametrize("mine", CHANGES, ids=lambda f: f"I change {f}")
def test_changes_that_do_not_overlap_are_both_saved(newsroom, base, mine, theirs):
    """Different fields, or different words and paragraphs of one text: both kept."""
    first = base.save_changes({theirs: CHANGES[theirs][1]}, 1, newsroom.editor2)
    saved = base.save_changes({mine: CHANGES[mine][0]}, 1, newsroom.editor)

    stored = fresh(base)
    if mine == theirs and mine in ("title", "lead", "body"):
        expected = {
            "title": "Peace talks resume in Kabul today",
            "lead": "A short lead about the new talks.",
            "body": "<p>First paragraph, edited.</p>\n<p>Second paragraph.</p>\n"
            "<p>Third paragraph, edited.</p>",
        }[mine]
        assert getattr(stored, mine) == expected
        assert [field for field, _ in saved.merged] == [mine]
        [(_, met)] = saved.merged
        assert [revision.version for revision in met] == [first.version]
    else:
        assert getattr(stored, mine) == CHANGES[mine][0]
        assert getattr(stored, theirs) == CHANGES[theirs][1]
        assert saved.merged == []
    # Each save is a revision that names what it changed.
    last = Revision.get((Revision.article == base) & (Revision.version == stored.version))
    assert last.changed_fields <= {mine}


@pytest.mark.parametrize(
    ("field", "mine", "theirs"),
    [
        ("title", "Talks stall in Kabul", "Talks end in Kabul"),
        ("lead", "A lead about the failed talks.", "A lead about the secret talks."),
        (
            "body",  # mine as merged bodies are stored, a block a line: the resolution
            "<p>First paragraph, mine.</p>\n<p>Second paragraph.</p>\n<p>Third paragraph.</p>",
            "<p>First paragraph, theirs.</p><p>Second paragraph.</p><p>Third paragraph.</p>",
        ),
        ("section", "reports", "opinion"),  # not a text: any two different choices
    ],
)
def test_overlapping_changes_conflict_and_store_nothing(newsroom, base, field, mine, theirs):
    if field == "section":
        opinion = Section.create(name="Opinion", slug="opinion", position=9)
        mine, theirs = newsroom.reports.id, opinion.id
    base.save_changes({field: theirs}, 1, newsroom.editor2)
    before = fresh(base)

    with pytest.raises(EditConflict) as raised:
        base.save_changes({field: mine, "hot": True}, 1, newsroom.editor)

    conflict = raised.value
    assert list(conflict.fields) == [field]
    assert conflict.fields[field].mine == mine and conflict.fields[field].theirs == theirs
    assert [r.editor_id for r in conflict.editors_of(field)] == [newsroom.editor2.id]
    # The editor's own non-overlapping change is in what saving would resolve to.
    assert conflict.resolution["hot"] is True and conflict.resolution[field] == mine
    after = fresh(base)
    assert after.version == before.version
    assert after.field_value(field) == before.field_value(field) == theirs


# The other editor changes the first and the third paragraph; this one, from the same
# version, the first only.
THEIR_BODY = (
    "<p>First paragraph, theirs.</p><p>Second paragraph.</p><p>Third paragraph, theirs.</p>"
)
MY_BODY = "<p>First paragraph, mine.</p><p>Second paragraph.</p><p>Third paragraph.</p>"
# Taking mine from the conflict replaces their first paragraph, nothing else of theirs.
MINE_TAKEN = ["<p>First paragraph, mine.</p>", "<p>Third paragraph, theirs.</p>"]


def test_taking_mine_from_a_conflict_keeps_their_changes_that_did_not_clash(newsroom, base):
    """The conflict's resolution is the editor's text with every change of others that
    did not overlap merged in: saving it replaces only the overlapping passage."""
    base.save_changes({"body": THEIR_BODY}, 1, newsroom.editor2)
    with pytest.raises(EditConflict) as raised:
        base.save_changes({"body": MY_BODY, "title": "Talks stall in Kabul"}, 1, newsroom.editor)

    conflict = raised.value
    base.save_changes(conflict.resolution, conflict.current.version, newsroom.editor)
    stored = fresh(base)
    assert all(paragraph in stored.body for paragraph in MINE_TAKEN)
    assert stored.title == "Talks stall in Kabul"


def test_save_mine_in_place_keeps_their_changes_that_did_not_clash(app, client, newsroom, base):
    """The 409 form holds the editor's text with the rest of theirs merged in, as it says:
    pressing "Save mine" as the form came overwrites only the passage it shows."""
    other = log_in(app.test_client(), newsroom.editor2)
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{base.id}/fields/body"
    other.post(url, data={"body": THEIR_BODY, "version": "1"}, headers=HX)

    refused = client.post(url, data={"body": MY_BODY, "version": "1"}, headers=HX)
    assert refused.status_code == 409
    page = text_of(refused)
    assert all(paragraph in textarea_value(page, "body") for paragraph in MINE_TAKEN)

    data = {"body": textarea_value(page, "body"), "version": input_value(page, "version")}
    assert client.post(url, data=data, headers=HX).status_code == 200
    body = fresh(base).body
    assert all(paragraph in body for paragraph in MINE_TAKEN)


def test_the_full_forms_conflict_page_keeps_their_changes_that_did_not_clash(
    app, client, newsroom, base
):
    from test_desk import edit_page_data

    other = log_in(app.test_client(), newsroom.editor2)
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{base.id}/fields/body"
    other.post(url, data={"body": THEIR_BODY, "version": "1"}, headers=HX)
    data = edit_page_data(newsroom, base, body=MY_BODY, version="1")

    refused = client.post(f"/desk/articles/{base.id}/edit", data=data)
    assert refused.status_code == 409
    assert all(p in textarea_value(text_of(refused), "body") for p in MINE_TAKEN)


def test_save_mine_keeps_a_neighbours_change(newsroom, base):
    """A third editor's change next to the overlap is no part of it: "Save mine" keeps it."""
    by_ann = "<p>First paragraph.</p><p>Second paragraph, Ann's.</p><p>Third paragraph.</p>"
    base.save_changes({"body": by_ann}, 1, newsroom.author)
    theirs = by_ann.replace("Third paragraph.", "Third paragraph, theirs.")
    base.save_changes({"body": theirs}, 2, newsroom.editor2)
    with pytest.raises(EditConflict) as raised:
        mine = BODY.replace("Third paragraph.", "Third paragraph, mine.")
        base.save_changes({"body": mine}, 1, newsroom.editor)

    conflict = raised.value
    base.save_changes(conflict.resolution, conflict.current.version, newsroom.editor)
    body = fresh(base).body
    assert "Third paragraph, mine." in body
    assert "Second paragraph, Ann's." in body


def test_unchanged_fields_are_not_changes(newsroom, base):
    """The full form sends every field: those the editor left alone overwrite nothing."""
    base.save_changes({"lead": "Their new lead."}, 1, newsroom.editor2)
    as_sent = {"title": base.title, "lead": base.lead, "published_at": base.published_at}
    as_sent["published_at"] = as_sent["published_at"].replace(second=0)  # forms: minutes
    saved = base.save_changes(as_sent, 1, newsroom.editor)
    assert fresh(base).lead == "Their new lead."
    assert saved.version == 2  # nothing to save: no new revision
    assert Revision.select().where(Revision.article == base).count() == 2


def test_workflow_steps_and_content_saves_never_conflict(newsroom, base):
    base.take_action("unpublish", newsroom.editor2)
    saved = base.save_changes({"title": "A new title"}, 1, newsroom.editor)
    stored = fresh(saved)
    assert (stored.title, stored.state) == ("A new title", "unpublished")


def test_saving_again_from_a_conflict_replaces_only_what_it_shows(app, client, newsroom, base):
    """Through the desk, in place: 409 with both changes; then 'Save mine' from the form."""
    other = log_in(app.test_client(), newsroom.editor2)
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{base.id}/fields/title"
    other.post(url, data={"title": "Talks end in Kabul", "version": "1"}, headers=HX)

    refused = client.post(url, data={"title": "Talks stall in Kabul", "version": "1"}, headers=HX)
    assert refused.status_code == 409
    page = text_of(refused)
    assert "<ins>end </ins>" in page and "<ins>stall </ins>" in page
    assert fresh(base).title == "Talks end in Kabul"

    # A third editor changes the lead meanwhile: saving the resolved title keeps it.
    base.save_changes({"lead": "A third lead."}, 2, newsroom.author)
    resolved = client.post(url, data={"title": "Talks stall in Kabul", "version": "2"}, headers=HX)
    assert resolved.status_code == 200
    stored = fresh(base)
    assert (stored.title, stored.lead) == ("Talks stall in Kabul", "A third lead.")


def test_a_merged_save_says_whose_change_it_met(app, client, newsroom, base):
    other = log_in(app.test_client(), newsroom.editor2)
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{base.id}/fields/body"
    other.post(url, data={"body": CHANGES["body"][1], "version": "1"}, headers=HX)
    saved = client.post(url, data={"body": CHANGES["body"][0], "version": "1"}, headers=HX)
    assert saved.status_code == 200
    assert f"merged with {newsroom.editor2.display_name}’s change to the text" in text_of(saved)
    body = fresh(base).body
    assert "First paragraph, edited." in body and "Third paragraph, edited." in body


def test_the_full_form_merges_and_keeps_theirs_on_request(app, client, newsroom, base):
    """Without JavaScript: a conflict page, then 'Keep theirs' saves the rest only."""
    from test_desk import edit_page_data

    other = log_in(app.test_client(), newsroom.editor2)
    log_in(client, newsroom.editor)
    other.post(
        f"/desk/articles/{base.id}/fields/title",
        data={"title": "Talks end in Kabul", "version": "1"},
        headers=HX,
    )
    data = edit_page_data(
        newsroom,
        base,
        title="Talks stall in Kabul",
        lead="My lead.",
        published_at=base.published_at.strftime("%Y-%m-%dT%H:%M"),  # the site is on UTC
    )
    refused = client.post(f"/desk/articles/{base.id}/edit", data=data)
    assert refused.status_code == 409
    assert 'name="keep_theirs" value="title"' in text_of(refused)

    kept = client.post(
        f"/desk/articles/{base.id}/edit", data={**data, "version": "2", "keep_theirs": "title"}
    )
    assert kept.status_code == 302
    stored = fresh(base)
    assert (stored.title, stored.lead) == ("Talks end in Kabul", "My lead.")


def test_a_conflicts_resolution_holds_only_this_editors_changes(newsroom, base):
    """The full form sends every field: the resolution must not carry back the stale
    values of fields this editor left alone (another's lead saved meanwhile stays)."""
    base.save_changes({"title": "Talks end in Kabul", "lead": "Their lead."}, 1, newsroom.editor2)
    with pytest.raises(EditConflict) as raised:
        base.save_changes(
            {"title": "Talks stall in Kabul", "lead": base.lead, "body": base.body},
            1,
            newsroom.editor,
        )
    assert set(raised.value.resolution) == {"title"}
