from django.urls import path

from khoshnud.web import views

app_name = "web"

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path(
        "customers/<int:customer_id>/timeline/",
        views.customer_timeline,
        name="customer_timeline",
    ),
    path(
        "customers/<int:customer_id>/interactions/<int:interaction_id>/analysis/",
        views.analysis_correct,
        name="analysis_correct",
    ),
]
