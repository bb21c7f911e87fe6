"""The Django admin app, with Khoshnud's own site (open to the admin role only)."""

from django.contrib.admin.apps import AdminConfig


class KhoshnudAdminConfig(AdminConfig):
    default_site = "khoshnud.admin_base.KhoshnudAdminSite"
