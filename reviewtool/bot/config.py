"""The bot's configuration file (TOML): SMTP, sender, recipients policy, reports, pacing.

Example::

    [smtp]
    host = "smtp.example.org"
    port = 587
    tls = "starttls"            # starttls (default) | ssl | none
    # ca_file = "/etc/ssl/private-ca.pem"   # trust this CA instead of the system's
    username = "bot"
    password_env = "REVIEWTOOL_SMTP_PASSWORD"   # or password_file = "/etc/reviewtool/smtp"

    [bot]
    from = "reviewtool bot <bot@example.org>"
    cc = "all"                  # none | lists | all
    lists = ["kvm@vger.kernel.org"]
    extra_cc = []
    settle_seconds = 3600
    per_hour = 30
    reply_when_clean = true
    max_age_days = 14           # older series are recorded, never answered (0: no limit)
    report_dir = "/srv/www/reviews"
    base_url = "https://reviews.example.org"

The password is read from the environment or a file, never from the TOML itself, and it is
never part of a repr or a log line. It is never sent in plaintext: with `tls = "none"` and a
username the config is refused unless `allow_plaintext_auth = true` says so.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.errors import InputError, UsageError

TLS_MODES = ("none", "starttls", "ssl")
CC_POLICIES = ("none", "lists", "all")

DEFAULT_SMTP_PORT = 25
# A revision that is still incomplete this long after its first mail is reviewed as it is.
DEFAULT_SETTLE_SECONDS = 3600.0
# Kernel lists frown on bots that flood; a robot that answers 30 series an hour is plenty.
DEFAULT_PER_HOUR = 30
# First retry after a failed send, doubling each time up to the cap.
DEFAULT_RETRY_BASE_SECONDS = 30.0
DEFAULT_RETRY_MAX_SECONDS = 3600.0
DEFAULT_MAX_ATTEMPTS = 8
# A reply whose send was cut short (accepted or not, we cannot know) waits this long for its
# copy to come back through the list before it is sent again with the same Message-ID.
DEFAULT_ECHO_WAIT_SECONDS = 300.0
DEFAULT_SMTP_TIMEOUT = 60.0
# Series posted longer ago than this are recorded but not answered: a bot pointed at years
# of archive for the first time must not answer all of it. 0 turns the limit off.
DEFAULT_MAX_AGE_DAYS = 14.0


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to submit replies."""

    host: str = "localhost"
    port: int = DEFAULT_SMTP_PORT
    tls: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_SMTP_TIMEOUT
    allow_plaintext_auth: bool = False
    ca_file: Path | None = None


@dataclass(frozen=True)
class BotConfig:
    """Everything the bot needs besides its sources and state file."""

    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    from_addr: str = "reviewtool <reviewtool@localhost>"
    cc: str = "all"
    lists: tuple[str, ...] = ()
    extra_cc: tuple[str, ...] = ()
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    per_hour: int = DEFAULT_PER_HOUR
    reply_when_clean: bool = True
    report_dir: Path | None = None
    base_url: str | None = None
    retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    echo_wait_seconds: float = DEFAULT_ECHO_WAIT_SECONDS
    max_age_days: float = DEFAULT_MAX_AGE_DAYS

    def with_overrides(
        self, smtp: str | None = None, from_addr: str | None = None, tls: str | None = None
    ) -> BotConfig:
        """The config with `--smtp HOST:PORT`, `--smtp-tls MODE` and `--from ADDR` applied."""
        config = self
        if smtp:
            host, port = parse_host_port(smtp)
            config = replace(config, smtp=replace(config.smtp, host=host, port=port))
        if tls:
            if tls not in TLS_MODES:
                raise UsageError(f"--smtp-tls must be one of {', '.join(TLS_MODES)}")
            config = replace(config, smtp=replace(config.smtp, tls=tls))
        if from_addr:
            config = replace(config, from_addr=from_addr)
        return config


def parse_host_port(text: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`, or a bare host) -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise UsageError(f"--smtp {text!r}: expected HOST:PORT")
    if not port_text:
        return host, DEFAULT_SMTP_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--smtp {text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


def load_config(path: Path | None, environ: dict[str, str] | None = None) -> BotConfig:
    """Read a TOML config file; None gives the defaults."""
    if path is None:
        return BotConfig()
    environ = dict(os.environ) if environ is None else environ
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: config file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return _from_mapping(data, Path(path), environ)


def _from_mapping(data: dict, path: Path, environ: dict[str, str]) -> BotConfig:
    smtp_data = _table(data, "smtp", path)
    bot = _table(data, "bot", path)
    unknown = set(data) - {"smtp", "bot"}
    if unknown:
        raise InputError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    tls = str(smtp_data.get("tls", "starttls"))
    if tls not in TLS_MODES:
        raise InputError(f"{path}: smtp.tls must be one of {', '.join(TLS_MODES)}")
    # Only an explicit choice moves the port: a config without `tls` keeps port 25.
    default_port = {"ssl": 465, "starttls": 587}.get(smtp_data.get("tls"), DEFAULT_SMTP_PORT)
    allow_plaintext_auth = smtp_data.get("allow_plaintext_auth", False)
    if not isinstance(allow_plaintext_auth, bool):
        raise InputError(f"{path}: smtp.allow_plaintext_auth must be true or false")
    if tls == "none" and smtp_data.get("username") and not allow_plaintext_auth:
        raise InputError(
            f'{path}: smtp.tls = "none" would send the password in plaintext; '
            "use starttls or ssl, or set smtp.allow_plaintext_auth = true"
        )
    ca_file = smtp_data.get("ca_file")
    smtp = SmtpConfig(
        host=str(smtp_data.get("host", "localhost")),
        port=_int(smtp_data, "port", default_port, path, "smtp"),
        tls=tls,
        username=smtp_data.get("username"),
        password=_password(smtp_data, path, environ),
        timeout=_number(smtp_data, "timeout", DEFAULT_SMTP_TIMEOUT, path, "smtp"),
        allow_plaintext_auth=allow_plaintext_auth,
        ca_file=(path.parent / str(ca_file)).resolve() if ca_file else None,
    )
    cc = str(bot.get("cc", "all"))
    if cc not in CC_POLICIES:
        raise InputError(f"{path}: bot.cc must be one of {', '.join(CC_POLICIES)}")
    report_dir = bot.get("report_dir")
    if report_dir is not None:
        report_dir = (path.parent / str(report_dir)).resolve()
    return BotConfig(
        smtp=smtp,
        from_addr=str(bot.get("from", BotConfig.from_addr)),
        cc=cc,
        lists=tuple(str(x).lower() for x in bot.get("lists", ())),
        extra_cc=tuple(str(x) for x in bot.get("extra_cc", ())),
        settle_seconds=_number(bot, "settle_seconds", DEFAULT_SETTLE_SECONDS, path, "bot"),
        per_hour=_int(bot, "per_hour", DEFAULT_PER_HOUR, path, "bot"),
        reply_when_clean=bool(bot.get("reply_when_clean", True)),
        report_dir=report_dir,
        base_url=bot.get("base_url"),
        retry_base_seconds=_number(
            bot, "retry_base_seconds", DEFAULT_RETRY_BASE_SECONDS, path, "bot"
        ),
        retry_max_seconds=_number(bot, "retry_max_seconds", DEFAULT_RETRY_MAX_SECONDS, path, "bot"),
        max_attempts=_int(bot, "max_attempts", DEFAULT_MAX_ATTEMPTS, path, "bot"),
        echo_wait_seconds=_number(bot, "echo_wait_seconds", DEFAULT_ECHO_WAIT_SECONDS, path, "bot"),
        max_age_days=_number(bot, "max_age_days", DEFAULT_MAX_AGE_DAYS, path, "bot"),
    )


def _table(data: dict, name: str, path: Path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: [{name}] must be a table")
    return value


def _number(table: dict, key: str, default: float, path: Path, section: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(f"{path}: {section}.{key} must be a number >= 0")
    return float(value)


def _int(table: dict, key: str, default: int, path: Path, section: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{path}: {section}.{key} must be a whole number >= 0")
    return value


def _password(smtp: dict, path: Path, environ: dict[str, str]) -> str | None:
    """The SMTP password from the named environment variable or file; never from the TOML."""
    if "password" in smtp:
        raise InputError(
            f"{path}: put the SMTP password in the environment (smtp.password_env) "
            "or a file (smtp.password_file), not in the config"
        )
    if "password_env" in smtp:
        name = str(smtp["password_env"])
        if name not in environ:
            raise InputError(f"{path}: smtp.password_env names {name}, which is not set")
        return environ[name]
    if "password_file" in smtp:
        secret = (path.parent / str(smtp["password_file"])).resolve()
        try:
            return secret.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(f"{secret}: cannot read smtp.password_file: {exc.strerror}") from None
    return None
