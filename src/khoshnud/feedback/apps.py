from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "khoshnud.feedback"
    label = "feedback"
    verbose_name = _("Customer feedback")

    def ready(self) -> None:
        from khoshnud.cases.signals import case_resolved
        from khoshnud.customers.references import customer_reference_register
        from khoshnud.feedback.models import Invitation, Recovery, SurveyResponse
        from khoshnud.feedback.receivers import on_case_resolved
        from khoshnud.feedback.services import answers_erase_comments, recoveries_erase_notes
        from khoshnud.feedback.tasks import surveys_sweep
        from khoshnud.ops.periodic import register_periodic

        case_resolved.connect(on_case_resolved, dispatch_uid="feedback.case_resolved")
        register_periodic("feedback.surveys_sweep", every=300, task=surveys_sweep)
        # A merged customer's answers and invitations go to the survivor; an erasure blanks
        # the comments (the scores stay: they hold nothing personal and the metrics need them).
        customer_reference_register(
            name="survey answers", model=SurveyResponse, erase=answers_erase_comments
        )
        customer_reference_register(
            name="survey invitations",
            model=Invitation,
            erase=None,
            keep="an invitation holds no personal text (a survey, a date, a digest)",
        )
        customer_reference_register(
            name="care follow-ups", model=Recovery, erase=recoveries_erase_notes
        )
