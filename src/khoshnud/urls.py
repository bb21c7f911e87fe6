from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from khoshnud.api import api

# The admin speaks the product's name in the viewer's language (not "Django administration").
admin.site.site_header = _("Khoshnud administration")
admin.site.site_title = _("Khoshnud administration")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("khoshnud.channels.urls")),
    path("", include("khoshnud.insights.urls")),
    path("", include("khoshnud.feedback.urls")),
    path("outreach/", include("khoshnud.engagement.urls")),
    path("", include("khoshnud.web.urls")),
]

# The 404 page is templates/404.html (Django's own handler, with the request's context).
handler500 = "khoshnud.web.views.server_error"
