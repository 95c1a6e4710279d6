"""The refresh token at rest: one Fernet-encrypted file, mode 0600, replaced atomically.

Several keys are accepted (``MultiFernet``): the first encrypts, every key decrypts, so an operator
rotates by prepending a new key (as JupyterHub does with ``JUPYTERHUB_CRYPT_KEY``). A store
encrypted with an older key is re-encrypted with the first one the next time it is read. When no
key is configured one is generated into ``<store>.key`` (0600) and that is logged.

A missing, corrupt or undecryptable store reads as "logged out"; it is logged, never raised.

Beside the store, ``<store>.imported`` lists the SHA-256 of every bootstrap refresh token (handed
over by JupyterHub) that was imported, one hex digest a line: a logout deletes the store, not this
list, so a restart with the same token still in the environment stays logged out.
All methods block (file I/O, ``fcntl``): async callers run them in a thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

FORMAT_VERSION = 1


@dataclass
class StoredLogin:
    """What survives a server restart: the refresh token and whom it belongs to."""

    refresh_token: str
    issuer: str
    client_id: str
    user: dict[str, Any] = field(default_factory=dict)


class TokenStore:
    def __init__(
        self, path: Path | str, keys: list[str], log: logging.Logger | None = None
    ) -> None:
        self.path = Path(path).expanduser()
        self.log = log or logging.getLogger(__name__)
        self._configured_keys = [k for k in keys if k]
        self._fernet: MultiFernet | None = None

    # --- keys ------------------------------------------------------------------------------

    @property
    def key_path(self) -> Path:
        return self.path.with_name(self.path.name + ".key")

    def check_keys(self) -> None:
        """Raise ``ValueError`` now when a configured key is malformed (the configuration is
        wrong), instead of at the first login. Touches no file."""
        if self._configured_keys:
            self._keys()

    def _keys(self) -> MultiFernet:
        if self._fernet is None:
            keys = self._configured_keys or [self._generated_key()]
            try:
                self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
            except (ValueError, TypeError) as e:
                raise ValueError(
                    "EVN_TOKEN_KEYS must be comma-separated Fernet keys "
                    "(Fernet.generate_key()); one of them is not"
                ) from e
        return self._fernet

    def _generated_key(self) -> str:
        """The key in ``<store>.key``, created 0600 on first use."""
        self._ensure_dir()
        try:
            return self.key_path.read_text().strip()
        except FileNotFoundError:
            pass
        key = Fernet.generate_key().decode()
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it in between
            return self.key_path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        self.log.warning(
            "EVN archive: no EVN_TOKEN_KEYS configured; generated an encryption key for the "
            "token store in %s (mode 0600). Set EVN_TOKEN_KEYS to manage the key yourself.",
            self.key_path,
        )
        return key

    def _ensure_dir(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    # --- read / write ----------------------------------------------------------------------

    def load(self) -> StoredLogin | None:
        """The stored login, or None when there is none or it cannot be read (logged)."""
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            self.log.error("EVN archive: cannot read the token store %s: %s", self.path, e)
            return None
        try:
            fernet = self._keys()
            plain = fernet.decrypt(blob.strip())
            data = json.loads(plain)
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            login = StoredLogin(
                refresh_token=str(data["refresh_token"]),
                issuer=str(data["issuer"]),
                client_id=str(data["client_id"]),
                user=dict(data.get("user") or {}),
            )
        except InvalidToken:
            self.log.error(
                "EVN archive: the token store %s cannot be decrypted with the configured keys "
                "(EVN_TOKEN_KEYS changed?); treating the user as logged out",
                self.path,
            )
            return None
        except (ValueError, KeyError, TypeError) as e:
            self.log.error(
                "EVN archive: the token store %s is corrupt (%s); treating the user as logged out",
                self.path,
                e,
            )
            return None
        if self._configured_keys and len(self._configured_keys) > 1:
            self._reencrypt_if_old(blob.strip(), login)
        return login

    def _reencrypt_if_old(self, blob: bytes, login: StoredLogin) -> None:
        try:
            Fernet(self._configured_keys[0].encode()).decrypt(blob)
        except InvalidToken:
            self.log.info("EVN archive: re-encrypting the token store with the first key")
            self.save(login)

    def save(self, login: StoredLogin) -> None:
        """Encrypt and atomically replace the store (a reader sees the old or the new file)."""
        self._ensure_dir()
        payload = asdict(login) | {"version": FORMAT_VERSION, "saved_at": time.time()}
        blob = self._keys().encrypt(json.dumps(payload).encode())
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        with contextlib.suppress(OSError):
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def exists(self) -> bool:
        return self.path.exists()

    # --- imported bootstrap tokens ---------------------------------------------------------

    @property
    def imported_path(self) -> Path:
        return self.path.with_name(self.path.name + ".imported")

    def _imported(self) -> set[str]:
        try:
            return set(self.imported_path.read_text().split())
        except FileNotFoundError:
            return set()
        except OSError as e:
            self.log.error("EVN archive: cannot read %s: %s", self.imported_path, e)
            return set()

    def was_imported(self, token: str) -> bool:
        """Whether this bootstrap token was imported before (by any process sharing the store)."""
        return _digest(token) in self._imported()

    def remember_import(self, token: str) -> None:
        """Remember the token's hash (never the token). Call with ``locked()`` held."""
        self._ensure_dir()
        digests = self._imported() | {_digest(token)}
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("".join(d + "\n" for d in sorted(digests)))
            os.replace(tmp, self.imported_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    # --- cross-process exclusion -----------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock beside the store, so that two processes sharing it (the
        server and ``jupyter evn-submit``) never refresh the same token at once."""
        self._ensure_dir()
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
