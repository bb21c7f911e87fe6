"""The Django admin app, with Khoshnud's own site (open to the admin role only), and the
third-party apps it lists, named in the viewer's language."""

from axes.apps import AppConfig as AxesConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class KhoshnudAdminConfig(AdminConfig):
    default_site = "khoshnud.admin_base.KhoshnudAdminSite"


class LoginThrottlingConfig(AxesConfig):
    """django-axes under a name in the viewer's language (its section in the admin)."""

    verbose_name = _("Login throttling")


class TaskQueueConfig(TasksAppConfig):
    """The database task queue under a name in the viewer's language."""

    verbose_name = _("Background tasks")  # type: ignore[assignment]
