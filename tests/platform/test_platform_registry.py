"""The registry: apps and Pages stored sealed, opened on lookup, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platform_support import KEY_A, KEY_B

from fmc.errors import ConfigurationError
from fmc.platform import (
    App,
    EncryptionKeyError,
    KeyRing,
    PageRecord,
    PageStatus,
    Platform,
    UnknownAccountError,
)
from fmc.platform.registry import Registry
from fmc.store import MemoryStore, SQLiteStore

APP_SECRET = "s3cr3t-app-secret-value"
OLD_SECRET = "0ld-app-secret-value"
VERIFY = "verify-token-value"
TOKEN = "EAAG-page-token-value-0001"


def _app() -> App:
    return App("1001", (APP_SECRET, OLD_SECRET), VERIFY, name="Bakery")


def _page(**changes: Any) -> PageRecord:
    values: dict[str, Any] = {
        "id": "2001",
        "app_id": "1001",
        "access_token": TOKEN,
        "name": "Bakery Page",
        "redirect_to": "https://bot.bakery.test/hook",
        "permissions": {"pages_messaging", "pages_manage_metadata"},
    }
    values.update(changes)
    return PageRecord(**values)


class TestRecords:
    def test_secrets_are_never_in_repr(self) -> None:
        """repr of an app and a Page shows ids and names, never a secret or token."""
        text = repr(_app()) + repr(_page())
        for secret in (APP_SECRET, OLD_SECRET, VERIFY, TOKEN):
            assert secret not in text
        assert "1001" in text
        assert "2001" in text

    def test_one_secret_becomes_a_tuple(self) -> None:
        """A single secret is kept as a one-secret rotation list."""
        assert App("1", "only", VERIFY).secrets == ("only",)

    def test_app_token_joins_id_and_newest_secret(self) -> None:
        """The app access token is ``<id>|<newest secret>``."""
        assert _app().access_token == f"1001|{APP_SECRET}"

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"id": "10/01"}, "Facebook id"),
            ({"secrets": ()}, "at least one app secret"),
            ({"secrets": (" padded ",)}, "without surrounding whitespace"),
            ({"verify_token": ""}, "non-empty"),
        ],
        ids=["id-with-slash", "no-secret", "padded-secret", "empty-verify-token"],
    )
    def test_bad_app_is_a_configuration_error(self, kwargs: dict[str, Any], fragment: str) -> None:
        """A bad app field is a ConfigurationError that names the field's rule."""
        values: dict[str, Any] = {"id": "1", "secrets": ("s",), "verify_token": "v"} | kwargs
        with pytest.raises(ConfigurationError, match=fragment):
            App(**values)

    def test_int_ids_are_kept_as_text(self) -> None:
        """Ids given as ints become strings."""
        assert _page(id=2001, app_id=1001).id == "2001"


class TestKeyRing:
    def test_no_key_names_the_variable(self) -> None:
        """No key at all: the error names FMC_ENCRYPTION_KEYS."""
        with pytest.raises(EncryptionKeyError, match="FMC_ENCRYPTION_KEYS"):
            KeyRing.from_env({})

    def test_malformed_key_names_its_position(self) -> None:
        """A key that is not a Fernet key is named by its position, not echoed."""
        with pytest.raises(EncryptionKeyError, match="#2") as caught:
            KeyRing.from_env({"FMC_ENCRYPTION_KEYS": f"{KEY_A},not-a-key-at-all"})
        assert "not-a-key-at-all" not in str(caught.value)

    def test_env_keys_are_newest_first(self) -> None:
        """The first key seals; a ring of only the second cannot open it."""
        sealed = KeyRing.from_env({"FMC_ENCRYPTION_KEYS": f"{KEY_A}, {KEY_B}"}).seal("x")
        assert KeyRing([KEY_A]).open(sealed, what="x") == "x"
        with pytest.raises(EncryptionKeyError):
            KeyRing([KEY_B]).open(sealed, what="x")

    def test_callable_source(self) -> None:
        """Keys may come from a callable (a KMS lookup)."""
        ring = KeyRing(lambda: [KEY_B])
        assert ring.open(ring.seal("token"), what="t") == "token"

    def test_wrong_key_is_typed_and_says_what_to_do(self) -> None:
        """A secret no key opens: EncryptionKeyError naming what failed and the fix."""
        sealed = KeyRing([KEY_A]).seal(TOKEN)
        with pytest.raises(EncryptionKeyError, match=r"the token of Page 9.*fmc keys rotate") as e:
            KeyRing([KEY_B]).open(sealed, what="the token of Page 9")
        assert TOKEN not in str(e.value)
        assert KEY_B not in str(e.value)

    def test_one_string_is_a_comma_separated_list(self) -> None:
        """KeyRing("a, b") holds two keys, as FMC_ENCRYPTION_KEYS does, not its characters."""
        assert KeyRing(f"{KEY_A}, {KEY_B}").key_count == 2

    def test_from_env_reads_only_the_mapping_given(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A key in the process environment is not used when the mapping given has none."""
        monkeypatch.setenv("FMC_ENCRYPTION_KEYS", KEY_A)
        with pytest.raises(EncryptionKeyError, match="FMC_ENCRYPTION_KEYS"):
            KeyRing.from_env({})

    @pytest.mark.parametrize(
        "keys",
        [[KEY_A], KEY_A, lambda: [KEY_A]],
        ids=["list", "comma-separated", "callable"],
    )
    def test_platform_takes_the_keys_themselves(self, keys: Any) -> None:
        """Platform(keys=...) takes a list, a string or a callable as well as a KeyRing."""
        sealed = KeyRing([KEY_A]).seal(TOKEN)
        with Platform(MemoryStore(), keys=keys) as platform:
            assert platform.keys.open(sealed, what="t") == TOKEN

    def test_platform_without_a_key_names_the_fix(self) -> None:
        """Platform(keys=[]) fails with EncryptionKeyError naming the variable."""
        with pytest.raises(EncryptionKeyError, match="FMC_ENCRYPTION_KEYS"):
            Platform(MemoryStore(), keys=[])

    def test_repr_counts_keys_only(self) -> None:
        """repr shows how many keys, never one."""
        assert repr(KeyRing([KEY_A, KEY_B])) == "KeyRing(keys=2)"


class TestStoredRegistry:
    def test_app_round_trips(self, store: Any, keys: KeyRing) -> None:
        """An app comes back with its secrets, verify token and name."""
        registry = Registry(store, keys)
        registry.add_app(_app())
        assert Registry(store, keys).app("1001") == _app()
        assert [a.id for a in registry.apps()] == ["1001"]

    def test_page_round_trips(self, store: Any, keys: KeyRing) -> None:
        """A Page comes back whole, through a new registry (no cache)."""
        Registry(store, keys).put_page(_page())
        assert Registry(store, keys).page("2001") == _page()

    def test_unknown_ids(self, store: Any, keys: KeyRing) -> None:
        """Unknown ids: None from lookups, UnknownAccountError from require_app/set_status."""
        registry = Registry(store, keys)
        assert registry.app("nope") is None
        assert registry.page("nope") is None
        with pytest.raises(UnknownAccountError, match="fmc apps add"):
            registry.require_app("nope")
        with pytest.raises(UnknownAccountError):
            registry.set_status("nope", PageStatus.TOKEN_INVALID)

    def test_pages_of_one_app(self, store: Any, keys: KeyRing) -> None:
        """pages(app_id=...) lists that app's Pages only, by id."""
        registry = Registry(store, keys)
        for page_id, app_id in [("3", "1001"), ("1", "1001"), ("2", "1002")]:
            registry.put_page(_page(id=page_id, app_id=app_id))
        assert [p.id for p in registry.pages(app_id="1001")] == ["1", "3"]
        assert [p.id for p in registry.pages()] == ["1", "2", "3"]

    def test_status_change_is_seen_at_once(self, store: Any, keys: KeyRing) -> None:
        """set_status drops the cached Page, so the next lookup sees the new status."""
        registry = Registry(store, keys)
        registry.put_page(_page())
        assert registry.page("2001").status is PageStatus.ACTIVE  # type: ignore[union-attr]
        registry.set_status("2001", PageStatus.TOKEN_INVALID, reason="190")
        found = registry.page("2001")
        assert found is not None
        assert found.status is PageStatus.TOKEN_INVALID
        assert found.status_reason == "190"

    def test_replacing_an_app_tells_the_listeners_at_once(self, store: Any, keys: KeyRing) -> None:
        """Channels hold their app's secret, so a replaced app must rebuild them now, not later."""
        now = [0.0]
        registry = Registry(store, keys, refresh_every=60.0, monotonic=lambda: now[0])
        registry.add_app(App("1001", OLD_SECRET, VERIFY, "Bakery"))
        registry.put_page(_page())
        heard: list[str | None] = []
        registry.on_change(heard.append)
        registry.add_app(App("1001", APP_SECRET, VERIFY, "Bakery"))
        assert heard == [None]
        assert registry.app("1001").secrets == (APP_SECRET,)  # type: ignore[union-attr]

    def test_another_process_change_is_seen_after_refresh(
        self, make_store: Callable[[], Any], keys: KeyRing
    ) -> None:
        """A change through another registry is seen once refresh_every has passed."""
        now = [0.0]
        reader = Registry(make_store(), keys, refresh_every=5.0, monotonic=lambda: now[0])
        writer = Registry(make_store(), keys)
        writer.put_page(_page())
        assert reader.page("2001") is not None
        writer.set_status("2001", PageStatus.RESTRICTED)
        assert reader.page("2001").status is PageStatus.ACTIVE  # type: ignore[union-attr]
        now[0] = 6.0
        assert reader.page("2001").status is PageStatus.RESTRICTED  # type: ignore[union-attr]

    def test_wrong_key_on_open_is_a_clear_error(self, store: Any) -> None:
        """A store sealed with one key, opened with another: EncryptionKeyError naming the Page."""
        Registry(store, KeyRing([KEY_A])).put_page(_page())
        with pytest.raises(EncryptionKeyError, match="Page 2001"):
            Registry(store, KeyRing([KEY_B])).page("2001")

    def test_rotation_reseals_with_the_new_key(self, store: Any) -> None:
        """After rotate_keys with [new, old], the new key alone opens everything."""
        old = Registry(store, KeyRing([KEY_A]))
        old.add_app(_app())
        old.put_page(_page())
        assert Registry(store, KeyRing([KEY_B, KEY_A])).rotate_keys() == 2
        fresh = Registry(store, KeyRing([KEY_B]))
        assert fresh.app("1001") == _app()
        assert fresh.page("2001") == _page()


STORE_BACKENDS = ["memory", "sqlite", "postgres"]


def test_sqlite_file_holds_no_secret_in_clear(tmp_path: Path, keys: KeyRing) -> None:
    """The SQLite file's bytes (and its WAL) hold no token, app secret or verify token."""
    path = tmp_path / "fmc.db"
    store = SQLiteStore(path)
    platform = Platform(store, keys=keys)
    platform.add_app(_app())
    platform.registry.put_page(_page())
    platform.close()
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("fmc.db"))
    assert b"Bakery Page" in data  # the check can see clear text
    for secret in (APP_SECRET, OLD_SECRET, VERIFY, TOKEN):
        assert secret.encode() not in data


def test_migration_version_four(tmp_path: Path) -> None:
    """A new SQLite file has had migration 4 (the registry's tables) applied."""
    import sqlite3

    store = SQLiteStore(tmp_path / "fmc.db")
    assert store.schema_version() >= 4
    store.close()
    with sqlite3.connect(tmp_path / "fmc.db") as conn:
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
    assert 4 in applied


def test_misses_are_not_cached(keys: KeyRing) -> None:
    """Looking up ids that are not registered leaves the cache empty (no growth from forged ids)."""
    from fmc.store import MemoryStore

    registry = Registry(MemoryStore(), keys)
    for number in range(100):
        assert registry.page(f"forged-{number}") is None
        assert registry.app(f"forged-{number}") is None
    assert repr(registry) == "Registry(apps=0, pages=0 cached)"


def test_a_record_read_across_an_invalidate_is_not_cached(keys: KeyRing) -> None:
    """A Page opened while invalidate() dropped the cache does not refill the new cache."""
    from fmc.store import MemoryStore

    store = MemoryStore()
    registry = Registry(store, keys)
    registry.put_page(_page())
    fetch = store.registry_account_get

    def fetch_while_invalidated(*args: Any, **kwargs: Any) -> Any:
        registry.invalidate()  # another thread's write lands during this lookup
        return fetch(*args, **kwargs)

    store.registry_account_get = fetch_while_invalidated  # type: ignore[method-assign]
    assert registry.page("2001") == _page()
    assert repr(registry) == "Registry(apps=0, pages=0 cached)"
