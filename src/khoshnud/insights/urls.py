from django.urls import path

from khoshnud.insights import views

app_name = "insights"

urlpatterns = [
    path("insights/", views.insights_dashboard, name="dashboard"),
    path("insights/rows/", views.insights_rows, name="rows"),
    path("insights/export.csv", views.insights_export, name="export"),
]
