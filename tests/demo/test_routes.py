"""The demo route templates (S1-S8): valid for the demo organisation, and they run.

Pure tests: the route files and the organisation are read from the demo JSON, the
engine runs each story with a resolver that answers from the same JSON (roles,
explicit managers, department heads, counterparty contacts), so a change to the
demo organisation that breaks a route shows up here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sogla.demo.schema import DATA_DIR, OrganisationBundle, read_bundle
from sogla.engine import effects as fx
from sogla.engine.calendar import WorkCalendar
from sogla.engine.commands import Decide, Resubmit, Start, TimerFired
from sogla.engine.conditions import parse_condition, referenced_fields
from sogla.engine.definition import Action, Assignee, RouteDefinition
from sogla.engine.errors import FieldsRequired
from sogla.engine.run import Context, Unresolved, handle
from sogla.engine.states import Participant, ProcessState, ProcessStatus, TaskRun
from sogla.engine.validation import DERIVED_FACTS, OrgFacts, parse_route, validate_route

ORG_DIR = DATA_DIR / "argo"
BUNDLE: OrganisationBundle = read_bundle(ORG_DIR)
# The route files as the demo reads them: from the template library (sogla.starter),
# made for the demo organisation's departments.
ROUTES = {r.template.key: r.model_dump(mode="json") for r in BUNDLE.routes}
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday

ROUTE_FILES = {
    "contract-short": "contract",
    "contract-full": "contract",
    "contract-external": "contract",
    "theatre-contract": "theatre_contract",
    "payment": "payment",
    "absence": "absence",
    "hiring": "hiring",
    "article": "article",
    "incoming-letter": "incoming_letter",
    "outgoing-letter": "outgoing_letter",
}


def read_route_file(key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(ROUTES[key]))
    return data


def org_facts(doc_type: str) -> OrgFacts:
    """What the workflow checks a definition against, built from the demo JSON."""
    org = BUNDLE.organisation
    (type_data,) = [t for t in BUNDLE.document_types if t.key == doc_type]
    return OrgFacts(
        roles=frozenset(r.key for r in org.roles),
        usernames=frozenset(u.username for u in org.users),
        departments=frozenset(d.code for d in org.departments),
        statuses=frozenset(s.key for s in type_data.statuses),
        fields={f.key: f.kind for f in type_data.fields},
    )


def definition_of(key: str) -> RouteDefinition:
    route, problems = parse_route(read_route_file(key)["definition"])
    assert problems == []
    assert route is not None
    return route


# --- the files ---------------------------------------------------------------------


def test_every_story_has_its_route_file_and_nothing_else() -> None:
    assert set(ROUTES) == set(ROUTE_FILES)


@pytest.mark.parametrize("key", sorted(ROUTE_FILES))
def test_the_route_validates_against_the_demo_organisation(key: str) -> None:
    data = read_route_file(key)
    assert set(data) == {"template", "definition"}
    template = data["template"]
    assert set(template) == {
        "key", "name_ru", "name_en", "doc_type", "suggest_when", "owner", "order",
    }  # fmt: skip
    assert template["key"] == key == data["definition"]["key"]
    assert template["doc_type"] == ROUTE_FILES[key]
    facts = org_facts(template["doc_type"])
    assert [str(p) for p in validate_route(data["definition"], facts)] == []
    assert template["owner"] in facts.usernames
    assert template["name_ru"]
    assert template["name_en"]
    if template["suggest_when"] is not None:
        condition = parse_condition(template["suggest_when"])
        assert referenced_fields(condition) <= set(facts.fields) | DERIVED_FACTS


def test_the_routes_have_distinct_orders() -> None:
    orders = [read_route_file(k)["template"]["order"] for k in ROUTE_FILES]
    assert len(set(orders)) == len(orders)
    assert all(isinstance(o, int) for o in orders)


def test_every_stage_and_step_is_named_in_both_languages() -> None:
    unnamed = []
    for key in ROUTE_FILES:
        route = definition_of(key)
        names = [(key, route.name)]
        for stage in route.stages:
            names.append((f"{key}.{stage.key}", stage.name))
            names.extend((f"{key}.{stage.key}.{s.key}", s.name) for s in stage.steps)
        unnamed += [where for where, name in names if not (name.ru and name.en)]
    assert unnamed == []


def test_the_contract_variants_are_suggested_by_the_approval_type() -> None:
    suggested = {
        key: read_route_file(key)["template"]["suggest_when"]
        for key in ("contract-short", "contract-full", "contract-external")
    }
    assert suggested == {
        f"contract-{kind}": {"field": "approval_type", "op": "eq", "value": kind}
        for kind in ("short", "full", "external")
    }


# --- a resolver and a driver built from the demo organisation ----------------------


@dataclass
class DemoDirectory:
    """Finds people the way the workflow does, from the demo organisation's JSON."""

    initiator: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    contacts: Sequence[str] = ()

    def __post_init__(self) -> None:
        org = BUNDLE.organisation
        self.users = {u.username: u for u in org.users}
        self.heads = {d.code: d.head for d in org.departments}
        self.parents = {d.code: d.parent for d in org.departments}
        self.roles: dict[str, list[str]] = {}
        for user in org.users:
            for role in user.roles:
                self.roles.setdefault(role, []).append(user.username)

    def manager_of(self, username: str) -> str | None:
        """The explicit manager, else the nearest department head who is not oneself."""
        user = self.users[username]
        if user.manager:
            return user.manager
        department = user.department
        while department is not None:
            head = self.heads[department]
            if head and head != username:
                return head
            department = self.parents[department]
        return None

    def department_of(self, username: str) -> str:
        department = self.users[username].department
        assert department is not None
        return department

    def __call__(self, assignee: Assignee) -> Sequence[Participant] | Unresolved:
        people: list[str] = []
        if assignee.user:
            people = [assignee.user]
        elif assignee.role:
            people = self.roles.get(assignee.role, [])
        elif assignee.manager_of:
            who = (
                self.initiator
                if assignee.manager_of == "initiator"
                else str(self.facts.get(assignee.manager_of) or "")
            )
            for _ in range(assignee.levels):
                boss = self.manager_of(who) if who else None
                if boss is None:
                    return Unresolved("no manager")
                who = boss
            people = [who]
        elif assignee.department_head:
            code = (
                self.department_of(self.initiator)
                if assignee.department_head == "initiator"
                else assignee.department_head
            )
            head = self.heads.get(code)
            people = [head] if head else []
        elif assignee.department_head_field:
            head = self.heads.get(str(self.facts.get(assignee.department_head_field)))
            people = [head] if head else []
        elif assignee.user_field or assignee.users_field:
            value = self.facts.get(assignee.user_field or assignee.users_field or "")
            people = value if isinstance(value, list) else [value] if value else []
        elif assignee.initiator:
            people = [self.initiator]
        elif assignee.counterparty_contacts:
            if not self.contacts:
                return Unresolved("the counterparty has no contacts")
            return [Participant.guest(e) for e in self.contacts]
        elif assignee.guests:
            return [Participant.guest(e) for e in assignee.guests]
        if not people:
            return Unresolved("nobody found")
        return [Participant.user(u) for u in people]


class Story:
    """One process of a demo route, driven as the workflow would drive it."""

    def __init__(
        self,
        key: str,
        initiator: str,
        values: Mapping[str, Any] | None = None,
        *,
        category: str | None = None,
        contacts: Sequence[str] = (),
    ) -> None:
        self.definition = definition_of(key)
        self.initiator = initiator
        self.directory = DemoDirectory(initiator, contacts=contacts)
        self.facts: dict[str, Any] = {
            **(values or {}),
            "initiator.username": initiator,
            "initiator.department": self.directory.department_of(initiator),
        }
        if category is not None:
            self.facts["counterparty.category"] = category
        self.now = T0
        self.files = "v1"
        self.state: ProcessState | None = None
        self.effects: list[fx.Effect] = []
        self.opened: list[tuple[str, str, str]] = []  # (stage, step, who), in order
        self._requests = 0

    def run(self, command: Any) -> None:
        # The resolver sees the answers of the decision being handled, as conditions
        # do inside the engine: a user field filled in by a request_info step names
        # the assignee of the next stage (S6: the designer).
        answers = command.fields if isinstance(command, Decide) else {}
        self.directory.facts = {**self.facts, **answers}
        ctx = Context(
            now=self.now,
            facts=self.facts,
            calendar=WorkCalendar(),
            resolve=self.directory,
            files_sha256=self.files,
        )
        result = handle(self.definition, self.state, command, ctx)
        self.state = ProcessState.from_dict(result.state.to_dict())
        self.effects.extend(result.effects)
        for effect in result.effects:
            if isinstance(effect, fx.OpenTask):
                self.opened.append((effect.stage, effect.step, effect.participant.id))
            if isinstance(effect, fx.SetFields):
                self.facts.update(effect.values)

    @property
    def s(self) -> ProcessState:
        assert self.state is not None
        return self.state

    def start(self) -> Story:
        self.run(Start(Participant.user(self.initiator)))
        return self

    def stage_state(self, stage: str) -> str | None:
        run = self.s.stage_run(stage)
        return None if run is None else run.state.value

    def open(self) -> list[tuple[str, str, str]]:
        return [(t.stage, t.step, t.participant.id) for t in self.s.open_task_runs()]

    def task(self, who: str, step: str | None = None) -> TaskRun:
        found = [
            t
            for t in self.s.open_task_runs()
            if t.participant.id == who and (step is None or t.step == step)
        ]
        assert len(found) == 1, (who, step, self.open())
        return found[0]

    def decide(
        self,
        who: str,
        outcome: str = "approve",
        *,
        step: str | None = None,
        comment: str = "",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        task = self.task(who, step)
        self._requests += 1
        self.now += timedelta(hours=2)
        if not comment and outcome in {"return", "reject", "approve_with_remarks"}:
            comment = "see the remarks"
        self.run(
            Decide(
                task_id=task.id,
                actor=task.participant,
                outcome=outcome,
                comment=comment,
                request_id=f"req-{self._requests}",
                files_sha256=self.files,
                fields=dict(fields or {}),
            )
        )

    def approve_each(self, outcome: str = "approve") -> list[tuple[str, str, str]]:
        """Decide the only open task until the process ends; who was asked."""
        asked = []
        while self.s.status is ProcessStatus.RUNNING:
            (task,) = self.s.open_task_runs()
            asked.append((task.stage, task.step, task.participant.id))
            self.decide(task.participant.id, outcome)
        return asked

    def actions(self) -> list[Action]:
        return [e.action for e in self.effects if isinstance(e, fx.RunAction)]

    def statuses(self) -> list[str | None]:
        """Status changes in order: by meaning from the engine, by key from actions."""
        found: list[str | None] = []
        for e in self.effects:
            if isinstance(e, fx.SetStatus):
                found.append(e.key or e.meaning)
            elif isinstance(e, fx.RunAction) and e.action.set_status:
                found.append(e.action.set_status)
        return found


CONTRACT = {"approval_type": "full", "amount": "1250000.00", "end_date": "2027-03-01"}
FULL_CHAIN_START = [("manager", "manager"), ("lawyer", "lawyer")]


# --- S1: contracts -----------------------------------------------------------------


def test_s1_short_goes_straight_to_the_general_director() -> None:
    story = Story("contract-short", "manager", {**CONTRACT, "approval_type": "short"})
    story.start()
    assert story.approve_each() == [("director", "ceo", "director")]
    assert story.s.status is ProcessStatus.APPROVED
    assert story.actions() == [
        Action(set_status="approved"),
        Action(file_to="{department}/Контрагенты/{counterparty}"),
        Action(
            remind={
                "before_field": "end_date",
                "days": 30,
                "notify": ["field:responsible"],
            }
        ),
    ]
    assert story.statuses()[-2:] == ["success", "approved"]


@pytest.mark.parametrize(
    ("initiator", "expected"),
    [
        # sales: the initiator's manager is the head of sales; extra: executive director
        (
            "manager",
            [
                ("manager", "manager", "commercial"),
                ("lawyer", "lawyer", "lawyer"),
                ("accountant", "accountant", "accountant"),
                ("department", "executive", "executive"),
                ("deputy", "deputy", "deputy"),
                ("director", "ceo", "director"),
                ("signing", "sign", "director"),
            ],
        ),
        # engineering: the chief engineer is the department's approver too; they
        # approved as the manager, so that approval carries over (asked once a
        # round, ``duplicates: merge``)
        (
            "technician",
            [
                ("manager", "manager", "engineer"),
                ("lawyer", "lawyer", "lawyer"),
                ("accountant", "accountant", "accountant"),
                ("deputy", "deputy", "deputy"),
                ("director", "ceo", "director"),
                ("signing", "sign", "director"),
            ],
        ),
        # trainees: the mentor (head of the trainee group) is the switchable branch;
        # they approved as the manager: carried over as for engineering
        (
            "trainee",
            [
                ("manager", "manager", "mentor"),
                ("lawyer", "lawyer", "lawyer"),
                ("accountant", "accountant", "accountant"),
                ("deputy", "deputy", "deputy"),
                ("director", "ceo", "director"),
                ("signing", "sign", "director"),
            ],
        ),
        # accounting: no department approver, the stage is skipped
        (
            "chief-accountant",
            [
                ("manager", "manager", "cfo"),
                ("lawyer", "lawyer", "lawyer"),
                ("accountant", "accountant", "accountant"),
                ("deputy", "deputy", "deputy"),
                ("director", "ceo", "director"),
                ("signing", "sign", "director"),
            ],
        ),
    ],
)
def test_s1_full_runs_one_after_another_with_the_department_approver(
    initiator: str, expected: list[tuple[str, str, str]]
) -> None:
    story = Story("contract-full", initiator, CONTRACT).start()
    assert story.approve_each() == expected
    assert story.s.status is ProcessStatus.APPROVED
    assert story.opened == expected
    # approved by the director, then signed: «Подписан» stays after the finish
    assert story.statuses()[-3:] == ["approved", "signed", "success"]


def test_s1_full_tasks_are_due_in_working_days_and_stalls_are_reported() -> None:
    story = Story("contract-full", "manager", CONTRACT).start()
    (task,) = story.s.open_task_runs()
    # Monday 10:00 + 2 working days -> Wednesday, end of the working day
    assert task.due_at == datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    assert story.s.timers["stall:1:manager"].at == T0 + timedelta(hours=24)
    story.now = T0 + timedelta(hours=25)
    story.run(TimerFired("stall:1:manager"))
    assert fx.Notify("stage_stalled", ("initiator",), stage="manager") in story.effects


def test_s1_full_return_carries_over_approvals_of_the_unchanged_version() -> None:
    story = Story("contract-full", "manager", CONTRACT).start()
    story.decide("commercial")
    story.decide("lawyer")
    story.decide("accountant", "return", comment="wrong bank details in 7.2")
    assert story.s.status is ProcessStatus.REVISION
    assert story.open() == [("accountant", "revision", "manager")]
    story.run(Resubmit(Participant.user("manager"), "fixed the fields"))
    # the same files: the manager and the lawyer are not asked again
    assert story.open() == [("accountant", "accountant", "accountant")]
    assert [
        (e.stage, e.participant.id)
        for e in story.effects
        if isinstance(e, fx.CarryOver)
    ] == [("manager", "commercial"), ("lawyer", "lawyer")]
    assert [t[2] for t in story.approve_each()] == [
        "accountant", "executive", "deputy", "director", "director",
    ]  # fmt: skip


def test_s1_full_return_with_a_new_version_asks_everyone_again() -> None:
    story = Story("contract-full", "manager", CONTRACT).start()
    story.decide("commercial")
    story.decide("lawyer", "return", comment="the liability clause is missing")
    story.files = "v2"
    story.run(Resubmit(Participant.user("manager"), "new version uploaded"))
    assert [t[2] for t in story.approve_each()] == [
        "commercial", "lawyer", "accountant", "executive", "deputy", "director",
        "director",
    ]  # fmt: skip


def test_s1_return_is_allowed_at_every_step_of_every_contract_route() -> None:
    for key in ("contract-short", "contract-full", "contract-external"):
        for stage in definition_of(key).stages:
            for step in stage.steps:
                assert "return" in step.allowed_outcomes(), (key, stage.key, step.key)


def test_s1_external_asks_the_counterparty_before_the_director() -> None:
    contacts = ["partners@pitertour.example", "legal@pitertour.example"]
    story = Story(
        "contract-external",
        "mentor",
        {**CONTRACT, "approval_type": "external"},
        contacts=contacts,
    ).start()
    for who in ("commercial", "lawyer", "accountant", "executive", "deputy"):
        story.decide(who)
    assert story.open() == [
        ("counterparty", "representative", "partners@pitertour.example"),
        ("counterparty", "representative", "legal@pitertour.example"),
    ]
    assert all(t.participant.kind == "guest" for t in story.s.open_task_runs())
    story.decide("legal@pitertour.example")  # one representative is enough
    assert story.open() == [("director", "ceo", "director")]
    story.decide("director")
    assert story.s.status is ProcessStatus.APPROVED


def test_s1_external_without_contacts_is_reported_not_skipped() -> None:
    story = Story(
        "contract-external",
        "chief-accountant",
        {**CONTRACT, "approval_type": "external"},
    ).start()
    for who in ("cfo", "lawyer", "accountant", "deputy"):
        story.decide(who)
    assert story.open() == []
    assert story.s.status is ProcessStatus.RUNNING
    assert any(
        isinstance(e, fx.ReportUnresolved) and e.stage == "counterparty"
        for e in story.effects
    )


# --- S2: theatre contracts ---------------------------------------------------------

THEATRE_EXPENSE = {
    "direction": "expense",
    "contract_type": "equipment",
    "subject": "световое оборудование для конференц-зала",
    "funding_source": "commercial_fund",
    "amount": "870000.00",
}


def test_s2_all_fund_controllers_approve_before_the_invoice_is_signed() -> None:
    story = Story("theatre-contract", "commercial", THEATRE_EXPENSE).start()
    assert sorted(story.open()) == [
        ("review", "cfo", "cfo"),
        ("review", "chief_accountant", "chief-accountant"),
        ("review", "chief_engineer", "engineer"),
        ("review", "lawyer", "lawyer"),
    ]
    assert all(t.due_at is not None for t in story.s.open_task_runs())
    for who in ("lawyer", "cfo", "chief-accountant", "engineer"):
        story.decide(who)
    # the commercial director's fund: its three controllers, all of them
    assert sorted(story.open()) == [
        ("fund", "commercial_fund", "cfo"),
        ("fund", "commercial_fund", "chief-accountant"),
        ("fund", "commercial_fund", "commercial"),
    ]
    assert all(t.due_at is not None for t in story.s.open_task_runs())
    story.decide("cfo")
    story.decide("commercial")
    assert story.open() == [("fund", "commercial_fund", "chief-accountant")]
    story.decide("chief-accountant")
    assert story.open() == [("invoice", "ceo", "director")]
    story.decide("director")
    assert story.s.status is ProcessStatus.APPROVED
    assert story.actions() == [Action(set_status="signed")]


def test_s2_an_income_tour_contract_has_no_fund_stage() -> None:
    values = {
        "direction": "income",
        "contract_type": "tours",
        "subject": "гастрольный показ спектакля",
        "amount": "420000.00",
    }
    story = Story("theatre-contract", "mentor", values).start()
    assert sorted(story.open()) == [
        ("review", "commercial", "commercial"),
        ("review", "executive", "executive"),
        ("review", "lawyer", "lawyer"),
    ]
    for who in ("commercial", "executive", "lawyer"):
        story.decide(who)
    assert story.stage_state("fund") == "skipped"
    assert story.open() == [("invoice", "ceo", "director")]


def test_s2_the_subject_and_named_controllers_add_approvers() -> None:
    values = {
        **THEATRE_EXPENSE,
        "contract_type": "contractors",
        "subject": "Рекламная кампания премьеры",
        "funding_source": "sponsorship",
        "fund_controllers": ["deputy", "executive"],
    }
    story = Story("theatre-contract", "manager", values).start()
    assert ("review", "marketing", "editor") in story.open()
    for _, _, who in story.open():
        story.decide(who)
    assert sorted(story.open()) == [
        ("fund", "named_controllers", "deputy"),
        ("fund", "named_controllers", "executive"),
    ]


def test_s2_a_returned_contract_is_approved_again_after_the_fixes() -> None:
    story = Story("theatre-contract", "commercial", THEATRE_EXPENSE).start()
    for who in ("lawyer", "cfo", "chief-accountant", "engineer"):
        story.decide(who)
    story.decide("cfo", "return", comment="attach the estimate")
    story.files = "v2"
    story.run(Resubmit(Participant.user("commercial"), "estimate attached"))
    assert len(story.open()) == 4
    assert {stage for stage, _, _ in story.open()} == {"review"}


# --- S3: payment -------------------------------------------------------------------

PAYMENT = {"amount": "48600.00", "purpose": "уборка помещений"}


@pytest.mark.parametrize(("needed", "executive"), [(True, True), (False, False)])
def test_s3_the_cfo_answer_decides_whether_the_executive_director_approves(
    needed: bool, executive: bool
) -> None:
    story = Story("payment", "office", PAYMENT).start()
    story.decide("cfo")
    assert story.open() == [("cfo_question", "exec_needed", "cfo")]
    story.decide("cfo", "done", fields={"exec_director_needed": needed})
    if executive:
        assert story.open() == [("executive", "executive", "executive")]
        story.decide("executive")
    assert story.open() == [("invoice", "pay", "accountant")]
    assert Action(notify=["role:ceo"]) in story.actions()
    assert "to_pay" in story.statuses()
    story.decide("accountant", "done")
    assert story.open() == [("act", "provide_act", "office")]
    assert "awaiting_act" in story.statuses()
    story.decide("office", "done", fields={"act": "file:act.pdf"})
    assert story.s.status is ProcessStatus.APPROVED
    assert story.statuses()[-1] == "done"
    steps = [(stage, step) for stage, step, _ in story.opened]
    assert (("executive", "executive") in steps) is executive


def test_s3_a_cfo_rejection_closes_the_request_and_notifies_the_initiator() -> None:
    story = Story("payment", "office", PAYMENT).start()
    story.decide("cfo", "reject", comment="not in this month's budget")
    assert story.s.status is ProcessStatus.REJECTED
    assert any(
        isinstance(e, fx.Notify)
        and e.kind == "rejected"
        and e.recipients == ("initiator",)
        for e in story.effects
    )


def test_s3_the_act_is_required() -> None:

    story = Story("payment", "office", PAYMENT).start()
    story.decide("cfo")
    story.decide("cfo", "done", fields={"exec_director_needed": False})
    story.decide("accountant", "done")
    with pytest.raises(FieldsRequired):
        story.decide("office", "done")


# --- S4: absence -------------------------------------------------------------------


def absence(reason: str) -> Story:
    values = {
        "reason": reason,
        "date_from": "2026-04-01",
        "date_to": "2026-04-14",
        "notify": ["mentor", "commercial"],
    }
    return Story("absence", "manager", values).start()


def test_s4_remote_work_succeeds_right_after_the_manager() -> None:
    story = absence("remote")
    assert story.open() == [("manager", "manager", "commercial")]
    story.decide("commercial")
    assert story.s.status is ProcessStatus.APPROVED
    assert story.actions() == [
        Action(set_status="approved"),
        Action(notify=["field:notify"]),
    ]


def test_s4_sick_leave_gives_the_employee_a_task_to_bring_documents() -> None:
    story = absence("sick")
    story.decide("commercial")
    assert story.open() == [("paperwork", "sick_documents", "manager")]
    assert "in_work" in story.statuses()
    story.decide("manager", "done")
    assert story.s.status is ProcessStatus.APPROVED


@pytest.mark.parametrize(
    ("reason", "accountant_step"),
    [("vacation", "vacation_schedule"), ("unpaid", "unpaid_order")],
)
def test_s4_leave_goes_to_the_accountant_then_the_employee_signs(
    reason: str, accountant_step: str
) -> None:
    story = absence(reason)
    story.decide("commercial")
    assert story.open() == [("paperwork", accountant_step, "accountant")]
    story.decide("accountant", "done")
    assert story.open() == [("signature", "sign_application", "manager")]
    story.decide("manager", "done")
    assert story.s.status is ProcessStatus.APPROVED


def test_s4_a_manager_rejection_ends_it() -> None:
    story = absence("vacation")
    story.decide("commercial", "reject", comment="the season's peak")
    assert story.s.status is ProcessStatus.REJECTED


# --- S5: hiring --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "head"),
    [("sales", "commercial"), ("engineering", "engineer"), ("marketing", "editor")],
)
def test_s5_hiring_runs_through_the_chosen_departments_head(
    department: str, head: str
) -> None:
    values = {"candidate_name": "Тимофеев Глеб Андреевич", "department": department,
              "position": "Менеджер по продажам"}  # fmt: skip
    story = Story("hiring", "hr", values).start()
    # the head of the department chosen in the field, one step for every department
    assert story.open() == [("interview", "schedule", head)]
    story.decide(head, "done", fields={"interview_date": "2026-03-02",
                                       "interview_time": "10:00"})  # fmt: skip
    invite = story.actions()[-1]
    assert invite.notify == ["initiator", "field:candidate_email"]
    assert invite.invite is not None
    assert invite.invite.date_field == "interview_date"
    assert story.open() == [("documents", "manager", head)]
    story.decide(head, "done")
    assert story.open() == [("package", "accountant", "accountant")]
    story.decide("accountant", "done")
    assert story.open() == [("accesses", "tech", "it")]
    story.decide("it", "done", fields={"email": "g.timofeev@argo.example"})
    assert (
        fx.RunAction(Action(notify=["field:email"]), "invitation", "invite")
        in story.effects
    )
    assert story.facts["email"] == "g.timofeev@argo.example"
    assert story.open() == [("workplace", "office", "office")]
    story.decide("office", "done")
    assert story.open() == [("onboarding", "manager", head)]
    story.decide(head, "done", fields={"start_date": "2026-03-23"})
    assert story.s.status is ProcessStatus.APPROVED
    assert story.actions()[-2:] == [
        Action(set_status="done"),
        Action(notify=["role:hr"]),
    ]


def test_s5_the_tech_specialist_must_give_the_email_and_long_stages_alert() -> None:

    values = {"candidate_name": "К", "department": "it", "position": "Инженер"}
    story = Story("hiring", "hr", values).start()
    assert story.s.timers["stall:1:interview"].at == T0 + timedelta(hours=336)
    story.decide("it", "done", fields={"interview_date": "2026-03-02",
                                       "interview_time": "10:00"})  # fmt: skip
    story.decide("it", "done")
    story.decide("accountant", "done")
    with pytest.raises(FieldsRequired):
        story.decide("it", "done", step="tech")
    story.now = T0 + timedelta(days=15)
    story.run(TimerFired("stall:1:accesses"))
    assert fx.Notify("stage_stalled", ("initiator",), stage="accesses") in story.effects


# --- S6: article -------------------------------------------------------------------


def test_s6_article_with_an_expert_and_seo() -> None:
    values = {"topic": "Конференции", "author": "author", "expert_needed": True,
              "seo_needed": True}  # fmt: skip
    story = Story("article", "editor", values).start()
    assert sorted(story.open()) == [
        ("preparation", "choose_expert", "editor"),
        ("preparation", "seo_brief", "seo"),
    ]
    story.decide("editor", "done", fields={"expert": "engineer"})
    story.decide("seo", "done", fields={"seo_brief": "ключи: конференц-зал"})
    assert Action(notify=["field:expert", "field:author"]) in story.actions()
    assert story.open() == [("interview", "interview", "author")]
    story.decide("author", "done", fields={"expert_comment": "Зал на 120 мест"})
    assert story.open() == [("writing", "write", "author")]
    story.decide("author", "done", fields={"text_link": "https://docs.example/a"})
    assert story.open() == [("design_choice", "choose_designer", "art-director")]
    story.decide("art-director", "done", fields={"designer": "designer"})
    assert story.open() == [("design", "images", "designer")]
    story.decide("designer", "done", fields={"image_links": "https://img.example/1"})
    assert story.open() == [("publication", "publish", "editor")]
    story.decide("editor", "done")
    assert story.s.status is ProcessStatus.APPROVED
    assert story.statuses()[-1] == "published"
    assert [s for s in story.statuses() if s not in ("active", "success")] == [
        "preparation", "writing", "writing", "design", "publication", "published",
    ]  # fmt: skip


def test_s6_article_without_expert_or_seo_starts_with_writing() -> None:
    story = Story("article", "editor", {"topic": "Т", "author": "author"}).start()
    assert story.open() == [("writing", "write", "author")]
    assert story.stage_state("interview") == "skipped"


# --- S7: incoming letters ----------------------------------------------------------

LETTER = {"summary": "запрос", "control_date": "2026-03-12", "responsible": "lawyer"}


def test_s7_a_government_letter_goes_to_the_director_lawyer_then_responsible() -> None:
    story = Story(
        "incoming-letter", "office", {**LETTER, "responsible": "manager"},
        category="government",
    ).start()  # fmt: skip
    (task,) = story.s.open_task_runs()
    assert (task.stage, task.step, task.participant.id) == (
        "resolution",
        "ceo",
        "director",
    )
    assert task.due_at == datetime(2026, 3, 12, 18, 0, tzinfo=UTC)  # the control date
    story.decide(
        "director", "done",
        fields={"resolution": "Подготовить ответ", "co_executors": ["hr"]},
    )  # fmt: skip
    assert story.open() == [("legal", "lawyer", "lawyer")]
    story.decide("lawyer", "done")
    assert sorted(story.open()) == [
        ("execution", "co_executors", "hr"),
        ("execution", "responsible", "manager"),
    ]
    assert all(
        t.due_at == datetime(2026, 3, 12, 18, 0, tzinfo=UTC)
        for t in story.s.open_task_runs()
    )
    story.decide("manager", "done")
    story.decide("hr", "done")
    assert story.s.status is ProcessStatus.APPROVED
    assert story.actions() == [
        Action(set_status="answered"),
        Action(file_to="{responsible.department}/Контрагенты/{counterparty}"),
    ]


def test_s7_a_tenant_letter_goes_to_the_responsible_person_and_the_director() -> None:
    story = Story("incoming-letter", "office", LETTER, category="tenant").start()
    assert sorted(story.open()) == [
        ("execution", "director", "executive"),
        ("execution", "responsible", "lawyer"),
    ]


def test_s7_other_senders_go_to_the_responsible_person() -> None:
    story = Story("incoming-letter", "office", LETTER, category="customer").start()
    assert story.open() == [("execution", "responsible", "lawyer")]


# --- S8: outgoing letters ----------------------------------------------------------


def test_s8_waits_until_the_control_date_then_the_outcome_is_recorded() -> None:
    values = {"summary": "ответ", "document_date": "2026-03-02",
              "control_date": "2026-03-16", "executor": "accountant"}  # fmt: skip
    story = Story("outgoing-letter", "lawyer", values).start()
    assert story.open() == [("check", "executor", "accountant")]
    story.decide("accountant")
    assert story.open() == []
    assert "sent" in story.statuses()
    timer = story.s.timers["wait:1:waiting:until_control_date"]
    assert timer.at == datetime(2026, 3, 16, 18, 0, tzinfo=UTC)
    story.now = timer.at
    story.run(TimerFired(timer.id))
    assert story.open() == [("outcome", "record_outcome", "accountant")]
    story.decide("accountant", "done", fields={"outcome": "ИФНС приняла ответ"})
    assert story.s.status is ProcessStatus.APPROVED
    assert story.statuses()[-1] == "done"
    assert [stage for stage, _, _ in story.opened] == ["check", "outcome"]


def test_s8_an_empty_control_date_is_reported() -> None:
    values = {"summary": "ответ", "executor": "accountant"}
    story = Story("outgoing-letter", "lawyer", values).start()
    story.decide("accountant")
    assert any(
        isinstance(e, fx.ReportUnresolved) and e.step == "until_control_date"
        for e in story.effects
    )


def test_every_route_date_it_reads_is_a_date_field() -> None:
    """Due and wait fields must be dates of the type (validate_route checks it too)."""
    for key, doc_type in ROUTE_FILES.items():
        fields = org_facts(doc_type).fields
        for stage in definition_of(key).stages:
            for step in stage.steps:
                if step.wait_until:
                    assert fields[step.wait_until] == "date"
                if step.due and step.due.field:
                    assert fields[step.due.field] == "date"
