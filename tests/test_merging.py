"""Three-way merges (merging.py): changes that do not overlap are both kept, overlapping
ones are a conflict, and nothing either editor wrote is ever dropped."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merging import blocks, merge_body, merge_text, merge_units, word_diff

# --- Properties, on lists of units --------------------------------------------------------------

units = st.lists(st.integers(0, 6), max_size=12)


@given(units, units)
def test_one_sided_changes_are_taken_whole(base, changed):
    assert merge_units(base, changed, base).units == changed
    assert merge_units(base, base, changed).units == changed
    assert merge_units(base, changed, base).clean


@given(units, units)
def test_the_same_change_on_both_sides_is_kept_once(base, changed):
    merged = merge_units(base, changed, changed)
    assert merged.clean
    assert merged.units == changed


@st.composite
def disjoint_edits(draw):
    """A base of distinct paragraphs, and two editors' edits of disjoint paragraphs: each
    edit rewrites, deletes, or adds a paragraph after its paragraph."""
    size = draw(st.integers(1, 12))
    base = [f"<p>paragraph {n}</p>" for n in range(size)]
    owner = draw(st.lists(st.sampled_from([None, "A", "B"]), min_size=size, max_size=size))
    kinds = draw(st.lists(st.sampled_from(["rewrite", "delete", "add", "rewrite+add"]),
                          min_size=size, max_size=size))
    return base, owner, kinds


def edited(base, owner, kinds, *editors):
    """`base` with the edits of `editors` made."""
    out = []
    for n, paragraph in enumerate(base):
        who = owner[n]
        kind = kinds[n] if who in editors else None
        if kind in ("rewrite", "rewrite+add"):
            out.append(f"<p>paragraph {n}, rewritten by {who}</p>")
        elif kind != "delete":
            out.append(paragraph)
        if kind in ("add", "rewrite+add"):
            out.append(f"<p>new after {n} by {who}</p>")
    return out


@given(disjoint_edits())
@settings(max_examples=300)
def test_edits_of_different_paragraphs_always_merge_to_both(case):
    base, owner, kinds = case
    mine, theirs = edited(base, owner, kinds, "A"), edited(base, owner, kinds, "B")
    merged = merge_units(base, mine, theirs)
    assert merged.clean, merged.conflicts
    assert merged.units == edited(base, owner, kinds, "A", "B")


@given(st.integers(1, 10), st.data())
def test_two_rewrites_of_the_same_paragraph_always_conflict_and_keep_both(size, data):
    base = [f"<p>paragraph {n}</p>" for n in range(size)]
    target = data.draw(st.integers(0, size - 1))
    mine, theirs = list(base), list(base)
    mine[target] = "<p>mine</p>"
    theirs[target] = "<p>theirs</p>"
    merged = merge_units(base, mine, theirs)
    [conflict] = merged.conflicts
    assert "<p>mine</p>" in conflict.mine and "<p>theirs</p>" in conflict.theirs
    assert conflict.base == [base[target]]
    assert merged.units == mine  # the editor's own text stays in place meanwhile


@given(st.integers(0, 5))
def test_two_different_insertions_at_one_place_conflict(position):
    base = [f"<p>{n}</p>" for n in range(5)]
    mine = base[:position] + ["<p>mine</p>"] + base[position:]
    theirs = base[:position] + ["<p>theirs</p>"] + base[position:]
    assert not merge_units(base, mine, theirs).clean


def test_an_insertion_inside_a_rewritten_range_conflicts():
    base = ["a", "b", "c", "d"]
    mine = ["a", "X", "d"]  # rewrote b and c as one
    theirs = ["a", "b", "new", "c", "d"]  # added between b and c
    assert not merge_units(base, mine, theirs).clean


def test_neighbouring_units_rewritten_one_for_one_are_separate_changes():
    """b and c rewritten each in place: an addition between them is no overlap."""
    merged = merge_units(["a", "b", "c", "d"], ["a", "X", "Y", "d"], ["a", "b", "new", "c", "d"])
    assert merged.clean and merged.units == ["a", "X", "new", "Y", "d"]


# --- Words: titles and leads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "merged"),
    [
        ("Talks resume in Kabul", "Talks resume in Kabul today", "Peace talks resume in Kabul",
         "Peace talks resume in Kabul today"),
        ("A lead about the talks.", "A short lead about the talks.", "A lead about the new talks.",
         "A short lead about the new talks."),
        ("Переговоры в Кабуле", "Переговоры в Кабуле возобновились", "Мирные переговоры в Кабуле",
         "Мирные переговоры в Кабуле возобновились"),
        ("Same", "Same", "Same", "Same"),
        ("", "Typed", "", "Typed"),
    ],
)
def test_word_changes_in_different_places_merge(base, mine, theirs, merged):
    result = merge_text(base, mine, theirs)
    assert result.clean
    assert result.text == merged


def test_word_changes_to_the_same_word_conflict():
    result = merge_text("Talks resume in Kabul", "Talks stall in Kabul", "Talks end in Kabul")
    [conflict] = result.conflicts
    assert "".join(conflict.mine) == "stall " and "".join(conflict.theirs) == "end "


@given(st.text(max_size=60), st.text(max_size=60))
def test_a_text_merged_with_an_unchanged_side_is_the_other_side(base, changed):
    assert merge_text(base, changed, base).text == changed
    assert merge_text(base, base, changed).text == changed


# --- Bodies: blocks of sanitized HTML -----------------------------------------------------------


def test_blocks_are_top_level_elements_and_list_items():
    body = (
        '<h2>Head</h2>\n<p>One <a href="https://e.org/?a=1&amp;b=2">link</a></p>'
        '<ul><li>a</li><li><p>b</p><ul><li>nested</li></ul></li></ul>'
        '<figure><img src="/media/x.jpg" alt="x"><figcaption>Cap</figcaption></figure>'
        "<hr><p>Last</p>"
    )
    assert blocks(body) == [
        "<h2>Head</h2>",
        '<p>One <a href="https://e.org/?a=1&amp;b=2">link</a></p>',
        "<ul>",
        "<li>a</li>",
        "<li><p>b</p><ul><li>nested</li></ul></li>",
        "</ul>",
        '<figure><img src="/media/x.jpg" alt="x"><figcaption>Cap</figcaption></figure>',
        "<hr>",
        "<p>Last</p>",
    ]


def test_bare_text_is_a_block_of_its_own():
    assert blocks("loose text<p>para</p>more") == ["loose text", "<p>para</p>", "more"]


def test_different_paragraphs_and_list_items_of_a_body_merge():
    base = "<p>One</p><p>Two</p><ol><li>a</li><li>b</li></ol>"
    mine = "<p>One, edited</p><p>Two</p><ol><li>a</li><li>b</li></ol>"
    theirs = "<p>One</p><p>Two</p><ol><li>a</li><li>b, edited</li><li>c</li></ol>"
    merged = merge_body(base, mine, theirs)
    assert merged.clean
    assert blocks(merged.text) == blocks(
        "<p>One, edited</p><p>Two</p><ol><li>a</li><li>b, edited</li><li>c</li></ol>"
    )


def test_the_same_paragraph_edited_twice_conflicts():
    merged = merge_body("<p>One</p><p>Two</p>", "<p>One!</p><p>Two</p>", "<p>One?</p><p>Two</p>")
    [conflict] = merged.conflicts
    assert conflict.mine == ["<p>One!</p>"] and conflict.theirs == ["<p>One?</p>"]


def test_word_diff_marks_insertions_and_deletions():
    assert word_diff("the quick fox", "the slow red fox") == [
        ("equal", "the "),
        ("delete", "quick "),
        ("insert", "slow red "),
        ("equal", "fox"),
    ]
    assert word_diff("", "new") == [("insert", "new")]
    assert word_diff("same", "same") == [("equal", "same")]
