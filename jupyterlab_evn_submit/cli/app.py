"""``jupyter evn-submit``: the command line of the EVN archive (argument parsing and output).

Human output by default, one JSON document on stdout with ``--json``. Messages for people
(device-login instructions, errors) go to stderr. No token is ever printed.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from .. import __version__, listing, rules
from ..config import OUTPUT_POLICIES
from . import browse, login
from .context import Context, load_config, log
from .exitcodes import (
    CONFIGURATION,
    EXIT_CODES,
    INTERRUPTED,
    NOT_LOGGED_IN,
    OK,
    USAGE,
    outcome,
)

PROG = "jupyter evn-submit"
#: ``list`` options that make it a search, besides ``--search`` (the search's ``q``)
SEARCH_FILTERS = ("author", "orcid", "keyword", "license", "since", "until", "sort")
EPILOG = "exit codes:\n" + "\n".join(
    f"  {code:<3} {name}: {meaning}" for code, (name, meaning) in EXIT_CODES.items()
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors: exit 2 with the usage
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\nTry `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument("--config", metavar="FILE", help="a Jupyter config file (.py or .json)")
    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv)")

    parser = Parser(
        prog=PROG,
        description="Submit reduced notebooks to the EVN archive, list and fetch archived ones. "
        "Shares the configuration (EVN_* variables, c.EvnSubmitConfig) and the login of the "
        "JupyterLab extension.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    verbs.required = True
    _add_login_verbs(verbs, common)
    _add_submit_verb(verbs, common)
    _add_browse_verbs(verbs, common)
    return parser


def _add_login_verbs(verbs: Any, common: argparse.ArgumentParser) -> None:
    """``login``, ``status``, ``logout``."""
    p = verbs.add_parser("login", parents=[common], help="log in (device flow, or --bootstrap)")
    p.add_argument(
        "--bootstrap",
        action="store_true",
        help="use the refresh token in $EVN_REFRESH_TOKEN (EVN_BOOTSTRAP_TOKEN_ENV names it)",
    )
    p.add_argument("--force", action="store_true", help="log in again even when logged in")
    verbs.add_parser("status", parents=[common], help="who is logged in; is the archive up")
    verbs.add_parser("logout", parents=[common], help="revoke the login and forget it")


def typed(text: str) -> str:
    """An experiment code or a name as a person typed it: the surrounding spaces and line breaks
    dropped here, because the contract's rules trim nothing (a space anywhere is refused)."""
    return text.strip()


def _add_submit_verb(verbs: Any, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("submit", parents=[common], help="archive a notebook (idempotent)")
    p.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the .ipynb file")
    p.add_argument(
        "--experiment", "-e", type=typed, required=True, metavar="CODE", help="e.g. EG078B"
    )
    p.add_argument("--title", help="default: the first heading of the notebook, else its name")
    p.add_argument("--description", help="a longer description (default: none)")
    p.add_argument(
        "--author",
        action="append",
        default=[],
        metavar="NAME[;ORCID[;AFFILIATION]]",
        help="an author, repeat for more (default: the logged-in researcher)",
    )
    p.add_argument("--license", help=f"an SPDX id (default {rules.DEFAULT_LICENCE})")
    p.add_argument("--keyword", action="append", default=[], help="a keyword, repeat for more")
    p.add_argument(
        "--metadata",
        type=Path,
        metavar="FILE",
        help="a JSON file with title, description, authors, license, keywords (options win)",
    )
    p.add_argument("--name", type=typed, help="the archived name (default: the file's name)")
    p.add_argument("--message", "-m", default="", help="the version's commit message")
    p.add_argument("--output-policy", choices=OUTPUT_POLICIES, default="keep")
    p.add_argument(
        "--output-budget",
        type=int,
        metavar="BYTES",
        help="largest output kept by strip-large (default EVN_OUTPUT_BUDGET, 1 MB)",
    )
    p.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="default: derived from the notebook and the metadata, so re-runs never commit twice",
    )


def _add_browse_verbs(verbs: Any, common: argparse.ArgumentParser) -> None:
    """``list`` and ``fetch``."""
    p = verbs.add_parser(
        "list", parents=[common], help="my submissions, an experiment's notebooks, or a search"
    )
    p.add_argument(
        "--experiment", "-e", type=typed, metavar="CODE", help="its notebooks; or a search filter"
    )
    _add_search_options(p)
    low, high = listing.limit_range()
    p.add_argument("--limit", type=int, metavar="N", help=f"items per page ({low}-{high})")
    p.add_argument("--cursor", metavar="C", help="start at this page (a printed next cursor)")
    p.add_argument("--all", action="store_true", help="follow the pages to the end")

    p = verbs.add_parser("fetch", parents=[common], help="save a copy (never overwrites)")
    p.add_argument("experiment", type=typed, metavar="EXPERIMENT")
    p.add_argument("owner", type=typed, metavar="OWNER")
    p.add_argument("name", type=typed, metavar="NAME")
    p.add_argument("--version", type=int, metavar="N", help="default: the latest")
    p.add_argument("-o", "--output", metavar="PATH", help="file or folder (default: here)")


def _add_search_options(p: argparse.ArgumentParser) -> None:
    """``list``'s search: any of these makes it one (public, no login)."""
    p.add_argument("--search", metavar="TEXT", help="words to find in every archived notebook")
    p.add_argument("--author", metavar="NAME", help="an author's name contains NAME")
    p.add_argument("--orcid", metavar="ORCID", help="an author has this ORCID iD")
    p.add_argument("--keyword", metavar="WORD", help="this keyword")
    p.add_argument("--license", metavar="SPDX", help="under this license")
    p.add_argument("--since", metavar="DATE", help="updated on or after (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="updated on or before (YYYY-MM-DD)")
    p.add_argument("--sort", choices=listing.sort_orders(), help="default: relevance")


# --- human output ---------------------------------------------------------------------------


def _human_login(r: dict[str, Any]) -> str:
    who = login.describe_user(r.get("user"))
    if r.get("already"):
        return f"Already logged in as {who}. (Use --force to log in again.)"
    return f"Logged in to the EVN archive as {who}."


def _human_status(r: dict[str, Any]) -> str:
    svc = r["service"]
    lines = [
        "Logged in as " + login.describe_user(r["user"])
        if r["logged_in"]
        else (r.get("message") or "Not logged in.") + " Run `jupyter evn-submit login`.",
        f"Login service: {r['issuer'] or 'not configured (EVN_ISSUER_URL)'} "
        f"(client {r['client_id']})",
        f"Archive: {svc['url'] or 'not configured (EVN_SERVICE_URL)'} "
        f"({'reachable' if svc['reachable'] else 'NOT reachable'})",
        f"Token store: {r['token_store']}",
    ]
    return "\n".join(lines)


def _human_submit(r: dict[str, Any]) -> str:
    what = "Archived" if r.get("created") else "Already archived (nothing new committed)"
    return (
        f"{what}: {r.get('experiment')}/{r.get('folder')} version {r.get('version')}\n"
        f"{r.get('permalink')}"
    )


def _human_list(r: dict[str, Any]) -> str:
    rows = r.get("submissions", r.get("notebooks")) or []
    out = []
    for n in rows:
        out.append(
            f"{n.get('experiment')}  {n.get('owner')}/{n.get('name')}  v{n.get('version')}  "
            f"{n.get('updated') or ''}  {n.get('title')}\n    {n.get('permalink')}"
        )
        if n.get("snippet"):
            out.append(f"    {_plain_snippet(n['snippet'])}")
    if not rows and "search" in r:
        out.append("No notebook matches.")
    elif not rows:
        where = f"for {r['experiment']}" if r.get("experiment") else "by you"
        out.append(f"No notebooks archived {where} yet.")
    if r.get("next_cursor"):  # a script pages on with this
        out.append(f"Next page: --cursor {r['next_cursor']}")
    return "\n".join(out)


def _plain_snippet(snippet: str) -> str:
    """A search hit's snippet for a terminal: the matched words *marked*, the rest unescaped."""
    return html.unescape(snippet.replace("<mark>", "*").replace("</mark>", "*"))


def _human_fetch(r: dict[str, Any]) -> str:
    return (
        f"Saved version {r['version']} of {r['experiment']}/{r['owner']}/{r['name']} to {r['path']}"
    )


def _human_logout(r: dict[str, Any]) -> str:
    if not r["was_logged_in"]:
        return "Not logged in; nothing to do."
    if r["revoked"]:
        return "Logged out: the login was revoked at Keycloak and deleted here."
    return str(r.get("message"))


# --- dispatch -------------------------------------------------------------------------------

Verb = Callable[[Context, argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _login(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    return await login.login(ctx, bootstrap=a.bootstrap, force=a.force, say=_say)


async def _status(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    return await login.status(ctx)


async def _submit(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    # not at module level: submit.py (nbformat, kernel specs) loads only for this verb
    from .submit import SubmitRequest, submit

    req = SubmitRequest(
        notebook=a.notebook,
        experiment=a.experiment,
        title=a.title,
        description=a.description,
        authors=a.author,
        license=a.license,
        keywords=a.keyword,
        metadata_file=a.metadata,
        name=a.name,
        message=a.message,
        output_policy=a.output_policy,
        output_budget=a.output_budget,
        idempotency_key=a.idempotency_key,
    )
    return await submit(ctx, req)


async def _list(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    search = {"q": a.search} | {name: getattr(a, name) for name in SEARCH_FILTERS}
    req = browse.ListRequest(a.experiment, search, a.limit, a.cursor, follow=a.all)
    return await browse.list_notebooks(ctx, req)


async def _fetch(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    return await browse.fetch(ctx, a.experiment, a.owner, a.name, a.version, a.output)


async def _logout(ctx: Context, a: argparse.Namespace) -> dict[str, Any]:
    return await login.logout(ctx)


VERBS: dict[str, tuple[Verb, Callable[[dict[str, Any]], str]]] = {
    "login": (_login, _human_login),
    "status": (_status, _human_status),
    "submit": (_submit, _human_submit),
    "list": (_list, _human_list),
    "fetch": (_fetch, _human_fetch),
    "logout": (_logout, _human_logout),
}


def _setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    for name in ("jupyterlab_evn_submit", "traitlets"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    run, human = VERBS[args.verb]
    try:
        ctx = Context(load_config(args.config))
        result = asyncio.run(run(ctx, args))
    except KeyboardInterrupt:
        _say("Interrupted.")
        return INTERRUPTED
    except Exception as e:
        out = outcome(e)
        log.debug("EVN archive: %s failed", args.verb, exc_info=True)
        if args.json:
            doc = {"ok": False, "exit_code": out.code, "error": out.kind, "message": out.message}
            print(json.dumps(doc | ({"hint": out.hint} if out.hint else {}), indent=1))
        else:
            _say(f"Error: {out.message}" + (f"\n{out.hint}" if out.hint else ""))
        return out.code
    code = OK
    if args.verb == "status" and not result["logged_in"]:
        # a script can test `jupyter evn-submit status` for a live login
        code = NOT_LOGGED_IN if result["issuer"] else CONFIGURATION
    if args.json:
        print(json.dumps({"ok": code == OK} | result, indent=1, ensure_ascii=False))
    else:
        print(human(result))
    return code
