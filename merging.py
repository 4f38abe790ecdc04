"""Three-way merges of two editors' changes to the same text, and word diffs to show them.

Both editors started from the same version (the base); each changed it. Changes that do
not overlap are both kept; changes that overlap are a conflict for a person to resolve.
The body is merged by blocks (paragraphs, headings, list items, figures, tables), titles
and leads by words, so that two people fixing different paragraphs, or different words
of a lead, never block each other.

How two changes are judged, each as a change of base[start:end] (an insertion has
start == end):
* two replacements overlap when their ranges share a unit;
* an insertion falls inside a replacement when it lies strictly within its range (at its
  start it comes before the replacement, at its end after it: the order is clear);
* two insertions at the same place conflict, since their order is not (unless equal).
Identical changes on both sides are no conflict: they are kept once.
"""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# A tag of sanitized HTML (nh3 writes every attribute value in double quotes).
TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*\s*/?>')
VOID = {"br", "hr", "img", "wbr"}
LISTS = {"ul", "ol"}
# A word with the spaces after it (leading spaces alone): diffs then never pair up
# two unrelated texts by their spaces.
WORD = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Change:
    start: int
    end: int
    units: tuple

    @property
    def inserts(self):
        return self.start == self.end


@dataclass
class Conflict:
    """An overlap: the base's units and what each side made of them."""

    base: list
    mine: list
    theirs: list


@dataclass
class Merge:
    units: list
    conflicts: list = field(default_factory=list)
    text: str = ""  # the units joined: set by merge_text and merge_body

    @property
    def clean(self):
        return not self.conflicts


def changes(base, other):
    """The changes that turn `base` into `other`. A replacement of as many units as it
    puts back is split unit by unit: two neighbouring paragraphs changed by two people
    (both in `other`, the article as it is now) are two changes, so that one of them
    overlapping a third person's change does not drag the other into the conflict."""
    matcher = SequenceMatcher(None, base, other, autojunk=False)
    found = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            found += [Change(i1 + k, i1 + k + 1, (other[j1 + k],)) for k in range(i2 - i1)]
        else:
            found.append(Change(i1, i2, tuple(other[j1:j2])))
    return found


def overlap(a, b):
    if a.inserts and b.inserts:
        return a.start == b.start  # equal insertions group too, and are then kept once
    if a.inserts or b.inserts:
        point, span = (a, b) if a.inserts else (b, a)
        return span.start < point.start < span.end
    return a.start < b.end and b.start < a.end


def apply(base, start, end, side_changes):
    out, position = [], start
    for change in sorted(side_changes, key=lambda c: (c.start, c.end)):
        out += base[position : change.start]
        out += change.units
        position = change.end
    return out + base[position:end]


def overlapping_groups(ours, others):
    """The changes of both sides in groups joined by overlaps: [(mine, theirs)]."""
    group_of = list(range(len(ours) + len(others)))  # union-find over all changes

    def root(n):
        while group_of[n] != n:
            group_of[n] = group_of[group_of[n]]
            n = group_of[n]
        return n

    for i, a in enumerate(ours):
        for j, b in enumerate(others):
            if overlap(a, b):
                group_of[root(len(ours) + j)] = root(i)
    groups = {}
    for n, change in enumerate([*ours, *others]):
        mine, theirs = groups.setdefault(root(n), ([], []))
        (mine if n < len(ours) else theirs).append(change)
    return list(groups.values())


def merge_units(base, mine, theirs):
    """Merge two edited versions of the list `base` (of hashable units)."""
    base, mine, theirs = list(base), list(mine), list(theirs)
    pieces, conflicts = [], []
    for mine_group, theirs_group in overlapping_groups(changes(base, mine), changes(base, theirs)):
        group = mine_group + theirs_group
        start, end = min(c.start for c in group), max(c.end for c in group)
        mine_region = apply(base, start, end, mine_group)
        theirs_region = apply(base, start, end, theirs_group)
        if mine_group and theirs_group and mine_region != theirs_region:
            conflicts.append(Conflict(base[start:end], mine_region, theirs_region))
        # A conflict keeps the editor's own text in place until a person resolves it.
        pieces.append((start, end, mine_region if mine_group else theirs_region))

    units, position = [], 0
    for start, end, region in sorted(pieces, key=lambda piece: piece[:2]):
        units += base[position:start] + region
        position = end
    return Merge(units + base[position:], conflicts)


# --- Text: titles and leads, by words -----------------------------------------------------------


def words(text):
    return WORD.findall(text or "")


def merge_text(base, mine, theirs):
    """Merge two edits of a plain text by words; Merge.text is the result."""
    merged = merge_units(words(base), words(mine), words(theirs))
    merged.text = "".join(merged.units)
    return merged


# --- HTML bodies, by blocks ---------------------------------------------------------------------


def blocks(markup):
    """Sanitized HTML as its blocks: each top-level element, and each item of a top-level
    list with the list's opening and closing tags as blocks of their own. Whitespace
    between blocks is dropped (it means nothing between block elements)."""
    markup = markup or ""
    cuts = []
    depth, in_list = 0, False
    for match in TAG.finditer(markup):
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name in VOID or match.group(0).endswith("/>"):
            if depth == 0:
                cuts += [match.start(), match.end()]
            continue
        if not closing:
            if depth == 0:
                cuts.append(match.start())
                in_list = name in LISTS
                if in_list:
                    cuts.append(match.end())
            elif depth == 1 and in_list and name == "li":
                cuts.append(match.start())
            depth += 1
        else:
            depth = max(0, depth - 1)
            if depth == 1 and in_list and name == "li":
                cuts.append(match.end())
            elif depth == 0:
                if in_list:
                    cuts.append(match.start())
                cuts.append(match.end())
                in_list = False
    bounds = sorted({0, *cuts, len(markup)})
    pieces = (markup[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False))
    return [piece for piece in pieces if piece]


def merge_body(base, mine, theirs):
    """Merge two edits of an article body by blocks; Merge.text is the result."""
    merged = merge_units(blocks(base), blocks(mine), blocks(theirs))
    merged.text = "\n".join(merged.units)
    return merged


# --- Showing changes ----------------------------------------------------------------------------


def word_diff(before, after):
    """[(op, text)] turning `before` into `after` word by word: op is "equal", "delete"
    or "insert", for marking deletions and insertions (<del>, <ins>)."""
    old, new = words(before), words(after)
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("delete", "".join(old[i1:i2])))
        if j2 > j1:
            parts.append(("insert", "".join(new[j1:j2])))
    return parts
