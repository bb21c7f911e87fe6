"""Test settings: the real settings, with tasks run in-process when their transaction commits."""

from khoshnud.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}
KHOSHNUD_LANGUAGE_BACKLOG_RECHECK_SECONDS = 0  # every check reads the database in tests
KHOSHNUD_CASE_CATALOG_CACHE_SECONDS = 0  # the case step loads the catalog each time in tests
