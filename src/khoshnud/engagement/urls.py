from django.urls import path

from khoshnud.engagement import views

app_name = "engagement"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("", views.outreach_home, name="home"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/active/", views.rule_activate, name="rule_activate"),
    path("log/", views.delivery_log, name="log"),
]
