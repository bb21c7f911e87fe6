from django.urls import path

from khoshnud.engagement import views

app_name = "engagement"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
