"""Organisation-scoped Django admin: the shared mixin for every tenant model.

An organisation administrator (:func:`sogla.core.access.is_org_admin`: staff with an
organisation) may do everything with their own organisation's rows and nothing
with anyone else's: querysets are filtered, the ``organisation`` field is hidden
and set on save, and every foreign key or many-to-many choice (inlines included)
offers only the same organisation's rows. Another organisation's id in a URL finds
nothing (the admin then redirects to the index with "doesn't exist").

Superusers without an organisation (platform staff) see and edit everything.
No Django permission rows are needed for organisation administrators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext
from typing_extensions import override

from sogla.core.access import is_org_admin

if TYPE_CHECKING:
    from django.forms.models import BaseInlineFormSet

ORG_FIELD = "organisation"


def request_org_id(request: HttpRequest) -> int | None:
    """The organisation the admin user works in; None for platform staff."""
    user = request.user
    if is_org_admin(user):
        return user.organisation_id  # type: ignore[union-attr]
    return None


def is_platform(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_superuser
        and getattr(user, "organisation_id", None) is None
    )


def scope_queryset(queryset: models.QuerySet[Any], org_id: int) -> models.QuerySet[Any]:
    """Rows of ``queryset``'s model that belong to organisation ``org_id``."""
    model = queryset.model
    names = {f.name for f in model._meta.get_fields()}
    if ORG_FIELD in names:
        return queryset.filter(organisation_id=org_id)
    if model._meta.label == "orgs.Organisation":
        return queryset.filter(pk=org_id)
    return queryset.none()  # a model with no organisation is never offered


class ScopedModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """Validates constraints that involve the hidden organisation (and ``validate_also``)."""

    validate_also: frozenset[str] = frozenset()
    scoped_org_id: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if (
            self.scoped_org_id is not None
            and hasattr(self.instance, "organisation_id")
            and self.instance.organisation_id is None
        ):
            self.instance.organisation_id = self.scoped_org_id

    def _get_validation_exclusions(self) -> set[str]:
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        if getattr(self.instance, "organisation_id", None) is not None:
            exclude.discard(ORG_FIELD)
        return exclude - set(self.validate_also)


class OrgScopedMixin:
    """For ModelAdmin and InlineModelAdmin classes of tenant models."""

    def _org(self, request: HttpRequest) -> int | None:
        return request_org_id(request)

    # --- permissions: everything on own rows for organisation administrators -------

    def _allowed(self, request: HttpRequest, obj: Any, fallback: bool) -> bool:
        if is_platform(request):
            return fallback
        org_id = self._org(request)
        if org_id is None:
            return fallback and getattr(request.user, "organisation_id", None) is None
        if obj is None:
            return True
        return self._object_org(obj) == org_id

    def _object_org(self, obj: Any) -> int | None:
        if obj._meta.label == "orgs.Organisation":
            return int(obj.pk)
        return getattr(obj, "organisation_id", None)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, super().has_module_permission(request))  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, super().has_view_permission(request, obj))  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        obj = args[0] if args else None
        return self._allowed(request, obj, super().has_add_permission(request, *args))  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, super().has_change_permission(request, obj))  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, super().has_delete_permission(request, obj))  # type: ignore[misc]

    # --- what is listed and reachable ---------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset: models.QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        org_id = self._org(request)
        if org_id is not None:
            return scope_queryset(queryset, org_id)
        if is_platform(request):
            return queryset
        return queryset.none()

    # --- what can be chosen ---------------------------------------------------------------

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        org_id = self._org(request)
        if org_id is not None and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(
                db_field.remote_field.model._default_manager.all(),
                org_id,
            )
        if db_field.name == ORG_FIELD:  # the tenant field has no verbose name
            kwargs.setdefault("label", capfirst(gettext("organisation")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self,
        db_field: models.ManyToManyField[Any, Any],
        request: HttpRequest,
        **kwargs: Any,
    ) -> Any:
        org_id = self._org(request)
        if org_id is not None and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(
                db_field.remote_field.model._default_manager.all(),
                org_id,
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    # --- the organisation field --------------------------------------------------------------

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if self._hides_org(request) and ORG_FIELD not in exclude:
            exclude.append(ORG_FIELD)
        return exclude

    def _hides_org(self, request: HttpRequest) -> bool:
        return isinstance(self, admin.options.InlineModelAdmin) or not is_platform(
            request
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        if self._hides_org(request):
            fields = [f for f in fields if f != ORG_FIELD]
        return fields

    def _scoped_form(self, form: type[Any], org_id: int | None) -> type[Any]:
        base = (
            form
            if issubclass(form, ScopedModelForm)
            else type(form.__name__, (ScopedModelForm, form), {})
        )
        return type(base.__name__, (base,), {"scoped_org_id": org_id})


class OrgScopedAdmin(OrgScopedMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin of a tenant model, scoped to the administrator's organisation."""

    form = ScopedModelForm

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        org_id = self._org(request) or (
            obj.organisation_id if obj is not None else None
        )
        return self._scoped_form(form, org_id)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        org_id = self._org(request)
        if org_id is not None:
            obj.organisation_id = org_id
        super().save_model(request, obj, form, change)

    @override
    def save_formset(
        self,
        request: HttpRequest,
        form: Any,
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        """Inline rows belong to the parent's organisation."""
        parent = form.instance
        org_id = (
            parent.pk
            if parent._meta.label == "orgs.Organisation"
            else parent.organisation_id
        )
        instances = formset.save(commit=False)
        for instance in instances:
            if hasattr(instance, "organisation_id"):
                instance.organisation_id = org_id
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


class OrgScopedInline(OrgScopedMixin):
    """Mix into TabularInline / StackedInline of tenant models."""

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        org_id = self._org(request) or (
            obj.organisation_id if obj is not None else None
        )
        kwargs.setdefault("form", self._scoped_form(self.form, org_id))  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]


class OrgLogAdmin(OrgScopedAdmin):
    """A read-only log of rows only the services and the worker write (the delivery
    log, timers): administrators look, filter and run the admin's actions."""

    @override
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    @override
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
