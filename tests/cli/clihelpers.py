"""Helpers of the command-line tests: run ``jupyter evn-submit`` as a pipeline would, approve a
device login on Keycloak's own pages, execute notebooks headless, look into Gitea."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import string
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import nbformat
import requests
from nbclient import NotebookClient
from stackhelpers import approve_device

JUPYTER = str(Path(sys.executable).parent / "jupyter")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}")


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout: {self.out[-2000:]}\nstderr: {self.err[-2000:]}>"


def run_cli(
    env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 120
) -> Result:
    """``jupyter evn-submit ARGS`` in a subprocess; no output may ever hold a token."""
    proc = subprocess.run(
        [JUPYTER, "evn-submit", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    result = Result(proc)
    assert not JWT.search(result.out + result.err), result
    return result


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def experiment_code() -> str:
    """A fresh experiment code (its repository does not exist yet)."""
    tail = "".join(random.choices(string.ascii_uppercase + string.digits, k=4))
    return f"CLI{random.randint(1000, 9999)}{tail}"


# --- device login ---------------------------------------------------------------------------


def device_login(env: dict[str, str], user: str, password: str, *extra: str) -> Result:
    """Run ``jupyter evn-submit login``, read the URL it prints, approve it over HTTP, and
    wait for the command to finish."""
    proc = subprocess.Popen(
        [JUPYTER, "evn-submit", "login", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    url = None
    for line in proc.stderr:
        seen.append(line)
        m = re.search(r"(http\S+)", line)
        if m:
            url = m.group(1)
            break
    assert url, "".join(seen)
    rest: list[str] = []
    reader = threading.Thread(target=lambda: rest.extend(proc.stderr or []), daemon=True)
    reader.start()
    approve_device(url, user, password)
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=5)
    result = Result(
        subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen + rest))
    )
    assert not JWT.search(result.out + result.err), result
    return result


# --- notebooks ------------------------------------------------------------------------------


def execute(nb: Any, cwd: Path) -> Any:
    """Run every cell headless in a fresh python3 kernel (as a pipeline would)."""
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def small_notebook(marker: str) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# Fringe check {marker}"))
    nb.cells.append(nbformat.v4.new_code_cell("import random\nrng = random.Random(7)"))
    nb.cells.append(nbformat.v4.new_code_cell(f"print('{marker}', round(rng.random(), 6))"))
    return nb


def text_outputs(nb: Any) -> list[list[str]]:
    """The deterministic part of every code cell's outputs: stream text and text/plain."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for o in cell.outputs:
            if o.output_type == "stream":
                texts.append(f"{o.name}:{o.text}")
            elif o.output_type in ("execute_result", "display_data"):
                texts.append(str(o.data.get("text/plain", "")))
            elif o.output_type == "error":
                texts.append(f"error:{o.ename}:{o.evalue}")
        out.append(texts)
    return out


# --- Gitea ----------------------------------------------------------------------------------


def gitea_get(stack: dict[str, str], api_path: str, **params: Any) -> requests.Response:
    return requests.get(
        stack["EVN_GITEA_URL"] + "/api/v1" + api_path,
        headers={"Authorization": f"token {stack['EVN_GITEA_ADMIN_TOKEN']}"},
        params=params,
        timeout=30,
    )


def folder_commits(stack: dict[str, str], code: str, folder: str) -> list[dict[str, Any]]:
    r = gitea_get(stack, f"/repos/{stack['EVN_GITEA_ORG']}/{code}/commits", path=folder, limit=50)
    if r.status_code in (404, 409):  # no repository / an empty one
        return []
    r.raise_for_status()
    return list(r.json())


def gitea_raw(stack: dict[str, str], code: str, path: str) -> requests.Response:
    return gitea_get(
        stack, f"/repos/{stack['EVN_GITEA_ORG']}/{code}/raw/{urllib.parse.quote(path)}"
    )


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment without anyone's EVN_ settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVN_", "JUPYTER_"))}
    env.update(overrides)
    return env


def delete_repo(stack: dict[str, str], code: str) -> None:
    requests.delete(
        f"{stack['EVN_GITEA_URL']}/api/v1/repos/{stack['EVN_GITEA_ORG']}/{code}",
        headers={"Authorization": f"token {stack['EVN_GITEA_ADMIN_TOKEN']}"},
        timeout=60,
    )
