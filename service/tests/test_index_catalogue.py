"""The index's experiments (issue 15) on SQLite and PostgreSQL: search by target name and by cone,
the embargo in reads, and what the release of embargoes reads and writes.

The fixtures are test_index_store.py's: each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from evn_notebook_service.index import Index, SearchQuery, Viewer
from evn_notebook_service.index.experiments import unit_vector
from test_index_store import fresh_schema, index, nb, postgres_url, put, url, ver, walk

__all__ = ["fresh_schema", "index", "postgres_url", "url"]  # fixtures used by name

NOW = "2026-06-01T00:00:00Z"
LATER = "2027-06-01T00:00:00Z"


def observation(
    *targets: tuple[str, float | None, float | None], public_from: str = "2020-01-01T00:00:00Z"
) -> dict[str, Any]:
    return {
        "targets": [{"name": n, "ra": ra, "dec": dec} for n, ra, dec in targets],
        "public_from": public_from,
        "products": [{"did": "ivo://evn.jive/archive?X/x.IDI1", "access_url": "http://a/x.IDI1"}],
    }


def experiment(
    index: Index,
    code: str,
    *targets: tuple[str, float | None, float | None],
    public_from: str = "2020-01-01T00:00:00Z",
    owner: str = "alice",
) -> None:
    """One notebook in ``code`` (named after it, lower case) and what the catalogue says of it."""
    index.put_experiment(code, observation(*targets, public_from=public_from), public_from)
    put(index, nb(code.lower(), experiment=code, owner=owner, title=f"Notebook of {code}"))


def names(index: Index, viewer: Viewer | None = None, **query: Any) -> list[str]:
    return sorted(i["name"] for i in index.search(SearchQuery(**query), 100, None, viewer).items)


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    a, b = unit_vector(ra1, dec1), unit_vector(ra2, dec2)
    return math.degrees(math.acos(min(1.0, sum(x * y for x, y in zip(a, b, strict=True)))))


# ---- target by name


def test_target_matches_part_of_a_name_ignoring_case_and_spaces(index: Index) -> None:
    experiment(index, "EA001A", ("3C 345", 250.745, 39.810), ("J1640+3946", 250.1, 39.7))
    experiment(index, "EB002A", ("SGR A*", 266.417, -29.008))
    experiment(index, "EC003A", ("3C 84", 49.951, 41.512))
    assert names(index, target="3c345") == ["ea001a"]
    assert names(index, target="3C 34") == ["ea001a"]
    assert names(index, target=" c  8 4") == ["ec003a"]
    assert names(index, target="3c") == ["ea001a", "ec003a"]
    assert names(index, target="sgr a*") == ["eb002a"]
    assert names(index, target="j1640+39") == ["ea001a"]
    assert names(index, target="M87") == []


def test_target_wildcards_are_plain_characters(index: Index) -> None:
    experiment(index, "EA001A", ("100%_done", None, None))
    experiment(index, "EB002A", ("100x", None, None))
    experiment(index, "EC003A", ("1_0", None, None))
    assert names(index, target="%") == ["ea001a"]
    assert names(index, target="_") == ["ea001a", "ec003a"]
    assert names(index, target="100%") == ["ea001a"]
    assert names(index, target="1_") == ["ec003a"]  # '_' is no "any one character": not 100x


def test_target_combines_with_the_other_filters_and_pages(index: Index) -> None:
    for i in range(7):
        index.put_experiment(f"EA00{i}A", observation(("3C 345", 250.7, 39.8)), None)
        who = "Alice Smith" if i % 2 else "Bob Jones"
        put(
            index,
            nb(
                f"n{i}",
                experiment=f"EA00{i}A",
                authors=[{"name": who}],
                updated=f"2026-01-0{i + 1}T00:00:00Z",
            ),
        )
    put(index, nb("other", experiment="EZ999Z", authors=[{"name": "Alice Smith"}]))
    assert names(index, target="3c345", author="alice") == ["n1", "n3", "n5"]
    for sort in ("updated", "title"):
        query = SearchQuery(target="3c345", sort=sort)
        paged = walk(lambda limit, cursor, q=query: index.search(q, limit, cursor), 2)
        assert sorted(i["name"] for i in paged) == [f"n{i}" for i in range(7)]
    paged = walk(
        lambda limit, cursor: index.search(
            SearchQuery(q="calibration", target="345"), limit, cursor
        ),
        3,
    )
    assert sorted(i["name"] for i in paged) == [f"n{i}" for i in range(7)]


# ---- cone


def test_cone_finds_targets_within_the_radius_only(index: Index) -> None:
    experiment(index, "EA001A", ("3C 345", 250.745, 39.810))
    experiment(index, "EB002A", ("near RA 0", 359.95, 10.0))  # across RA 0 from the centre below
    experiment(index, "EC003A", ("near the pole", 180.0, 89.9))
    experiment(index, "ED004A", ("no position", None, None))
    assert names(index, cone=(250.745, 39.810, 0.001)) == ["ea001a"]
    assert names(index, cone=(0.05, 10.0, 0.2)) == ["eb002a"]  # 0.1 degree away, RA wraps
    assert names(index, cone=(0.05, 10.0, 0.05)) == []
    assert names(index, cone=(0.0, 89.9, 0.25)) == ["ec003a"]  # 0.2 degree over the pole
    assert names(index, cone=(0.0, 89.9, 0.15)) == []
    assert names(index, target="no position") == ["ed004a"]
    assert "ed004a" not in names(index, cone=(0.0, 0.0, 10.0))


def test_cone_edge_is_the_angular_distance(index: Index) -> None:
    experiment(index, "EA001A", ("edge", 10.0, 20.0))
    d = separation(10.0, 20.0, 11.0, 20.5)
    assert names(index, cone=(11.0, 20.5, d * 1.001)) == ["ea001a"]
    assert names(index, cone=(11.0, 20.5, d * 0.999)) == []


def test_cone_and_target_combine(index: Index) -> None:
    experiment(index, "EA001A", ("3C 345", 250.745, 39.810))
    experiment(index, "EB002A", ("J1642+3948", 250.745, 39.810))
    assert names(index, cone=(250.745, 39.810, 1.0)) == ["ea001a", "eb002a"]
    assert names(index, cone=(250.745, 39.810, 1.0), target="3c") == ["ea001a"]
    assert names(index, cone=(250.745, 39.810, 1.0), target="3c", experiment="EB002A") == []


# ---- the rows


def test_put_experiment_replaces_targets_and_keeps_released(index: Index) -> None:
    index.put_experiment("ea001a", observation(("A", 1.0, 2.0), ("B", None, None)), NOW)
    index.put_experiment("EA001A", observation(("C", 3.0, 4.0)), NOW)
    assert [t["name"] for t in index.targets_of("EA001A")] == ["C"]
    assert index.targets_of("EA001A")[0]["x"] == pytest.approx(unit_vector(3.0, 4.0)[0])
    assert index.experiment_states() == {"EA001A": (NOW, False)}
    index.mark_released("EA001A")
    index.put_experiment("EA001A", observation(("C", 3.0, 4.0)), NOW)
    assert index.experiment_states() == {"EA001A": (NOW, True)}
    index.put_experiment("EA001A", observation(), "2026-06-01T02:00:00+02:00", released=False)
    assert index.experiment_states() == {"EA001A": (NOW, False)}  # stored in UTC
    assert index.targets_of("EA001A") == []


def test_due_experiments_are_those_ended_and_not_released(index: Index) -> None:
    index.put_experiment("EA001A", observation(), "2026-05-31T23:59:59Z")
    index.put_experiment("EB002A", observation(), NOW)
    index.put_experiment("EC003A", observation(), "2026-06-01T00:00:01Z")
    index.put_experiment("ED004A", observation(), "2020-01-01T00:00:00Z", released=True)
    index.put_experiment("EE005A", observation(), None)  # no date: public, nothing to release
    assert index.due_experiments(NOW) == ["EA001A", "EB002A"]
    index.mark_released("EA001A")
    assert index.due_experiments(LATER) == ["EB002A", "EC003A"]


# ---- the embargo in reads


def _embargoed(index: Index) -> None:
    experiment(index, "EA001A", ("3C 345", 250.745, 39.810), public_from=LATER, owner="alice")
    put(index, nb("bob", experiment="EA001A", owner="bob"))
    experiment(index, "EB002A", ("3C 345", 250.745, 39.810), owner="carol")


def _everything(index: Index, viewer: Viewer) -> dict[str, Any]:
    return {
        "search": names(index, viewer, target="3c345"),
        "words": names(index, viewer, q="calibration"),
        "experiment": [i["name"] for i in index.experiment_page("EA001A", 100, None, viewer).items],
        "notebook": index.notebook_version("EA001A", "alice/ea001a", None, viewer) is not None,
        "versions": index.versions_page("EA001A", "alice/ea001a", 10, None, viewer) is not None,
        "folder": index.folder_of("EA001A", "alice", "ea001a", viewer),
    }


def test_embargoed_notebooks_are_hidden_from_all_but_their_submitter(index: Index) -> None:
    _embargoed(index)
    hidden = {"search": ["eb002a"], "words": ["eb002a"], "experiment": [],
              "notebook": False, "versions": False, "folder": None}  # fmt: skip
    assert _everything(index, Viewer(NOW)) == hidden
    assert _everything(index, Viewer(NOW, "sub-carol")) == hidden
    assert _everything(index, Viewer(NOW, "sub-alice")) == {
        "search": ["ea001a", "eb002a"], "words": ["ea001a", "eb002a"], "experiment": ["ea001a"],
        "notebook": True, "versions": True, "folder": "alice/ea001a",
    }  # fmt: skip
    assert _everything(index, Viewer(NOW, "sub-bob"))["experiment"] == ["bob"]
    shown = {"search": ["bob", "ea001a", "eb002a"], "words": ["bob", "ea001a", "eb002a"],
             "experiment": ["ea001a", "bob"], "notebook": True, "versions": True,
             "folder": "alice/ea001a"}  # fmt: skip
    assert _everything(index, Viewer(LATER)) == shown  # its date has come
    index.mark_released("EA001A")
    assert _everything(index, Viewer(NOW)) == shown  # released early (or the clock is behind)


def test_the_submitter_sees_until_when_in_their_submissions(index: Index) -> None:
    _embargoed(index)
    mine = index.owner_page("sub-alice", 10, None).items
    index.annotate(mine, Viewer(NOW, "sub-alice"))
    assert [(i["name"], i["public_from"]) for i in mine] == [("ea001a", LATER)]
    assert mine[0]["observation"] == observation(("3C 345", 250.745, 39.810), public_from=LATER)
    public = index.owner_page("sub-carol", 10, None).items
    index.annotate(public, Viewer(NOW))
    assert (
        public[0]["public_from"] is None
        and public[0]["observation"]["targets"][0]["name"] == "3C 345"
    )
    index.annotate(mine, Viewer(LATER))
    assert mine[0]["public_from"] is None


def test_a_notebook_without_a_catalogued_experiment_has_no_observation(index: Index) -> None:
    put(index, nb("plain", experiment="T1234ABCD"))
    items = index.search(SearchQuery(), 10, None).items
    index.annotate(items)
    assert [(i["name"], i["observation"], i["public_from"]) for i in items] == [
        ("plain", None, None)
    ]


def test_versions_of_a_hidden_notebook_are_hidden_too(index: Index) -> None:
    rec = nb("cal", experiment="EA001A")
    index.put_experiment("EA001A", observation(), LATER)
    index.put_version(rec, ver(rec))
    assert index.versions_page("EA001A", "alice/cal", 10, None, Viewer(NOW)) is None
    assert index.notebook_version("EA001A", "alice/cal", 1, Viewer(NOW)) is None
    assert index.notebook_version("EA001A", "alice/cal", 1, Viewer(NOW, "sub-alice")) is not None
    # the service itself (the indexer reusing what it indexed) sees everything
    assert index.notebook_version("EA001A", "alice/cal", 1) is not None
    assert [i["name"] for i in index.experiment_page("EA001A", 10, None).items] == ["cal"]
