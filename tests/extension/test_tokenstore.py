"""The encrypted refresh-token file on disk."""

from __future__ import annotations

import logging
import os
import stat

from cryptography.fernet import Fernet

from jupyterlab_evn_submit.tokenstore import StoredLogin, TokenStore

SECRET = "refresh-token-value-that-must-not-appear-on-disk"


def login() -> StoredLogin:
    return StoredLogin(
        SECRET, "http://127.0.0.1:1/realms/evn", "evn-jupyterlab", {"username": "demo"}
    )


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_round_trip_is_encrypted_and_private(tmp_path):
    key = Fernet.generate_key().decode()
    store = TokenStore(tmp_path / "s" / "refresh-token", [key])
    store.save(login())
    raw = store.path.read_bytes()
    assert SECRET.encode() not in raw and b"demo" not in raw
    assert Fernet(key.encode()).decrypt(raw)  # it is a Fernet token of our key
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700
    again = TokenStore(store.path, [key]).load()
    assert again is not None and again.refresh_token == SECRET and again.user["username"] == "demo"


def test_replace_is_atomic_and_leaves_no_temporary_files(tmp_path):
    store = TokenStore(tmp_path / "refresh-token", [Fernet.generate_key().decode()])
    store.save(login())
    inode = os.stat(store.path).st_ino
    store.save(StoredLogin("second", "i", "c"))
    assert os.stat(store.path).st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refresh-token"]
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "second"


def test_several_keys_decrypt_and_the_first_re_encrypts(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    path = tmp_path / "refresh-token"
    TokenStore(path, [old]).save(login())
    rotated = TokenStore(path, [new, old])
    loaded = rotated.load()
    assert loaded is not None and loaded.refresh_token == SECRET
    # re-encrypted with the new key: the old key alone cannot read it any more
    assert Fernet(new.encode()).decrypt(path.read_bytes())
    assert TokenStore(path, [old]).load() is None


def test_wrong_key_reads_as_logged_out_and_is_logged(tmp_path, caplog):
    path = tmp_path / "refresh-token"
    TokenStore(path, [Fernet.generate_key().decode()]).save(login())
    with caplog.at_level(logging.ERROR):
        assert TokenStore(path, [Fernet.generate_key().decode()]).load() is None
    assert "cannot be decrypted" in caplog.text


def test_corrupt_store_reads_as_logged_out_without_crashing(tmp_path, caplog):
    key = Fernet.generate_key().decode()
    path = tmp_path / "refresh-token"
    path.write_bytes(b"\x00garbage")
    with caplog.at_level(logging.ERROR):
        assert TokenStore(path, [key]).load() is None
    path.write_bytes(Fernet(key.encode()).encrypt(b"{not json"))
    assert TokenStore(path, [key]).load() is None
    path.write_bytes(Fernet(key.encode()).encrypt(b'{"version": 1}'))
    assert TokenStore(path, [key]).load() is None
    assert "corrupt" in caplog.text


def test_without_keys_a_private_key_file_is_generated_and_logged(tmp_path, caplog):
    path = tmp_path / "store" / "refresh-token"
    with caplog.at_level(logging.WARNING):
        TokenStore(path, []).save(login())
    key_file = path.with_name("refresh-token.key")
    assert mode(key_file) == 0o600
    assert "generated an encryption key" in caplog.text
    key = key_file.read_text().strip()
    assert Fernet(key.encode()).decrypt(path.read_bytes())
    # a second process (restart) reuses the same key
    loaded = TokenStore(path, []).load()
    assert loaded is not None and loaded.refresh_token == SECRET


def test_delete_and_missing_store(tmp_path):
    store = TokenStore(tmp_path / "refresh-token", [Fernet.generate_key().decode()])
    assert store.load() is None
    store.save(login())
    store.delete()
    store.delete()  # twice is fine
    assert not store.exists() and store.load() is None
