from django.urls import path

from khoshnud.channels import views

app_name = "channels"

urlpatterns = [
    # The providers' webhooks: no session, no token; the provider's signature authenticates.
    path("hooks/<str:slug>", views.webhook, name="webhook"),
    path("channels/accounts/", views.account_list, name="account_list"),
    path("channels/accounts/add/", views.account_add, name="account_add"),
    path("channels/accounts/<int:account_id>/test/", views.account_test, name="account_test"),
    path("channels/accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
    path("channels/accounts/<int:account_id>/switch/", views.account_switch, name="account_switch"),
    path("channels/accounts/<int:account_id>/delete/", views.account_remove, name="account_delete"),
]
