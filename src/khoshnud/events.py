"""The names of what happens in Khoshnud, in one module.

Pipeline steps, audit rows and (later) outbound webhooks refer to these constants, never to
string literals of their own, so a reader can find every listener of an event from here.
"""

from __future__ import annotations

# New interactions were stored (ingestion API, CSV import, orders, replies, notes). The steps
# listed in settings.KHOSHNUD_INTERACTION_PIPELINE run, in order, with their ids after commit.
INTERACTIONS_STORED = "interactions.stored"

# A case's history (cases.CaseEvent.action).
CASE_OPENED = "case.opened"
CASE_PRIORITY_RAISED = "case.priority_raised"
CASE_FIRST_RESPONSE = "case.first_response"
CASE_REPLIED = "case.replied"
CASE_ASSIGNED = "case.assigned"
CASE_ROUTED = "case.routed"  # automatic assignment, or why there was none
CASE_STATUS_CHANGED = "case.status_changed"
CASE_PRIORITY_CHANGED = "case.priority_changed"
CASE_HANDED_OFF = "case.handed_off"
CASE_PRODUCT_CHANGED = "case.product_changed"  # set by hand (cases/products.py)
CASE_NOTE_ADDED = "case.note_added"
CASE_BREACHED = "case.breached"  # the breach scan found a target missed (cases/sla.py)
CASE_REMINDED = "case.reminded"  # an automation reminded the customer (cases/rules.py)
CASE_ESCALATED = "case.escalated"  # an automation escalated an unassigned case
CASE_FOLLOW_UP = "case.follow_up"  # a hand-off rule opened a care follow-up of this case
# What counts as a hand-off (metrics and the case page): a kind change, a care follow-up.
HANDOFF_ACTIONS = (CASE_HANDED_OFF, CASE_FOLLOW_UP)

# An agent's routing profile (audit log actions; docs/routing.md).
AGENT_AVAILABILITY_CHANGED = "agent.availability_changed"
AGENT_ROUTING_CHANGED = "agent.routing_changed"
