"""Settings come from the environment, are validated, and round-trip to child processes."""
import pytest

from bot.settings import Settings, SettingError


def test_defaults_are_the_embedded_loopback_profile():
    settings = Settings.from_env({})
    assert (settings.rasa_host, settings.action_host, settings.gateway_host) == ("127.0.0.1",) * 3
    assert settings.rasa_api_token is None


def test_settings_round_trip_through_the_environment():
    settings = Settings(rasa_port=6005, rasa_api_token="t", cors_origins=("https://a.example",),
                        frame_ancestors=("'self'", "https://b.example"))
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    "env, named",
    [
        ({"HELPLINE_RASA_PORT": "http"}, "HELPLINE_RASA_PORT"),
        ({"HELPLINE_GATEWAY_PORT": "70000"}, "HELPLINE_GATEWAY_PORT"),
        ({"HELPLINE_RASA_HOST": "0.0.0.0"}, "HELPLINE_RASA_HOST"),
        ({"HELPLINE_ACTION_HOST": "10.0.0.5"}, "HELPLINE_ACTION_HOST"),
        ({"HELPLINE_RASA_TIMEOUT": "-1"}, "HELPLINE_RASA_TIMEOUT"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(env, named):
    with pytest.raises(SettingError, match=named):
        Settings.from_env(env)
