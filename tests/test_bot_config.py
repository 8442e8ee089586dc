"""The bot's TOML config: SMTP, credentials from the environment or a file, overrides."""

from __future__ import annotations

import pytest

from reviewtool.bot.config import BotConfig, load_config, parse_host_port
from reviewtool.errors import InputError, UsageError


def write(tmp_path, text: str):
    path = tmp_path / "bot.toml"
    path.write_text(text)
    return path


def test_full_config_is_read_and_password_comes_from_the_environment(tmp_path):
    path = write(
        tmp_path,
        """
[smtp]
host = "smtp.example.org"
tls = "starttls"
username = "robot"
password_env = "RT_SMTP_PW"

[bot]
from = "KVM review bot <bot@example.org>"
cc = "lists"
lists = ["KVM@vger.kernel.org", "@lists.infradead.org"]
settle_seconds = 1800
per_hour = 12
reply_when_clean = false
report_dir = "www"
base_url = "https://rv.example.org"
""",
    )
    config = load_config(path, environ={"RT_SMTP_PW": "s3cret-value"})
    assert config.smtp.host == "smtp.example.org" and config.smtp.port == 587
    assert config.smtp.password == "s3cret-value"
    assert config.lists == ("kvm@vger.kernel.org", "@lists.infradead.org")
    assert config.settle_seconds == 1800 and config.per_hour == 12
    assert config.reply_when_clean is False
    assert config.report_dir == (tmp_path / "www").resolve()
    # The secret never shows up in a repr (and so in no log line built from one).
    assert "s3cret-value" not in repr(config)


def test_password_file_is_read_relative_to_the_config(tmp_path):
    (tmp_path / "pw").write_text("from-a-file\n")
    path = write(tmp_path, '[smtp]\nusername = "u"\npassword_file = "pw"\n')
    assert load_config(path, environ={}).smtp.password == "from-a-file"


def test_password_written_in_the_config_is_refused(tmp_path):
    path = write(tmp_path, '[smtp]\npassword = "plain"\n')
    with pytest.raises(InputError, match="password_env"):
        load_config(path, environ={})


def test_unset_password_variable_is_a_clear_error(tmp_path):
    path = write(tmp_path, '[smtp]\npassword_env = "NOT_SET_ANYWHERE"\n')
    with pytest.raises(InputError, match="NOT_SET_ANYWHERE"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    "text, message",
    [
        ('[smtp]\ntls = "maybe"\n', "smtp.tls"),
        ('[bot]\ncc = "everyone"\n', "bot.cc"),
        ("[bot]\nper_hour = -1\n", "per_hour"),
        ('[bot]\nsettle_seconds = "soon"\n', "settle_seconds"),
        ("[mail]\n", "unknown section"),
        ("not toml = = =\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_setting(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_command_line_overrides_smtp_and_from():
    config = BotConfig().with_overrides(smtp="mail.example.org:2525", from_addr="x <x@y.org>")
    assert (config.smtp.host, config.smtp.port) == ("mail.example.org", 2525)
    assert config.from_addr == "x <x@y.org>"


def test_host_port_forms():
    assert parse_host_port("[::1]:2525") == ("::1", 2525)
    assert parse_host_port("relay") == ("relay", 25)
    with pytest.raises(UsageError):
        parse_host_port("relay:http")


def test_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "absent.toml")
