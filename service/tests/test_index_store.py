"""The archive index (``evn_notebook_service.index``) against SQLite and PostgreSQL.

Every test runs on both: SQLite in a temporary file, PostgreSQL in a fresh schema of the database
named by ``EVN_POSTGRES_TEST_URL`` (from the environment, or from ``python3 -m devstack env`` when
the stack runs with ``EVN_DEVSTACK_POSTGRES=1``). Without one the PostgreSQL half is skipped
locally and fails in CI (``CI=true``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from evn_notebook_service.index import (
    LEGACY_OWNER,
    BadCursor,
    Index,
    NotebookRecord,
    SearchQuery,
    VersionRecord,
    store,
)
from evn_notebook_service.index.fulltext import fts5_query
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devstack.testing import env_lines

REPO = Path(__file__).resolve().parents[2]


def _postgres_url() -> str | None:
    url = os.environ.get("EVN_POSTGRES_TEST_URL")
    if url:
        return url
    env = subprocess.run(
        [sys.executable, "-m", "devstack", "env"], cwd=REPO, capture_output=True, text=True
    )
    return env_lines(env.stdout).get("EVN_POSTGRES_TEST_URL")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = _postgres_url()
    if not url:
        message = (
            "no PostgreSQL: set EVN_POSTGRES_TEST_URL or run EVN_DEVSTACK_POSTGRES=1 devstack up"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema (dropped afterwards)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return str(request.getfixturevalue("fresh_schema"))


@pytest.fixture
def index(url: str) -> Iterator[Index]:
    idx = Index(url)
    idx.migrate()
    yield idx
    idx.dispose()


def nb(
    name: str,
    *,
    experiment: str = "EG078B",
    owner: str = "alice",
    version: int = 1,
    updated: str = "2026-01-01T00:00:00Z",
    title: str | None = None,
    description: str = "A calibration notebook.",
    authors: list[dict[str, Any]] | None = None,
    keywords: list[str] | None = None,
    license: str = "CC-BY-4.0",
    body: str = "import casatasks",
    legacy: bool = False,
) -> NotebookRecord:
    folder = f"{owner}/{name}"
    return NotebookRecord(
        experiment=experiment,
        owner=owner,
        name=name,
        folder=folder,
        notebook_path=f"{folder}/{name}.ipynb",
        title=title or f"Notebook {name}",
        description=description,
        authors=authors if authors is not None else [{"name": "Alice Smith"}],
        license=license,
        keywords=keywords if keywords is not None else ["vlbi"],
        version=version,
        commit=f"c-{name}-{version}",
        updated=updated,
        owner_sub=None if legacy else f"sub-{owner}",
        legacy=legacy,
        text=body,
    )


def ver(rec: NotebookRecord, version: int | None = None, **meta: Any) -> VersionRecord:
    v = version or rec.version
    return VersionRecord(
        version=v,
        commit=f"c-{rec.name}-{v}",
        date=f"2026-01-{v:02d}T00:00:00Z",
        message=f"version {v}",
        metadata={"title": rec.title, **meta},
        provenance={"kernel": "python3"} if v % 2 else None,
    )


def put(index: Index, rec: NotebookRecord) -> None:
    index.put_version(rec, ver(rec))


def walk(read: Any, limit: int) -> list[dict[str, Any]]:
    """Every item of a paged listing, following the cursors; checks the last page's cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = read(limit, cursor)
        assert len(page.items) <= limit
        items += page.items
        if page.next_cursor is None:
            return items
        assert page.items, "a page with a next cursor is not empty"
        cursor = page.next_cursor
    raise AssertionError("the cursors never ended")


# ---- life cycle


def test_migrate_twice_is_harmless(index: Index) -> None:
    put(index, nb("a"))
    index.migrate()
    assert index.counts() == {"notebooks": 1, "versions": 1, "repositories": 0}


def test_replicas_migrate_and_write_at_the_same_time(url: str) -> None:
    replicas = [Index(url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda idx: idx.migrate(), replicas))

            def write(i: int) -> None:
                for n in range(10):
                    rec = nb(f"r{i}-{n}", experiment=f"EK00{n % 3}")
                    replicas[i].put_version(rec, ver(rec))
                    replicas[i].try_lease("reconcile", f"r{i}", 60)

            list(pool.map(write, range(3)))
        assert replicas[0].counts() == {"notebooks": 30, "versions": 30, "repositories": 0}
    finally:
        for idx in replicas:
            idx.dispose()


def test_a_deleted_sqlite_file_is_missing_and_can_be_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = Index(f"sqlite:///{path}")
    index.migrate()
    put(index, nb("a"))
    assert not index.missing()
    path.unlink()
    assert index.missing()
    index.dispose()
    index.migrate()
    assert not index.missing()
    assert index.counts()["notebooks"] == 0
    put(index, nb("b"))
    assert [i["name"] for i in index.experiment_page("EG078B", 10, None).items] == ["b"]
    index.dispose()


def test_an_index_in_use_is_not_missing(index: Index) -> None:
    assert index.missing() is False


# ---- writes and the item shapes


def test_put_version_then_read_every_way(index: Index) -> None:
    rec = nb("cal", authors=[{"name": "Alice Smith", "orcid": "0000-0002-1825-0097"}])
    index.put_version(rec, ver(rec))
    item = index.experiment_page("eg078b", 10, None).items[0]
    assert item == {
        "experiment": "EG078B",
        "owner": "alice",
        "name": "cal",
        "folder": "alice/cal",
        "title": "Notebook cal",
        "description": "A calibration notebook.",
        "authors": [{"name": "Alice Smith", "orcid": "0000-0002-1825-0097"}],
        "license": "CC-BY-4.0",
        "keywords": ["vlbi"],
        "version": 1,
        "commit": "c-cal-1",
        "updated": "2026-01-01T00:00:00Z",
        "notebook_path": "alice/cal/cal.ipynb",
        "legacy": False,
    }
    assert index.owner_page("sub-alice", 10, None).items == [item]
    assert index.experiment_known("EG078B") and not index.experiment_known("EG999")
    found = index.notebook_version("EG078B", "alice/cal", None)
    assert found is not None
    assert found[0] == item
    assert found[1] == {
        "version": 1,
        "commit": "c-cal-1",
        "date": "2026-01-01T00:00:00Z",
        "message": "version 1",
        "notebook_path": "alice/cal/cal.ipynb",
        "metadata": {"title": "Notebook cal"},
        "provenance": {"kernel": "python3"},
    }
    assert index.notebook_version("EG078B", "alice/cal", 2) is None
    assert index.notebook_version("EG078B", "alice/nope", None) is None
    assert index.versions_page("EG078B", "alice/nope", 10, None) is None


def test_put_version_is_idempotent_and_never_goes_back(index: Index) -> None:
    v1, v2 = nb("a", version=1), nb("a", version=2, updated="2026-02-01T10:00:00+01:00")
    index.put_version(v1, ver(v1))
    index.put_version(v1, ver(v1))
    assert index.counts()["versions"] == 1
    index.put_version(v2, ver(v2))
    index.put_version(v2, ver(v2))
    index.put_version(v1, ver(v1))  # a late write-through of an older version
    assert index.counts() == {"notebooks": 1, "versions": 2, "repositories": 0}
    item = index.experiment_page("EG078B", 10, None).items[0]
    assert (item["version"], item["commit"]) == (2, "c-a-2")
    assert item["updated"] == "2026-02-01T09:00:00Z"  # stored in UTC
    found = index.notebook_version("EG078B", "alice/a", None)
    assert found is not None and found[1]["version"] == 2 and found[1]["provenance"] is None
    found = index.notebook_version("EG078B", "alice/a", 1)
    assert found is not None and found[1]["commit"] == "c-a-1"


def test_replace_repo_replaces_exactly_that_repository(index: Index) -> None:
    for rec in (nb("one"), nb("two"), nb("other", experiment="EK001")):
        put(index, rec)
    two = nb("two", version=3, title="Two, reindexed")
    index.replace_repo(
        "EG078B",
        [(two, [ver(two, 1), ver(two, 2), ver(two, 3)]), (nb("new"), [ver(nb("new"))])],
        head="h1",
        gitea_updated="2026-03-01T00:00:00Z",
    )
    items = index.experiment_page("EG078B", 10, None).items
    assert [(i["name"], i["title"], i["version"]) for i in items] == [
        ("new", "Notebook new", 1),
        ("two", "Two, reindexed", 3),
    ]
    assert [i["name"] for i in index.experiment_page("EK001", 10, None).items] == ["other"]
    assert index.counts() == {"notebooks": 3, "versions": 5, "repositories": 1}
    assert index.repo_marks() == {"EG078B": ("h1", "2026-03-01T00:00:00Z")}
    assert index.search(SearchQuery(q="one"), 10, None).items == []  # gone from full text too
    index.replace_repo("EG078B", [], head="h2", gitea_updated="2026-03-02T00:00:00Z")
    assert not index.experiment_known("EG078B")
    assert index.repo_marks() == {"EG078B": ("h2", "2026-03-02T00:00:00Z")}
    assert index.counts() == {"notebooks": 1, "versions": 1, "repositories": 1}


def test_clear_forgets_everything_but_leases(index: Index) -> None:
    put(index, nb("a"))
    index.replace_repo("EK001", [(nb("b", experiment="EK001"), [])], "h", "u")
    assert index.try_lease("reconcile", "r1", 60)
    index.clear()
    assert index.counts() == {"notebooks": 0, "versions": 0, "repositories": 0}
    assert index.repo_marks() == {}
    assert index.search(SearchQuery(q="calibration"), 10, None).items == []
    assert not index.try_lease("reconcile", "r2", 60)


def test_legacy_rows(index: Index) -> None:
    legacy = nb("old-reduction", owner=LEGACY_OWNER, license="", legacy=True, authors=[])
    legacy.folder, legacy.notebook_path = "Old reduction.ipynb", "Old reduction.ipynb"
    put(index, legacy)
    put(index, nb("cal"))
    items = index.experiment_page("EG078B", 10, None).items
    assert [(i["owner"], i["legacy"]) for i in items] == [("_legacy", True), ("alice", False)]
    assert items[0]["folder"] == items[0]["notebook_path"] == "Old reduction.ipynb"
    assert [i["name"] for i in index.owner_page("sub-alice", 10, None).items] == ["cal"]
    found = index.notebook_version("EG078B", "Old reduction.ipynb", 1)
    assert found is not None and found[0]["legacy"] is True and found[0]["license"] == ""


# ---- paging


def test_experiment_owner_and_version_pages_walk_everything(index: Index) -> None:
    recs = [
        nb(f"n{i:02d}", owner=("bob", "alice", "carol")[i % 3], updated=f"2026-01-{i % 5 + 1:02d}")
        for i in range(23)
    ]
    for rec in recs:
        put(index, rec)
    put(index, nb("elsewhere", experiment="EK001", owner="dave"))
    want = sorted((r.owner, r.name) for r in recs)
    for limit in (1, 5, 23, 100):
        items = walk(lambda n, c: index.experiment_page("EG078B", n, c), limit)
        assert [(i["owner"], i["name"]) for i in items] == want
    mine = walk(lambda n, c: index.owner_page("sub-alice", n, c), 2)
    alice = [r for r in recs if r.owner == "alice"]
    assert sorted(i["name"] for i in mine) == sorted(r.name for r in alice)
    assert [i["updated"] for i in mine] == sorted((i["updated"] for i in mine), reverse=True)
    page = index.experiment_page("EG078B", 23, None)
    assert page.next_cursor is None and len(page.items) == 23
    many = nb("many", version=7)
    for v in range(1, 8):
        index.put_version(many, ver(many, v))
    got = walk(lambda n, c: index.versions_page("EG078B", "alice/many", n, c), 3)
    assert [v["version"] for v in got] == [7, 6, 5, 4, 3, 2, 1]
    assert got[0] == {
        "version": 7,
        "commit": "c-many-7",
        "date": "2026-01-07T00:00:00Z",
        "message": "version 7",
        "notebook_path": "alice/many/many.ipynb",
    }


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "bm90IGpzb24", "WyJleHBlcmltZW50Il0", "WyJvd25lciIsIngiLDFd", "e30"]
)
def test_bad_cursors_are_refused(index: Index, cursor: str) -> None:
    put(index, nb("a"))
    owner_cursor = "WyJvd25lciIsIngiLDFd"  # ["owner","x",1]: right for owner_page only
    assert [i["name"] for i in index.owner_page("sub-alice", 10, owner_cursor).items] == ["a"]
    with pytest.raises(BadCursor):
        index.experiment_page("EG078B", 10, cursor)
    with pytest.raises(ValueError):  # BadCursor is a ValueError: the handlers answer 400
        index.versions_page("EG078B", "alice/a", 10, cursor)
    with pytest.raises(BadCursor):
        index.search(SearchQuery(q="calibration"), 10, cursor)


def test_limits_outside_1_to_100_are_refused(index: Index) -> None:
    for limit in (0, 101):
        with pytest.raises(ValueError):
            index.experiment_page("EG078B", limit, None)


# ---- search


def seed_search(index: Index) -> None:
    put(
        index,
        nb(
            "title",
            title="Fringe fitting of EG078B",
            body="plotms",
            updated="2026-01-03",
            authors=[{"name": "Alice Smith", "orcid": "0000-0002-1694-233X"}],
        ),
    )
    put(
        index,
        nb("body", title="Imaging", body="later we do fringe fitting here", updated="2026-02-01"),
    )
    put(
        index,
        nb(
            "html",
            owner="bob",
            experiment="EK001",
            title="Polarisation",
            description="A <b>bold</b> claim",
            body='x = "<script>alert(1)</script>" # fringe & friends',
            authors=[{"name": "Bob Jones", "orcid": "0000-0001-5109-3700"}],
            keywords=["Polarisation", "leakage"],
            license="CC0-1.0",
            updated="2026-03-01T12:00:00Z",
        ),
    )


def test_search_ranks_and_marks_matches(index: Index) -> None:
    seed_search(index)
    hits = index.search(SearchQuery(q="fringe fitting"), 10, None).items
    assert [h["name"] for h in hits] == ["title", "body"]  # a title match ranks first
    assert hits[0]["rank"] > hits[1]["rank"]
    assert "<mark>fringe</mark>" in hits[1]["snippet"].lower()
    assert "<mark>" in hits[0]["snippet"]


def test_snippets_are_escaped_html(index: Index) -> None:
    seed_search(index)
    (hit,) = index.search(SearchQuery(q="friends"), 10, None).items
    snippet = hit["snippet"]
    assert "<mark>friends</mark>" in snippet
    assert "<script>" not in snippet and "&amp;" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    (hit,) = index.search(SearchQuery(author="bob"), 10, None).items  # no q: the description
    assert hit["snippet"] == "A &lt;b&gt;bold&lt;/b&gt; claim" and hit["rank"] == 0


def test_search_filters(index: Index) -> None:
    seed_search(index)

    def names(**kw: Any) -> list[str]:
        return sorted(h["name"] for h in index.search(SearchQuery(**kw), 100, None).items)

    assert names() == ["body", "html", "title"]
    assert names(experiment="ek001") == ["html"]
    assert names(author="ALICE SM") == ["body", "title"]
    assert names(author="smith jones") == []  # a substring of one name, not across names
    assert names(orcid="0000-0001-5109-3700") == ["html"]
    assert names(orcid="0000-0001") == []
    assert names(orcid="0000-0002-1694-233x") == names(orcid="0000-0002-1694-233X") == ["title"]
    assert names(keyword="polarisation") == ["html"]
    assert names(keyword="polar") == []
    assert names(license="CC0-1.0") == ["html"]
    assert names(since="2026-02-01") == ["body", "html"]
    assert names(until="2026-02-01") == ["body", "title"]
    assert names(since="2026-01-02", until="2026-01-31T23:00:00Z") == ["title"]
    assert names(q="fringe", experiment="EG078B", author="alice") == ["body", "title"]
    assert names(q="fringe -plotms") == ["body", "html"]
    assert names(q="imaging or polarisation") == ["body", "html"]
    assert names(q='"fitting here"') == ["body"]
    assert names(q="100%_") == []


@pytest.mark.parametrize("q", ['"unterminated', "a:b OR (", "NOT", "-", "*", "' OR 1=1 --", "or"])
def test_search_syntax_never_fails(index: Index, q: str) -> None:
    seed_search(index)
    index.search(SearchQuery(q=q), 10, None)


def test_search_orders_and_pages(index: Index) -> None:
    for i in range(12):
        put(
            index,
            nb(f"n{i:02d}", title=f"T{(i * 7) % 12:02d} fringe", updated=f"2026-01-{i + 1:02d}"),
        )
    for sort, key, reverse in (("updated", "updated", True), ("title", "title", False)):
        every = walk(lambda n, c, s=sort: index.search(SearchQuery(sort=s), n, c), 5)
        assert [h[key] for h in every] == sorted((h[key] for h in every), reverse=reverse)
        assert len({h["name"] for h in every}) == 12
    every = walk(lambda n, c: index.search(SearchQuery(q="fringe"), n, c), 5)
    assert len({h["name"] for h in every}) == 12
    ranks = [h["rank"] for h in every]
    assert ranks == sorted(ranks, reverse=True)
    with pytest.raises(BadCursor):  # an offset cursor is not a keyset cursor
        first = index.search(SearchQuery(q="fringe"), 5, None)
        assert first.next_cursor is not None
        index.search(SearchQuery(sort="updated"), 5, first.next_cursor)
    with pytest.raises(ValueError):
        index.search(SearchQuery(sort="stars"), 5, None)


def test_relevance_ranks_the_latest_matches_when_too_many_match(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "RANK_WINDOW", 3)
    put(index, nb("oldest", title="fringe fringe fringe"))  # the best match, indexed first
    for i in range(4):
        put(index, nb(f"n{i}", body=f"fringe {i}"))
    hits = walk(lambda n, c: index.search(SearchQuery(q="fringe"), n, c), 2)
    assert sorted(h["name"] for h in hits) == ["n1", "n2", "n3"]
    by_title = index.search(SearchQuery(q="fringe", sort="title"), 10, None).items
    assert len(by_title) == 5  # only relevance is windowed


def test_fts5_query_quotes_every_term() -> None:
    assert fts5_query('fringe "phase cal" -plotms or imaging') == (
        '(("fringe") AND ("phase cal" OR "imaging")) NOT "plotms"'
    )
    assert fts5_query("a:b (c") == '("a b") AND ("c")'


# ---- the lease


def test_only_one_holder_gets_the_lease(index: Index, url: str) -> None:
    other = Index(url)  # another replica
    try:
        assert index.try_lease("reconcile", "r1", 60)
        assert not other.try_lease("reconcile", "r2", 60)
        assert index.try_lease("reconcile", "r1", 60)  # renewal
        other.release_lease("reconcile", "r2")  # not the holder: no effect
        assert not other.try_lease("reconcile", "r2", 60)
        index.release_lease("reconcile", "r1")
        assert other.try_lease("reconcile", "r2", 0.3)
        assert not index.try_lease("reconcile", "r1", 60)
        assert index.try_lease("rebuild", "r1", 60)  # leases are per name
        time.sleep(0.5)  # r2's lease expires
        assert index.try_lease("reconcile", "r1", 60)
        assert not other.try_lease("reconcile", "r2", 60)
    finally:
        other.dispose()
