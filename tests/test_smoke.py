from django.conf import settings


def test_settings_loaded() -> None:
    assert settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend")
