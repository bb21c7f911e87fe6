"""Invitations: one customer asked one survey, by a single-use expiring link, sent through the
customer's channel (email today) and logged as an outbound interaction. The fatigue rule
holds across all surveys: no customer is invited more than once in
``KHOSHNUD_SURVEY_FATIGUE_DAYS`` days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from khoshnud.cases.models import Case
from khoshnud.channels.email_outbound import SOURCE as EMAIL_SOURCE
from khoshnud.channels.email_outbound import EmailAdapter, email_key, message_id_domain
from khoshnud.channels.services import delivery_queue
from khoshnud.customers.models import Customer
from khoshnud.customers.selectors import customer_get
from khoshnud.feedback.links import new_secret, survey_url, token_for
from khoshnud.feedback.models import Invitation, Survey, Trigger
from khoshnud.feedback.surveys import localized, survey_ready
from khoshnud.inputs import InputError
from khoshnud.interactions.models import Channel, Direction, InteractionType
from khoshnud.interactions.services import events_ingest

# Which outbound rendering the email adapter applies (settings.KHOSHNUD_EMAIL_RENDERERS).
EMAIL_RENDER = "survey_invitation"


class FatigueRefused(Exception):
    """The fatigue rule: this customer was invited too recently (by any survey)."""

    rule = "fatigue"

    def __init__(self, *, customer_id: int, days: int, last_at: dt.datetime) -> None:
        self.customer_id, self.days, self.last_at = customer_id, days, last_at
        super().__init__(
            f"not sent, by the fatigue rule: a customer is asked at most once in {days} days "
            f"(KHOSHNUD_SURVEY_FATIGUE_DAYS), and customer {customer_id} was invited on "
            f"{last_at:%Y-%m-%d %H:%M} UTC"
        )


class SurveyInactive(Exception):
    pass


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    url: str
    sent_by: str | None  # the channel it went out on; None: the link is the caller's to give


def fatigue_days() -> int:
    return int(settings.KHOSHNUD_SURVEY_FATIGUE_DAYS)


def last_invited_at(*, customer_id: int, since: dt.datetime) -> dt.datetime | None:
    return (
        Invitation.objects.filter(customer_id=customer_id, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def invitation_create(
    *,
    survey_id: int,
    customer_id: int,
    case_id: int | None = None,
    reason: str = Trigger.MANUAL,
    now: dt.datetime | None = None,
    send: bool = True,
    order_id: int | None = None,
) -> Invited:
    """Invite a customer: check the survey and the fatigue rule, store the invitation, and
    (``send``) log and queue the email when the customer has an address. Transactional.

    ``order_id``: the purchase an after-purchase invitation asks about (its answers are about
    that order's product). Raises ``Survey.DoesNotExist``, Http404 (no customer), ``SurveyInactive``,
    ``surveys.SurveyNotReady`` (no question…), ``FatigueRefused``, ``InputError`` (no case).
    """
    now = now or timezone.now()
    survey = Survey.objects.get(pk=survey_id)
    if not survey.active:
        raise SurveyInactive(f"survey {survey.pk} is not active; activate it to send it")
    questions = survey_ready(survey)
    customer = customer_get(customer_id=customer_id)
    if case_id is not None and not Case.objects.filter(pk=case_id).exists():
        raise InputError("case_id", f"no case {case_id}")
    address = EmailAdapter().address(customer_id=customer.pk) if send else None
    with transaction.atomic():
        # One invitation at a time per customer: the fatigue check cannot race.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        days = fatigue_days()
        if days > 0:
            last = last_invited_at(customer_id=customer.pk, since=now - dt.timedelta(days=days))
            if last is not None:
                raise FatigueRefused(customer_id=customer.pk, days=days, last_at=last)
        invitation = Invitation.objects.create(
            survey=survey,
            customer=customer,
            case_id=case_id,
            order_id=order_id,
            secret=new_secret(),
            channel=Channel.EMAIL if address else Channel.API,
            reason=reason,
            locale=customer.locale or "en",
            created_at=now,
            expires_at=now + dt.timedelta(days=max(1, survey.link_valid_days)),
        )
        url = survey_url(token_for(invitation_id=invitation.pk, secret=invitation.secret))
        if address:
            _log_and_queue(invitation, survey, localized(questions[0].texts, invitation.locale),
                           address, now)  # fmt: skip
    return Invited(invitation, url, Channel.EMAIL if address else None)


def _log_and_queue(
    invitation: Invitation, survey: Survey, question: str, address: str, now: dt.datetime
) -> None:
    """The outbound interaction (without the link: the email renderer adds it when sending,
    so the log never holds a working link) and its queued delivery."""
    with translation.override(invitation.locale):
        subject = localized(survey.titles, invitation.locale) or _("How did we do?")
        text = _("Survey invitation: %(question)s") % {"question": question}
    message_id = make_msgid(idstring="survey", domain=message_id_domain())
    [result] = events_ingest(
        events=[
            {
                "source": EMAIL_SOURCE,
                "external_id": email_key(message_id),
                "channel": Channel.EMAIL,
                "direction": Direction.OUTBOUND,
                "type": InteractionType.NOTIFICATION,
                "occurred_at": now.isoformat(),
                "text": text,
                "metadata": {
                    "email": {
                        "message_id": message_id,
                        "to": address,
                        "from": str(settings.DEFAULT_FROM_EMAIL),
                        "subject": subject,
                        "lang": invitation.locale,
                        "render": EMAIL_RENDER,
                    },
                    "survey": {"survey_id": invitation.survey_id, "invitation_id": invitation.pk},
                },
                "customer": {"id": invitation.customer_id},
            }
        ]
    )
    if result.status != "created" or result.id is None:
        raise InputError("customer", result.error or "the invitation could not be logged")
    Invitation.objects.filter(pk=invitation.pk).update(interaction_id=result.id)
    invitation.interaction_id = result.id
    delivery_queue(interaction_id=result.id, channel=Channel.EMAIL, address=address)
