"""Daily rollups: the dashboard's figures summed per local day and per dimension value.

One row per (day, dimension, value). ``dimension`` "" with ``value`` "" is the whole business;
the others are ``channel``, ``kind``, ``team``, ``agent``, ``tier``, ``product`` and ``type``
(interaction type). Every column is a sum, so any period is the sum of its days; means are
kept as sums and counts. Rows are derived data: ``khoshnud insights rebuild`` recreates them
from the cases, interactions and answers, and the periodic job ``insights.refresh`` keeps
them current (docs/insights.md).
"""

from __future__ import annotations

from django.db import models


class DailyFigures(models.Model):
    day = models.DateField()  # the local day in the business's time zone (settings.TIME_ZONE)
    dimension = models.CharField(max_length=16, blank=True, default="")
    value = models.CharField(max_length=64, blank=True, default="")
    # Cases (definitions in docs/metrics.md, the same as khoshnud.cases.metrics).
    opened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    first_response_n = models.IntegerField(default=0)
    first_response_us = models.BigIntegerField(default=0)  # sum of microseconds
    resolution_n = models.IntegerField(default=0)
    resolution_us = models.BigIntegerField(default=0)
    first_response_judged = models.IntegerField(default=0)
    first_response_met = models.IntegerField(default=0)
    resolution_judged = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    # The interaction log.
    interactions = models.IntegerField(default=0)
    # Survey answers (docs/metrics.md, "Feedback": the same counts feedback.metrics uses).
    promoters = models.IntegerField(default=0)
    passives = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    csat_n = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)
    ces_n = models.IntegerField(default=0)
    ces_total = models.IntegerField(default=0)
    # Verdicts of the cases resolved that day, and care follow-ups opened that day.
    verdicts = models.IntegerField(default=0)
    delighted = models.IntegerField(default=0)
    recoveries_judged = models.IntegerField(default=0)  # the customer answered again
    recoveries_won = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dimension", "value", "day"], name="insights_day_key")
        ]
        indexes = [models.Index(fields=["day"], name="insights_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value}"


class RollupState(models.Model):
    """One row: when the rollups last caught up (the refresh job reads from there)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    # The highest interaction and answer ids seen: new rows are found by the primary key (the
    # log has no index on created_at), looking back REFRESH_ID_OVERLAP ids.
    interaction_id = models.BigIntegerField(default=0)
    response_id = models.BigIntegerField(default=0)
    # The highest case id whose product was looked at (cases/products.py infers the rest).
    case_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rollups refreshed {self.refreshed_at}"
