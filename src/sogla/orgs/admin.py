"""Admin for an organisation's structure: departments, positions, users, roles,
delegations and the working calendar. Scoped by :mod:`sogla.core.admin`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from typing_extensions import override

from sogla.core.admin import (
    OrgScopedAdmin,
    OrgScopedInline,
    OrgScopedMixin,
    ScopedModelForm,
    is_platform,
    request_org_id,
)
from sogla.core.request_meta import request_meta
from sogla.orgs.lockout import (
    failures_subquery,
    lock_state,
    locked_usernames,
    signin_unlock,
)
from sogla.orgs.models import (
    CalendarDay,
    Delegation,
    Department,
    Organisation,
    Position,
    Role,
    User,
    WorkingCalendar,
)


@admin.register(Organisation)
class OrganisationAdmin(OrgScopedMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Platform staff manage organisations; an organisation's admin edits their own."""

    list_display = ["name", "slug", "country", "time_zone", "language"]
    search_fields = ["name", "slug"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_platform(request)

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform(request)

    @override
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if is_platform(request) else ["slug"]


class DepartmentForm(ScopedModelForm):
    class Meta:
        model = Department
        fields = "__all__"

    def clean_parent(self) -> Department | None:
        parent: Department | None = self.cleaned_data.get("parent")
        node = parent
        seen: set[int] = set()
        while node is not None and self.instance.pk is not None:
            if node.pk == self.instance.pk or node.pk in seen:
                raise forms.ValidationError(
                    _("A department cannot be inside itself or its own sub-department.")
                )
            seen.add(node.pk)
            node = node.parent
        return parent


@admin.register(Department)
class DepartmentAdmin(OrgScopedAdmin):
    form = DepartmentForm
    list_display = ["name", "code", "parent", "head"]
    search_fields = ["name", "code"]
    list_select_related = ["parent", "head"]


@admin.register(Position)
class PositionAdmin(OrgScopedAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class RolesFormMixin(ScopedModelForm):
    """Adds the user's roles (a reverse many-to-many) to the user forms."""

    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.none(),
        required=False,
        label=gettext_lazy("roles"),
        widget=FilteredSelectMultiple(gettext_lazy("roles"), is_stacked=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org_id = self.scoped_org_id or self.instance.organisation_id
        field = self.fields["roles"]
        field.queryset = Role.objects.for_org(org_id) if org_id else Role.objects.none()  # type: ignore[attr-defined]
        if self.instance.pk is not None:
            field.initial = list(self.instance.roles.values_list("pk", flat=True))


class SoglaUserChangeForm(RolesFormMixin, UserChangeForm):  # type: ignore[type-arg]
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class SoglaUserCreationForm(RolesFormMixin, AdminUserCreationForm):  # type: ignore[type-arg]
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class SignInLockedFilter(admin.SimpleListFilter):
    title = gettext_lazy("sign-in")
    parameter_name = "sign_in"

    @override
    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("locked", gettext_lazy("Locked out"))]

    @override
    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "locked":
            return queryset.filter(username__in=locked_usernames())
        return queryset


@admin.register(User)
class UserAdmin(OrgScopedMixin, DjangoUserAdmin):  # type: ignore[type-arg]
    """Users of the organisation, with password handling, roles, manager, department,
    and sign-in lock-outs (shown, filtered, and unlocked by an action)."""

    form = SoglaUserChangeForm
    add_form = SoglaUserCreationForm
    list_display = [
        "username",
        "last_name",
        "first_name",
        "email",
        "department",
        "is_staff",
        "is_active",
        "sign_in",
    ]
    list_filter = ["is_staff", "is_active", SignInLockedFilter]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["department"]
    ordering = ["last_name", "first_name"]
    readonly_fields = ["last_login", "date_joined", "sign_in"]
    actions = ["unlock_sign_in"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        users: QuerySet[Any] = super().get_queryset(request)
        annotated: QuerySet[Any] = users.annotate(signin_failures=failures_subquery())
        return annotated

    @admin.display(description=gettext_lazy("sign-in"))
    def sign_in(self, obj: User) -> str:
        if not getattr(obj, "signin_failures", None):
            return "—"
        state = lock_state(obj.get_username())
        if state.locked and state.until is not None:
            until = formats.time_format(timezone.localtime(state.until), "H:i")
            if state.locked_everywhere:
                return _("Locked out everywhere until %(time)s") % {"time": until}
            return ngettext(
                "Locked out from %(count)d address until %(time)s",
                "Locked out from %(count)d addresses until %(time)s",
                state.locked_addresses,
            ) % {"count": state.locked_addresses, "time": until}
        if state.failures:
            return ngettext(
                "%(count)d failed attempt recently",
                "%(count)d failed attempts recently",
                state.failures,
            ) % {"count": state.failures}
        return "—"

    @admin.action(description=gettext_lazy("Unlock sign-in"), permissions=["change"])
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        meta = request_meta(request)
        unlocked = 0
        for user in queryset:
            if signin_unlock(actor=request.user, user=user, request_meta=meta):  # type: ignore[arg-type]
                unlocked += 1
        self.message_user(
            request,
            ngettext(
                "Sign-in unlocked for %(count)d person.",
                "Sign-in unlocked for %(count)d people.",
                unlocked,
            )
            % {"count": unlocked},
            messages.SUCCESS if unlocked else messages.INFO,
        )

    _people = (
        gettext_lazy("Personal info"),
        {
            "fields": (
                "first_name",
                "middle_name",
                "last_name",
                "email",
                "phone",
                "language",
                "time_zone",
            )
        },
    )
    _place = (
        gettext_lazy("Place in the organisation"),
        {"fields": ("department", "position", "manager", "roles")},
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        first: tuple[str, ...] = ("username",)
        if is_platform(request):
            first += ("organisation",)
        if obj is None:
            first += ("usable_password", "password1", "password2")
            return (
                (None, {"classes": ("wide",), "fields": first}),
                self._people,
                self._place,
            )
        access: tuple[str, ...] = ("is_active", "is_staff", "sign_in")
        if is_platform(request):
            access += ("is_superuser", "groups", "user_permissions")
        return (
            (None, {"fields": (*first, "password")}),
            self._people,
            self._place,
            (gettext_lazy("Access"), {"fields": access}),
            (
                gettext_lazy("Important dates"),
                {"fields": ("last_login", "date_joined")},
            ),
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        org_id = request_org_id(request) or (
            obj.organisation_id if obj is not None else None
        )
        return type(form.__name__, (form,), {"scoped_org_id": org_id})

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        org_id = request_org_id(request)
        if org_id is not None:
            obj.organisation_id = org_id
            obj.is_superuser = False  # organisation admins never make platform staff
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if "roles" in form.cleaned_data:
            form.instance.roles.set(form.cleaned_data["roles"])


class RoleForm(ScopedModelForm):
    class Meta:
        model = Role
        fields = "__all__"


@admin.register(Role)
class RoleAdmin(OrgScopedAdmin):
    form = RoleForm
    list_display = ["key", "name_ru", "name_en"]
    search_fields = ["key", "name_ru", "name_en"]
    filter_horizontal = ["members"]


@admin.register(Delegation)
class DelegationAdmin(OrgScopedAdmin):
    list_display = ["from_user", "to_user", "starts_on", "ends_on", "reason"]
    list_select_related = ["from_user", "to_user"]


class CalendarDayInline(OrgScopedInline, admin.TabularInline):  # type: ignore[type-arg]
    model = CalendarDay
    extra = 1


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(OrgScopedAdmin):
    list_display = [
        "__str__",
        "working_weekdays",
        "day_starts",
        "day_ends",
        "use_public_holidays",
    ]
    inlines = [CalendarDayInline]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        org_id = request_org_id(request)
        if org_id is not None and WorkingCalendar.objects.for_org(org_id).exists():
            return False  # one calendar per organisation
        return super().has_add_permission(request, *args)
