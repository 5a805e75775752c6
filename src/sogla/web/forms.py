"""Bootstrap classes and ARIA error links for Django forms rendered by our templates."""

from __future__ import annotations

from typing import Any

from django import forms


class BootstrapForm(forms.Form):
    """Adds Bootstrap classes; after validation marks invalid fields for assistive tech."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{bound.auto_id}_error"
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if hasattr(self, "cleaned_data"):
            self.mark_invalid()
