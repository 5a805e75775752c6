"""The route builder's words for its script, in the reader's language.

The script renders the board and the drawer; every word it shows comes from here
(passed as JSON in the page), so one catalogue (django.po) holds them all.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def builder_words() -> dict[str, object]:
    return {
        "kinds": {
            "approve": _("Approve"),
            "consult": _("Consult"),
            "sign": _("Sign"),
            "acknowledge": _("Acknowledge"),
            "request_info": _("Request information"),
            "task": _("Task"),
            "wait": _("Wait"),
            "system": _("System action"),
        },
        "assignees": {
            "user": _("A person"),
            "role": _("A role"),
            "manager_of": _("The manager"),
            "department_head": _("A department head"),
            "department_head_field": _("The head of the department chosen in a field"),
            "user_field": _("A person from a field"),
            "users_field": _("People from a field"),
            "initiator": _("The initiator"),
            "guests": _("Guests by e-mail"),
            "guest_field": _("A guest from a field"),
            "counterparty_contacts": _("The counterparty's contacts"),
        },
        "outcomes": {
            "approve": _("Approve"),
            "approve_with_remarks": _("Approve with remarks"),
            "return": _("Return for revision"),
            "return_to_stage": _("Send back to an earlier stage"),
            "reject": _("Reject"),
            "acknowledge": _("Acknowledged"),
            "done": _("Done"),
            "opinion": _("Opinion"),
        },
        "ops": {
            "eq": _("is"),
            "ne": _("is not"),
            "gt": _("is greater than"),
            "gte": _("is at least"),
            "lt": _("is less than"),
            "lte": _("is at most"),
            "empty": _("is empty"),
            "not_empty": _("is filled in"),
            "contains": _("contains"),
        },
        "actions": {
            "set_status": _("Set the status"),
            "notify": _("Notify"),
            "file_to": _("File into a folder"),
            "remind": _("Remind before a date"),
            "generate": _("Generate a document"),
        },
        "w": {
            "stage": _("Stage"),
            "step": _("Step"),
            "addStage": _("Add a stage"),
            "addStep": _("Add a step"),
            "addFirstStage": _("Add the first stage"),
            "edit": _("Edit"),
            "delete": _("Delete"),
            "apply": _("Apply"),
            "cancel": _("Cancel"),
            "close": _("Close"),
            "moveUp": _("Up"),
            "moveDown": _("Down"),
            "movePrev": _("To the previous stage"),
            "moveNext": _("To the next stage"),
            "stageLeft": _("Move the stage left"),
            "stageRight": _("Move the stage right"),
            "editStage": _("Stage settings"),
            "editRoute": _("Route settings"),
            "nameRu": _("Name (Russian)"),
            "nameEn": _("Name (English)"),
            "key": _("Key"),
            "kind": _("Kind"),
            "assignee": _("Who is asked"),
            "choose": _("— choose —"),
            "levels": _("Levels up"),
            "ofInitiator": _("of the initiator"),
            "initiatorDept": _("the initiator's department"),
            "emails": _("E-mail addresses, one a line"),
            "quorum": _("Quorum"),
            "quorumAny": _("Any one of them"),
            "quorumAll": _("All of them"),
            "quorumN": _("This many"),
            "conditions": _("Run only if"),
            "noCondition": _("Always runs"),
            "matchAll": _("all of these hold (AND)"),
            "matchAny": _("any of these holds (OR)"),
            "addCondition": _("Add a condition"),
            "removeCondition": _("Remove the condition"),
            "field": _("Field"),
            "operator": _("Operator"),
            "value": _("Value"),
            "complexCondition": _(
                "This condition is nested deeper than the builder edits; it is kept as it is."
            ),
            "runsIf": _("Runs if"),
            "and": _("and"),
            "or": _("or"),
            "yes": _("yes"),
            "no": _("no"),
            "due": _("Deadline"),
            "dueNone": _("No deadline"),
            "dueWorkingDays": _("Working days"),
            "dueHours": _("Hours"),
            "dueField": _("The date in a field"),
            "remind": _("Remind before the deadline"),
            "remindBefore": _(
                "Remind this many working days before (empty: the default)"
            ),
            "escalate": _(
                "Tell the manager this many working days after the deadline (empty: never)"
            ),
            "outcomes": _("Outcomes offered"),
            "confirmOtp": _("Confirm with a one-time code"),
            "actions": _("Actions"),
            "setStatus": _("Set the status"),
            "doneStatus": _("When the step is done, set the status"),
            "notifyInitiator": _("Notify the initiator"),
            "onReturn": _("When returned for revision"),
            "restartFirst": _("Start again from the first stage"),
            "restartSame": _("Start again from the returning stage"),
            "reapproval": _("Re-approval after a corrected version"),
            "reaskAll": _("Ask everyone again"),
            "reaskAllHint": _("Earlier approvals do not count in the new round."),
            "reaskNot": _("Ask only those who had not approved"),
            "reaskNotHint": _(
                "Earlier approvals carry over even if the files changed; those "
                "people are told and may withdraw their approval while the round runs."
            ),
            "reaskUnchanged": _("Keep approvals only if the files are unchanged"),
            "reaskUnchangedHint": _(
                "After a new version of the files everyone is asked again."
            ),
            "initiatorMayChooseReask": _(
                "The initiator may choose whom to ask again when resubmitting"
            ),
            "initiatorMayEdit": _("The initiator may change approvers and deadlines"),
            "runningRound": _("While a round runs"),
            "duplicates": _("A person named in several steps of one round"),
            "duplicatesMerge": _("Ask once: an approval counts for every step"),
            "duplicatesKeep": _("Ask at every step"),
            "initiatorMayEditRunning": _(
                "The initiator may add or remove approvers and move deadlines "
                "while the round runs"
            ),
            "onFinish": _("When the route finishes"),
            "bulkAllowed": _("Approve steps may be approved in bulk from the inbox"),
            "guestsSeeNames": _("Guests see the names of internal people"),
            "wdShort": pgettext("working days, short", "%(n)s wd"),
            "hShort": pgettext("hours, short", "%(n)s h"),
            "problems": _("Checks"),
            "noProblems": _("No problems found."),
            "saved": _("Saved"),
            "saving": _("Saving…"),
            "unsaved": _("Unsaved changes"),
            "failed": _("Not sent — check the connection and try again."),
            "publishTitle": _("Publish a new version"),
            "publishFix": _("Publishing is blocked: fix these problems first."),
            "publishRunning": _("Running processes (%(n)s) continue on v%(v)s."),
            "publishNoDiff": _("No changes against the published version."),
            "publishConfirm": _("Publish v%(v)s"),
            "published": _("Published"),
            "simulate": _("Simulate"),
            "simInitiator": _("Initiator"),
            "simRun": _("Show who approves"),
            "simRuns": _("runs"),
            "simSkipped": _("skipped"),
            "simNobody": _("nobody can be assigned"),
            "importFailed": _("Nothing was imported:"),
            "imported": _("Imported into the draft."),
            "stageProblems": _("Problems of this stage"),
            "onFinishHint": _("These actions run when the last stage is approved."),
            "withCondition": _("with a condition"),
            "askFields": _("Fields the assignee fills in"),
            "required": _("required"),
            "waitUntil": _("Wait until the date in a field"),
            "waitOffset": _("Plus this many days (may be negative)"),
            "waitFor": _("Or wait this many working days"),
            "not": pgettext("condition", "not"),
            "addGroup": _("Add a group"),
            "removeGroup": _("Remove the group"),
            "guestFields": _("Fields a guest sees"),
            "guestFieldsHint": _(
                "The guest page shows only these fields of the document and its files."
            ),
            "toInitiator": _("The initiator"),
            "toOwner": _("The route owner"),
            "toField": _("The person in the field"),
            "notifyWho": _("Who is told"),
            "actionKind": _("Action"),
            "addAction": _("Add an action"),
            "removeAction": _("Remove the action"),
            "actionKept": _(
                "This action is kept as it is (the builder does not edit it):"
            ),
            "fileTo": _("Folder"),
            "fileToExample": _("{department}/Counterparties/{counterparty}"),
            "fileToHint": _(
                "Placeholders: {department}, {counterparty}, {number} and the "
                "document's fields, e.g. {subject}."
            ),
            "generate": _("Document template (file name)"),
            "generateHint": _(
                "Recorded in the history when the route finishes; generating the file "
                "itself is not available yet."
            ),
            "remindField": _("Date field"),
            "remindDays": _("Days before"),
            "remindText": _("%(n)s days before %(field)s, remind: %(who)s"),
            "restart": _("Start again from"),
            "reask": _("Who is asked again"),
            "stallAlert": _("When the route stalls"),
            "stallHours": _("Alert when nothing moves for this many hours"),
            "stallHint": _("Empty: no alert."),
            "stallText": _("after %(n)s h without movement, tell: %(who)s"),
            "nothing": _("nothing"),
            "routeCard": _("The whole route"),
            "returnTo": _("May send the document back to"),
            "returnToHint": _(
                "The decider chooses one of these stages; a new round starts there."
            ),
            "invite": _("Calendar invitation"),
            "inviteOn": _("When the step is done, send a calendar invitation (.ics)"),
            "inviteDate": _("Date field"),
            "inviteTimeField": _("Time from a field"),
            "inviteFixedTime": _("— a fixed time —"),
            "inviteTime": _("Fixed time (HH:MM)"),
            "inviteMinutes": _("Length, minutes"),
            "inviteSummaryRu": _("Event title (Russian)"),
            "inviteSummaryEn": _("Event title (English)"),
            "inviteLocation": _("Place"),
            "inviteNotify": _("Invite (and notify)"),
            "inviteNotifyHint": _(
                "initiator, role:<key>, field:<key>, user:<login>; separated by commas"
            ),
        },
    }
