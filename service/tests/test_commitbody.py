"""The contents-API body: blob ids as git computes them, base64 written in chunks losslessly."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest
from evn_notebook_service.commitbody import FileChange, build_body, git_blob_sha


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
