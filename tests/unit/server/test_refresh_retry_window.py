"""The refresh retry window (`FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS`): a number, bounded."""

import pytest

from server.config import ConfigError, build_config

KEY = {"SECRET_KEY": "k" * 40}


def test_the_window_defaults_to_a_minute(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS", raising=False)
    assert build_config(str(tmp_path), KEY)["REFRESH_RETRY_WINDOW_SECONDS"] == 60


def test_the_window_from_the_environment_is_a_number(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS", "30")
    assert build_config(str(tmp_path), KEY)["REFRESH_RETRY_WINDOW_SECONDS"] == 30


@pytest.mark.parametrize("value", ["-1", "601", "soon"])
def test_a_window_out_of_bounds_is_refused_at_start_up(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS", value)
    with pytest.raises(ConfigError, match="FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS"):
        build_config(str(tmp_path), KEY)
