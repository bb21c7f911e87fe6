from django.urls import path

from khoshnud.web import agents, case_rules, cases, merge, notifications, views

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
    # Linking two customers by hand (web/merge.py).
    path("customers/<int:customer_id>/merge/", merge.customer_merge_view, name="customer_merge"),
    # The agents' inbox and the case page (web/cases.py).
    path("cases/", cases.case_inbox, name="case_inbox"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    # The managers' rules: automations and hand-off rules (web/case_rules.py).
    path("cases/rules/", case_rules.rule_list, name="case_rules"),
    path("cases/rules/<slug:kind>/", case_rules.rule_save, name="case_rule_save"),
    path("cases/<int:case_id>/take/", cases.case_take, name="case_take"),
    path("cases/<int:case_id>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:case_id>/status/", cases.case_status, name="case_status"),
    path("cases/<int:case_id>/priority/", cases.case_priority, name="case_priority"),
    path("cases/<int:case_id>/kind/", cases.case_kind, name="case_kind"),
    path("cases/<int:case_id>/product/", cases.case_product, name="case_product"),
    path("cases/<int:case_id>/notes/", cases.case_note, name="case_note"),
    path("cases/<int:case_id>/replies/", cases.case_reply_send, name="case_reply"),
    # Routing (web/agents.py): one's own availability; the managers' agents page.
    path("me/availability/", agents.agent_availability, name="agent_availability"),
    path("agents/", agents.agent_list, name="agent_list"),
    path("agents/<int:user_id>/", agents.agent_update, name="agent_update"),
    # Notifications (web/notifications.py): breaches and escalations for team leads.
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/read/", notifications.notification_read, name="notification_read"),
]
