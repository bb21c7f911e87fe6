from django.urls import path

from khoshnud.feedback import views, web

app_name = "feedback"

urlpatterns = [
    # The public survey page: no login; the token is the only key (feedback.links).
    path("s/<str:token>/", views.survey_page, name="survey_page"),
    # The managers' agent ratings (feedback.web).
    path("feedback/agents/", web.agent_ratings, name="agent_ratings"),
    path("feedback/cases/<int:case_id>/delight/", web.case_delight, name="case_delight"),
    path(
        "feedback/recoveries/<int:recovery_id>/outcome/",
        web.recovery_outcome,
        name="recovery_outcome",
    ),
]
