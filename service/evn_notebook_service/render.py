"""``evn-notebook-render``: Gitea's external renderer for archived notebooks (nbconvert's HTML).

Gitea runs it for every ``.ipynb`` page view with the notebook on standard input and
``GITEA_PREFIX_SRC`` (``/<org>/<repo>/src/commit/<sha>/<folder>``) in the environment. It writes
nbconvert's HTML (template ``basic``) and, when ``EVN_OPEN_LINK_BASE`` is set (the portal's
``https://<portal>/hub/user-redirect``, or a JupyterLab's root URL), a line above it with a link
that opens a copy of the notebook in the reader's own JupyterLab (the extension asks before it
writes anything). Needs nbconvert: ``pip install 'evn-notebook-service[render]'``.
"""

from __future__ import annotations

import html
import os
import sys
from urllib.parse import unquote, urlencode

from .contract import RuleError, experiment_code, notebook_name, username_folder


def open_link(base: str, prefix_src: str) -> str | None:
    """The open-a-copy link for the archived notebook whose folder ``prefix_src`` names, or None
    when the page is not an archived notebook's (a legacy file at a repository's root, another
    layout)."""
    parts = [unquote(p) for p in prefix_src.strip("/").split("/")]
    # <org>/<repo>/src/<commit|branch>/<ref>/<owner>/<name>
    if len(parts) != 7 or parts[2] != "src":
        return None
    try:
        query = {
            "experiment": experiment_code(parts[1]),
            "owner": username_folder(parts[5]),
            "name": notebook_name(parts[6]),
        }
    except RuleError:
        return None
    return f"{base.rstrip('/')}/evn-submit/open?{urlencode(query)}"


def banner(link: str) -> str:
    return (
        '<p class="evn-open-link" style="margin:0 0 1em;font-family:sans-serif">'
        f'<a href="{html.escape(link)}" target="_blank" rel="noopener">'
        "Open a copy of this notebook (its latest version) in your JupyterLab</a></p>\n"
    )


def render(notebook: bytes, environ: dict[str, str]) -> str:
    from nbconvert import HTMLExporter  # only the renderer needs nbconvert
    from nbformat import reads

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(
        reads(notebook.decode("utf-8"), as_version=4)
    )
    base, prefix = environ.get("EVN_OPEN_LINK_BASE"), environ.get("GITEA_PREFIX_SRC", "")
    link = open_link(base, prefix) if base else None
    return (banner(link) if link else "") + body


def main() -> None:
    sys.stdout.write(render(sys.stdin.buffer.read(), dict(os.environ)))


if __name__ == "__main__":
    main()
