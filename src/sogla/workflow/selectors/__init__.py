"""Read-only queries of approvals, one module per screen or question:

- ``inbox``: the tasks of an inbox tab, a page of them, the navigation's counts;
- ``start``: the routes that fit a document and who would approve along them;
- ``tasks``: one task's decision panel, the route owner's view, its references,
  where the e-mailed task link leads;
- ``route_map``: a document's approval and its route map with colours;
- ``routes``: route templates for administrators.

Every function is scoped to the user's organisation; ids of other organisations'
objects give NotFound. Lists use keyset pagination; the route map and the inbox run
a constant number of queries whatever the number of participants or tasks.
"""

from sogla.workflow.selectors.card_rows import MapRows, card_process
from sogla.workflow.selectors.inbox import (
    INBOX_VALUES,
    TABS,
    PersonValues,
    TaskCounts,
    TaskPage,
    navigation_counts,
    person_values,
    tab_rows,
    task_counts_for_user,
    task_list_for_user,
    task_values_for_user,
)
from sogla.workflow.selectors.route_map import (
    MapRound,
    MapStage,
    MapStep,
    MapTask,
    RouteMap,
    decisions_to_compare,
    process_for_document,
    process_get,
    route_map,
)
from sogla.workflow.selectors.routes import (
    RouteTemplateDetail,
    route_template_for_admin,
    route_templates_for_admin,
)
from sogla.workflow.selectors.start import (
    ProcessPreview,
    process_preview,
    routes_for_document,
)
from sogla.workflow.selectors.tasks import (
    DecisionPanel,
    can_manage_process,
    colleague_by_username,
    colleagues_by_id,
    decision_panel_of,
    task_document_for_user,
    task_for_manager,
    task_get_for_decision,
    task_with_references,
)

__all__ = [
    "INBOX_VALUES",
    "TABS",
    "DecisionPanel",
    "MapRound",
    "MapRows",
    "MapStage",
    "MapStep",
    "MapTask",
    "PersonValues",
    "ProcessPreview",
    "RouteMap",
    "RouteTemplateDetail",
    "TaskCounts",
    "TaskPage",
    "can_manage_process",
    "card_process",
    "colleague_by_username",
    "colleagues_by_id",
    "decision_panel_of",
    "decisions_to_compare",
    "navigation_counts",
    "person_values",
    "process_for_document",
    "process_get",
    "process_preview",
    "route_map",
    "route_template_for_admin",
    "route_templates_for_admin",
    "routes_for_document",
    "tab_rows",
    "task_counts_for_user",
    "task_document_for_user",
    "task_for_manager",
    "task_get_for_decision",
    "task_list_for_user",
    "task_values_for_user",
    "task_with_references",
]
