"""The ``fmc`` command's configuration: flags, then environment, then a TOML file.

Every setting has one name in each source::

    setting        flag               environment          TOML key
    page_id        --page-id          FMC_PAGE_ID          page_id
    page_token     (none)             FMC_PAGE_TOKEN       page_token
    app_secret     (none)             FMC_APP_SECRET       app_secret
    verify_token   (none)             FMC_VERIFY_TOKEN     verify_token
    db             --db               FMC_DB               db
    forward_allow  --forward-allow    FMC_FORWARD_ALLOW    forward_allow
    graph_url      --graph-url        FMC_GRAPH_URL        graph_url
    permissions    --permissions      FMC_PERMISSIONS      permissions
    rate_limit     --rate-limit       FMC_RATE_LIMIT       rate_limit
    honour         --honour           FMC_HONOUR           honour
    utility_templates  --utility-templates  FMC_UTILITY_TEMPLATES  utility_templates
    encryption_keys  (none)           FMC_ENCRYPTION_KEYS  encryption_keys

``honour`` names deprecated policy routes to re-enable (``fmc.policy.Route``
values, comma-separated or a TOML list); ``utility_templates`` maps purposes
to the Page's utility templates, as ``purpose=template`` pairs separated by
commas, or a TOML table (``[fmc.utility_templates]``). ``encryption_keys``
(secret) are the Fernet keys that seal a platform's registry (``fmc apps``,
``fmc pages``, ``fmc serve --platform``), comma-separated, newest first.

Secrets have no flag on purpose: a command line is visible to every user of
the machine (``ps``) and kept in shell history. They are never shown: not in
:class:`Config`'s ``repr``, not in an error message, not in a log line.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from fmc.errors import ConfigurationError
from fmc.models.page import Page
from fmc.policy import MessagingPolicy, Permission, Purpose, Route
from fmc.transport.core import DEFAULT_BASE_URL

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_GRAPH_URL",
    "DEFAULT_PERMISSIONS",
    "ENVIRONMENT",
    "SECRET_MINIMUMS",
    "SECRET_SETTINGS",
    "Config",
    "load_config",
    "read_toml",
]

DEFAULT_DB = "fmc.db"
DEFAULT_GRAPH_URL = DEFAULT_BASE_URL
DEFAULT_PERMISSIONS = ("pages_messaging",)

#: Setting name -> environment variable.
ENVIRONMENT: Mapping[str, str] = {
    "page_id": "FMC_PAGE_ID",
    "page_token": "FMC_PAGE_TOKEN",
    "app_secret": "FMC_APP_SECRET",
    "verify_token": "FMC_VERIFY_TOKEN",
    "db": "FMC_DB",
    "forward_allow": "FMC_FORWARD_ALLOW",
    "graph_url": "FMC_GRAPH_URL",
    "permissions": "FMC_PERMISSIONS",
    "rate_limit": "FMC_RATE_LIMIT",
    "honour": "FMC_HONOUR",
    "utility_templates": "FMC_UTILITY_TEMPLATES",
    "encryption_keys": "FMC_ENCRYPTION_KEYS",
}

#: Settings whose values are credentials: never echoed, never taken from a flag.
SECRET_SETTINGS = frozenset({"page_token", "app_secret", "verify_token", "encryption_keys"})


def _names(value: object, setting: str) -> tuple[str, ...]:
    """A list setting from a comma-separated string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ConfigurationError(f"{setting} must be a comma-separated string or a list of strings")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(f"{setting} must contain strings only")
        if item.strip():
            names.append(item.strip())
    return tuple(names)


def _permissions(value: object) -> tuple[str, ...]:
    names = _names(value, "permissions") if value is not None else DEFAULT_PERMISSIONS
    return tuple(Permission.parse(name).value for name in names)


def _honour(value: object) -> tuple[str, ...]:
    names = _names(value, "honour")
    try:
        return tuple(sorted({Route.parse(name).value for name in names}))
    except ValueError as error:
        raise ConfigurationError(f"honour: {error}") from None


def _template_pairs(value: object) -> Iterable[tuple[object, object]]:
    if isinstance(value, Mapping):
        return value.items()
    pairs = []
    for item in _names(value, "utility_templates"):
        purpose, equals, name = item.partition("=")
        if not equals or not purpose.strip() or not name.strip():
            raise ConfigurationError(
                f"utility_templates must be purpose=template pairs, comma-separated "
                f"(e.g. post_purchase_update=order_shipped), got {item!r}"
            )
        pairs.append((purpose.strip(), name.strip()))
    return pairs


def _utility_templates(value: object) -> tuple[tuple[str, str], ...]:
    templates: dict[str, str] = {}
    for purpose, name in _template_pairs(value):
        if not isinstance(purpose, str) or not isinstance(name, str) or not name.strip():
            raise ConfigurationError(
                f"utility_templates maps a purpose to a template name, got {purpose!r} = {name!r}"
            )
        templates[Purpose.parse(purpose).value] = name.strip()
    return tuple(sorted(templates.items()))


#: Messages per second the command sends at most unless told otherwise: Meta's
#: limit for text sends from one Page.
DEFAULT_RATE_LIMIT = 300.0


def _rate_limit(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ConfigurationError("rate_limit must be a number of messages per second")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"rate_limit must be a number of messages per second, got {value!r}"
        ) from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigurationError(f"rate_limit must be a positive number, got {value!r}")
    return number


def _optional_text(value: object, setting: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConfigurationError(f"{setting} must be a string")
    text = str(value).strip()
    return text or None


def _page_id(value: object) -> str | None:
    return _optional_text(value, "page_id")


#: The fewest characters each secret may have, and what a real one looks like.
#: A value shorter than this is a placeholder or a typo, and a short secret
#: cannot be masked in output without masking ordinary words too.
SECRET_MINIMUMS: Mapping[str, tuple[int, str]] = {
    "page_token": (20, "a Page access token from Meta is over 100 characters, starting EAA"),
    "app_secret": (16, "an app secret from Meta is 32 hexadecimal characters"),
    "verify_token": (8, "choose a random string of 8 or more characters, e.g. 32 hex digits"),
}


def _secret(value: object, setting: str) -> str | None:
    text = _optional_text(value, setting)
    minimum, real = SECRET_MINIMUMS[setting]
    if text is not None and len(text) < minimum:
        raise ConfigurationError(
            f"{setting} ({ENVIRONMENT[setting]}) is {len(text)} characters, too short to be "
            f"real: {real}"
        )
    return text


def _page_token(value: object) -> str | None:
    return _secret(value, "page_token")


def _app_secret(value: object) -> str | None:
    return _secret(value, "app_secret")


def _verify_token(value: object) -> str | None:
    return _secret(value, "verify_token")


def _db(value: object) -> str:
    return _optional_text(value, "db") or DEFAULT_DB


def _forward_allow(value: object) -> tuple[str, ...]:
    return _names(value, "forward_allow")


def _encryption_keys(value: object) -> tuple[str, ...]:
    return _names(value, "encryption_keys")


def _graph_url(value: object) -> str:
    url = _optional_text(value, "graph_url") or DEFAULT_GRAPH_URL
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"graph_url must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


@attrs.frozen
class Config:
    """Everything the ``fmc`` command needs to reach a Page and its store.

    Build it with :func:`load_config`. The secrets are left out of ``repr``.

    Attributes:
        page_id: The Page's id.
        page_token: The Page access token (secret).
        app_secret: The app secret (secret): verifies webhooks, signs Graph calls.
        verify_token: The webhook handshake token (secret).
        db: The SQLite file subscribers, journals and the outbox live in.
        forward_allow: Hosts webhook deliveries may be forwarded to; empty: no forwarding.
        graph_url: The Graph API base URL (point it at a fake for tests).
        permissions: The Page's permissions the policy decides with.
        rate_limit: Messages per second at most (default 300, Meta's limit for
            text sends from one Page), or ``None`` for no limit (an empty value).
        honour: Deprecated policy routes re-enabled (``fmc.policy.Route`` values).
        utility_templates: ``(purpose, template)`` pairs: the Page's utility
            template for each purpose (``MessagingPolicy(utility_templates=)``).
        encryption_keys: The Fernet keys sealing a platform's registry, newest
            first (secret).

    Raises:
        ConfigurationError: A value of the wrong shape (the message names the
            setting, never a secret's value).
    """

    page_id: str | None = attrs.field(default=None, converter=_page_id)
    page_token: str | None = attrs.field(default=None, repr=False, converter=_page_token)
    app_secret: str | None = attrs.field(default=None, repr=False, converter=_app_secret)
    verify_token: str | None = attrs.field(default=None, repr=False, converter=_verify_token)
    db: str = attrs.field(default=DEFAULT_DB, converter=_db)
    forward_allow: tuple[str, ...] = attrs.field(default=(), converter=_forward_allow)
    graph_url: str = attrs.field(default=DEFAULT_GRAPH_URL, converter=_graph_url)
    permissions: tuple[str, ...] = attrs.field(default=None, converter=_permissions)
    rate_limit: float | None = attrs.field(default=DEFAULT_RATE_LIMIT, converter=_rate_limit)
    honour: tuple[str, ...] = attrs.field(default=(), converter=_honour)
    utility_templates: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_utility_templates
    )
    encryption_keys: tuple[str, ...] = attrs.field(
        default=(), repr=False, converter=_encryption_keys
    )

    def policy(self) -> MessagingPolicy:
        """The messaging policy these settings describe.

        Raises:
            ConfigurationError: A template name the policy refuses.
        """
        return MessagingPolicy(
            permissions=set(self.permissions),
            honour=set(self.honour),
            utility_templates=dict(self.utility_templates),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values set, for redacting any text before it is shown."""
        named = (self.page_token, self.app_secret, self.verify_token)
        return tuple(value for value in (*named, *self.encryption_keys) if value)

    def require(self, *settings: str) -> None:
        """Check that settings are set.

        Args:
            *settings: Setting names, e.g. ``"page_id"``, ``"page_token"``.

        Raises:
            ConfigurationError: One is missing; the message says where to set it.
        """
        missing = [name for name in settings if getattr(self, name) in (None, "", ())]
        if missing:
            where = "; ".join(_where(name) for name in missing)
            raise ConfigurationError(f"missing configuration: {where}")

    def page(self) -> Page:
        """The Page to act for.

        Returns:
            The :class:`~fmc.Page` (with the app secret when one is set).

        Raises:
            ConfigurationError: The Page id or token is missing or malformed.
        """
        self.require("page_id", "page_token")
        assert self.page_id is not None
        assert self.page_token is not None
        return Page(id=self.page_id, access_token=self.page_token, app_secret=self.app_secret)

    def describe(self) -> str:
        """One line saying what is configured, secrets as ``set`` or ``not set`` only."""
        secrets = ", ".join(
            f"{name} {'set' if getattr(self, name) else 'not set'}"
            for name in sorted(SECRET_SETTINGS)
        )
        return (
            f"page {self.page_id or '(not set)'}; db {self.db}; graph {self.graph_url}; "
            f"permissions {', '.join(self.permissions)}; {secrets}"
        )


def _where(setting: str) -> str:
    env = ENVIRONMENT[setting]
    if setting in SECRET_SETTINGS:
        return f"{setting} (set {env} or {setting} in the --config file)"
    flag = "--" + setting.replace("_", "-")
    return f"{setting} (pass {flag}, set {env}, or {setting} in the --config file)"


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a configuration file.

    The settings are top-level keys, or keys of an ``[fmc]`` table.

    Args:
        path: The TOML file.

    Returns:
        Setting name -> value.

    Raises:
        ConfigurationError: The file cannot be read, is not TOML, or has an
            unknown key.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(
            f"cannot read the config file {str(path)!r}: {error.strerror or error}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # tomllib's messages give a position, never the text around it.
        raise ConfigurationError(
            f"the config file {str(path)!r} is not valid TOML: {error}"
        ) from None
    table = data.get("fmc", data) if isinstance(data.get("fmc"), dict) else data
    unknown = sorted(set(table) - set(ENVIRONMENT))
    if unknown:
        raise ConfigurationError(
            f"unknown key(s) in {str(path)!r}: {', '.join(unknown)}; "
            f"known: {', '.join(ENVIRONMENT)}"
        )
    return dict(table)


def load_config(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Config:
    """Merge the three sources: flags win over the environment, which wins over the file.

    Args:
        flags: Setting name -> value from the command line (``None`` values are unset).
        environ: The environment (``os.environ``); empty values count as unset.
        config_file: A TOML file, or ``None``.

    Returns:
        The configuration.

    Raises:
        ConfigurationError: A bad value in any source, or an unreadable file.
    """
    merged: dict[str, Any] = dict(read_toml(config_file)) if config_file is not None else {}
    for setting, variable in ENVIRONMENT.items():
        value = (environ or {}).get(variable)
        if value is not None and value.strip():
            merged[setting] = value
    for setting, value in (flags or {}).items():
        if setting in SECRET_SETTINGS:
            raise ConfigurationError(f"{setting} cannot be given as a flag")
        if setting not in ENVIRONMENT:
            raise ConfigurationError(f"unknown setting {setting!r}")
        if value is not None:
            merged[setting] = value
    return Config(**merged)
