"""The Django admin opens for the admin role only: managers are no longer Django staff.

Reverse is a no-op: which managers were staff before is not recorded (they could do nothing
in the admin anyway, holding no model permissions).
"""

from django.db import migrations


def managers_not_staff(apps, schema_editor):
    User = apps.get_model("auth", "User")
    User.objects.filter(
        groups__name="manager", is_superuser=False, is_staff=True
    ).exclude(groups__name="admin").update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_token_failure_counts"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(managers_not_staff, migrations.RunPython.noop)]
