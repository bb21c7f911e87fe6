from django.urls import path

from khoshnud.feedback import views

app_name = "feedback"

urlpatterns = [
    # The public survey page: no login; the token is the only key (feedback.links).
    path("s/<str:token>/", views.survey_page, name="survey_page"),
]
