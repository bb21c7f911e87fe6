"""Who may see and change which case: the one rule every door (API, web, admin) goes through.

An agent sees and changes only the cases of the teams they belong to; a manager (or admin)
sees all. Failures raise ``PermissionDenied``; the API turns it into 403.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from khoshnud.accounts.models import ROLE_RANK, Role, Team
from khoshnud.accounts.selectors import user_has_role, user_role
from khoshnud.cases.models import Case
from khoshnud.cases.selectors import team_for_kind

User = AbstractBaseUser | AnonymousUser


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """Every case the user may see: all for a manager, their teams' cases for an agent."""
    role = user_role(user)  # one query
    if role is None or user.pk is None:
        return Case.objects.none()
    if ROLE_RANK[role] >= ROLE_RANK[Role.MANAGER]:
        return Case.objects.all()
    return Case.objects.filter(team__members__id=int(user.pk))


def access_case(*, user: User, case_id: int) -> Case:
    """The case, if the user may see and change it.

    Raises ``Case.DoesNotExist`` for an unknown id and ``PermissionDenied`` for a case of a
    team the agent is not in (or a case with no team, which only managers see).
    """
    case = Case.objects.select_related("team", "assignee", "product").get(pk=case_id)
    if user_has_role(user, Role.MANAGER):
        return case
    if user_has_role(user, Role.AGENT) and _member(user, case.team_id):
        return case
    raise PermissionDenied(f"case {case_id} belongs to a team you are not in")


def access_case_kind(*, user: User, kind: str) -> Team | None:
    """The team that serves ``kind``, if the user may open a case of that kind in it.

    A manager may open any kind; an agent only a kind their own team serves.
    """
    team = team_for_kind(kind=kind)
    if user_has_role(user, Role.MANAGER):
        return team
    if team is not None and user_has_role(user, Role.AGENT) and _member(user, team.pk):
        return team
    raise PermissionDenied(f"{kind} cases belong to a team you are not in")


def _member(user: User, team_id: int | None) -> bool:
    if team_id is None or user.pk is None:
        return False
    return Team.objects.filter(pk=team_id, members__id=user.pk).exists()
