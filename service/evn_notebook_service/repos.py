"""The experiments' repositories as the write path needs them: there, and private while the
experiment's data are proprietary (docs/catalogue.md, "Embargo in Gitea")."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .config import ServiceConfig
from .errors import NotFound
from .gitea import GiteaClient
from .logs import log
from .quota import Ticket

if TYPE_CHECKING:
    from .archive import Write


class Repositories:
    """What this process knows of the repositories: those that exist, those it made private."""

    def __init__(self, config: ServiceConfig, gitea: GiteaClient) -> None:
        self.config = config
        self.gitea = gitea
        self._known: set[str] = set()
        self._hidden: set[str] = set()

    def forget(self, repo: str) -> None:
        """A write found the repository missing (deleted, or still being created)."""
        self._known.discard(repo)
        self._hidden.discard(repo)

    async def ensure(self, write: Write) -> None:
        """Create the experiment's repository if it is missing: a new repository and a
        submission are reserved first (429 beyond either limit, nothing created). A new version
        (``write.must_exist``) never creates one (404).

        While the experiment's data are proprietary (``write.observation``) the repository is
        private: created so, or made so before the commit when it exists (made public before
        the catalogue was configured, say): no proprietary notebook is readable anonymously.
        """
        repo, observation = write.experiment, write.observation
        hidden = observation is not None and not observation.public(datetime.now(timezone.utc))
        if repo not in self._known:
            if not await self.gitea.repo_exists(repo):
                await self._create(repo, write.ticket, write.must_exist, hidden)
            self._known.add(repo)
        if hidden and repo not in self._hidden:
            await self.gitea.set_private(repo, True)  # idempotent: once per process and repo
            log.info("repository private until its data are public",
                     extra={"fields": {"experiment": repo}})  # fmt: skip
            self._hidden.add(repo)

    async def _create(self, repo: str, ticket: Ticket, must_exist: bool, hidden: bool) -> None:
        if must_exist:
            raise NotFound(f"experiment {repo} has no archived notebooks")
        if not self.config.create_repos:
            raise NotFound(
                f"experiment {repo} has no archive repository and this service does not "
                "create them; ask the archive operator"
            )
        ticket.reserve(repository=True)
        try:
            await self.gitea.create_repo(
                repo, f"Notebooks archived for EVN experiment {repo}", private=hidden
            )
        except BaseException:
            ticket.release("repository")
            raise
        log.info("created repository", extra={"fields": {"experiment": repo, "private": hidden}})
