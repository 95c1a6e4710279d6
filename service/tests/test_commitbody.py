"""The contents-API body: blob ids as git computes them; the streamed body is, byte for byte, the
body the service built whole before, in slices of at most 1 MiB, and can be sent again."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
from collections.abc import Iterator

import pytest
from evn_notebook_service import commitbody
from evn_notebook_service.commitbody import SLICE, CommitBody, FileChange, build_body, git_blob_sha
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize("data", [b"", b"hello\n", os.urandom(100_003)])
def test_blob_sha_matches_git(data: bytes, tmp_path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_blob_sha(data) == expected


def test_body_round_trips_every_file() -> None:
    big = os.urandom(3 * 256 * 1024 * 2 + 7)  # crosses chunk boundaries, ends unaligned
    files = [
        FileChange("create", "a/b.ipynb", big),
        FileChange("update", "a/ro-crate-metadata.json", b'{"x": "\\u00e9"}', "ab" * 20),
        FileChange("delete", "a/provenance.json", sha="cd" * 20),
    ]
    body = build_body(
        branch="main",
        message='quote " and \u00e9',
        author={"name": "Ré", "email": "r@x"},
        committer={"name": "svc", "email": "s@x"},
        files=files,
    )
    data = json.loads(bytes(body))
    assert data["branch"] == "main" and data["message"] == 'quote " and \u00e9'
    assert data["author"] == {"name": "Ré", "email": "r@x"}
    assert base64.b64decode(data["files"][0]["content"]) == big
    assert data["files"][1]["sha"] == "ab" * 20
    assert data["files"][2] == {
        "operation": "delete",
        "path": "a/provenance.json",
        "sha": "cd" * 20,
    }


def _old_build_body(*, branch, message, author, committer, files) -> bytes:
    """The body as the service built it before streaming: one buffer, base64 in 768 KiB steps."""
    out = bytearray()
    head = {"branch": branch, "message": message, "author": author, "committer": committer}
    out += json.dumps(head)[:-1].encode() + b', "files": ['
    for i, change in enumerate(files):
        if i:
            out += b", "
        meta = {"operation": change.operation, "path": change.path}
        if change.sha:
            meta["sha"] = change.sha
        out += json.dumps(meta)[:-1].encode()
        if change.content is not None:
            out += b', "content": "' + base64.b64encode(change.content) + b'"'
        out += b"}"
    out += b"]}"
    return bytes(out)


# sizes around SLICE in base64 (768 KiB of input fills 1 MiB exactly) and around a 3-byte group
EDGE_SIZES = [0, 1, 2, 3, 4, SLICE // 4 * 3 - 1, SLICE // 4 * 3, SLICE // 4 * 3 + 1,
              SLICE // 4 * 3 * 2 + 2, SLICE - 7, SLICE + 5]  # fmt: skip


def _args(files: list[FileChange], message: str = "m") -> dict:
    return {"branch": "main", "message": message, "author": {"name": "Ré", "email": "r@x"},
            "committer": {"name": "svc", "email": "s@x"}, "files": files}  # fmt: skip


@contextlib.contextmanager
def _slice(size: int) -> Iterator[None]:
    saved = commitbody.SLICE
    commitbody.SLICE = size
    try:
        yield
    finally:
        commitbody.SLICE = saved


def _check(body: CommitBody, expected: bytes) -> None:
    chunks = list(body.chunks())
    assert b"".join(chunks) == expected
    assert body.length == len(expected) == len(body)
    assert all(0 < len(c) <= SLICE for c in chunks)
    assert all(type(c) is bytes for c in chunks)
    assert b"".join(body.chunks()) == expected  # again: a retry re-sends the same body
    assert bytes(body) == body.tobytes() == expected


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_streamed_body_equals_the_old_one_around_slice_boundaries(size: int) -> None:
    files = [
        FileChange("create", "a/.evn/record.json", b'{"k": 1}'),
        FileChange("update", "a/b.ipynb", os.urandom(size), "ab" * 20),
        FileChange("create", "a/empty", b""),
        FileChange("delete", "a/gone", sha="cd" * 20),
        FileChange("create", "a/tail.bin", os.urandom(size // 3 + 1)),
    ]
    _check(build_body(**_args(files)), _old_build_body(**_args(files)))


def test_a_long_message_is_sliced_too() -> None:
    files = [FileChange("create", "x", os.urandom(10))]
    args = _args(files, message="é" * (SLICE // 2 + 11))  # escaped: about 3 MiB of JSON text
    _check(build_body(**args), _old_build_body(**args))


def test_full_slices_are_the_encoded_bytes_themselves() -> None:
    """Every chunk but the last is full, to within one base64 quantum (few, large writes)."""
    body = build_body(**_args([FileChange("create", "x", os.urandom(5 * SLICE))]))
    sizes = [len(c) for c in body.chunks()]
    assert all(SLICE - 3 <= s <= SLICE for s in sizes[:-1])
    assert len(sizes) == -(-body.length // SLICE)


@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(st.binary(max_size=3000) | st.none(), min_size=0, max_size=5),
    message=st.text(max_size=50),
    slice_size=st.sampled_from([4, 8, 12, 64, 1024]),
)
def test_streamed_body_equals_the_old_one(
    contents: list[bytes | None], message: str, slice_size: int
) -> None:
    files = [
        FileChange("delete" if c is None else "create", f"d/{i}", c, None if c else "ef" * 20)
        for i, c in enumerate(contents)
    ]
    body = build_body(**_args(files, message))
    expected = _old_build_body(**_args(files, message))
    with _slice(slice_size):  # small slices: every boundary case with small inputs
        chunks = list(body.chunks())
    assert b"".join(chunks) == expected and body.length == len(expected)
    assert all(0 < len(c) <= slice_size for c in chunks)
