"""Durability under load: short versions of bench/mixed.py (the long ones run in `make bench`).

Each test serves a copy of a small demo database with a real gunicorn (the repository's
gunicorn.conf.py, 2 workers, a free port of 127.0.0.1), while 2 editors (real logins,
CSRF, the editor's own save request) save articles in a loop and reader threads fetch public
pages, for a few seconds. Then: no 5xx, no "database is locked", and every save that was
answered with success is in the database with its revision. The same with a worker killed
(SIGKILL) in the middle; and a backup taken during the load that passes integrity_check and,
restored into a fresh file, gives a site that serves. And 4 editors editing the title, lead
and body of the same two articles from stale versions: every acknowledged save in place,
every merge holding both changes, no 409 that changed anything, nothing overwritten.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import sqlite_only

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "bench"))

import common  # noqa: E402  (bench/common.py)
import mixed  # noqa: E402  (bench/mixed.py)

# bench/mixed.py copies, reads and backs up SQLite files; PostgreSQL's own durability
# (WAL, fsync) is the server's, and its backups are pg_dump's.
pytestmark = sqlite_only("the durability runs serve, copy and back up SQLite files")

LOAD_SECONDS = 3
EDITORS = 2
READERS = 3
MERGE_SECONDS = 10
MERGE_EDITORS = 4
MERGE_ARTICLES = 2

# One process for all the set-up: every `flask` command costs an interpreter start.
SEED_SCRIPT = """
import sys
from app import create_app
runner = create_app().test_cli_runner()
commands = [["init-db"], ["seed-demo", "--articles", "30"]]
commands += [["create-user", email, "--role", "editor", "--password", sys.argv[1]]
             for email in sys.argv[2:]]
for args in commands:
    result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit(f"{args}: {result.output}{result.exception!r}")
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A small demo database with editors: (path, their emails)."""
    path = tmp_path_factory.mktemp("durability") / "seed.db"
    emails = [f"durability-{i + 1}@example.org" for i in range(max(EDITORS, MERGE_EDITORS))]
    subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, mixed.EDITOR_PASSWORD, *emails],
        cwd=common.REPO,
        env=common.app_env(path),
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return path, emails


@pytest.fixture
def site(seeded, tmp_path):
    """A fresh copy of the seeded database for one test: (path, emails, articles, paths)."""
    source, emails = seeded
    path = tmp_path / "site.db"
    common.copy_database(source, path)
    articles = mixed.pick_articles(path, EDITORS + 1 + MERGE_ARTICLES)
    return path, emails, articles, mixed.reader_paths(path, articles)


def run(site, tmp_path, **spec):
    path, emails, articles, paths = site
    # The merge phase edits articles of its own, the others one each and one shared.
    edited = articles[EDITORS + 1 :] if spec.get("merge") else articles[: EDITORS + 1]
    spec = mixed.PhaseSpec(
        spec.pop("name", "test"),
        spec.pop("duration", LOAD_SECONDS),
        editors=spec.pop("editors", EDITORS),
        readers=READERS,
        reader_kind="python",
        **spec,
    )
    return mixed.run_phase(spec, path, emails, edited, tmp_path / "gunicorn.log", tmp_path, paths)


def assert_nothing_lost(findings):
    saves, verify, log = findings["saves"], findings["verify"], findings["log"]
    assert not findings["editor_errors"], findings["editor_errors"]
    assert saves["acknowledged"] > 0, "no save was acknowledged: the editors did not run"
    assert findings["readers"]["requests"] > 0
    assert saves["server_errors"] == 0 and findings["readers"]["status_5xx"] == 0
    assert log["logged_5xx"] == 0, "5xx in gunicorn's access log"
    assert log["database_locked"] == 0, '"database is locked" in gunicorn\'s log'
    assert not saves["other"], saves["other"]
    assert verify["checked"] == saves["acknowledged"]
    # verify_acks: missing, wrong, articles_behind; verify_merges: see mixed.MERGE_FAILURES
    assert not mixed.failures(verify), mixed.failures(verify)
    assert findings["integrity"] == ["ok"]
    assert findings["serving_after"] == [200, 200]
    assert findings["workers_after"] == common.WORKERS


def test_editors_and_readers_at_once_lose_nothing(site, tmp_path):
    findings = run(site, tmp_path)

    assert_nothing_lost(findings)
    assert findings["ok"]


def test_a_worker_killed_mid_run_loses_no_acknowledged_save(site, tmp_path):
    findings = run(site, tmp_path, name="kill -9", kill_every=1.5, kill_wait=0.5)

    assert len(findings["kills"]) >= 1
    assert findings["log"]["sigkilled_workers"] >= 1, "gunicorn did not notice the kill"
    assert_nothing_lost(findings)  # integrity_check ok, still serving with both workers


def test_backup_under_load_is_sound_and_restores_to_a_working_site(site, tmp_path):
    backup = tmp_path / "backup.db"
    findings = run(
        site, tmp_path, name="backup", backup_at=1.0, backup_path=backup, serve_backup=False
    )
    assert_nothing_lost(findings)
    record = findings["backup"]
    assert record["ok"], record.get("output")
    assert record["integrity"] == ["ok"]
    assert not record["missing_from_backup"]

    restored = tmp_path / "restored.db"
    common.flask(["restore", str(backup), "--yes"], restored, timeout=60, capture=True)
    assert common.integrity_check(restored) == ["ok"]
    before = [mixed.Ack(**a) for a in findings["acks"] if a["at"] < record["started"]]
    verify = mixed.verify_acks(restored, before)
    assert not verify["missing"] and not verify["wrong"]
    article_id, slug = common.visible_articles(restored, 1)[0]
    statuses = mixed.serves_site(
        restored, tmp_path / "restored.log", f"/articles/{article_id}/{slug}"
    )
    assert statuses == (200, 200)


def test_editors_saving_the_same_articles_merge_and_overwrite_nothing(site, tmp_path):
    # Slots spaced: a conflict next to another editor's change still puts that change
    # back (test_merges.py: test_save_mine_keeps_a_neighbours_change, xfail).
    findings = run(
        site,
        tmp_path,
        name="merge",
        duration=MERGE_SECONDS,
        editors=MERGE_EDITORS,
        merge=True,
        spaced_slots=True,
    )

    assert_nothing_lost(findings)  # no 5xx, no "database is locked", integrity_check ok
    verify, saves = findings["verify"], findings["saves"]
    assert verify["merged"] > 0, "no save met another's: the run proved nothing"
    assert verify["merges_held"] == verify["merged"] == saves["merged"]
    assert saves["conflicts"] == verify["conflicts_checked"] > 0
    assert verify["resolved"] == saves["resolved"] > 0
    assert findings["ok"]
