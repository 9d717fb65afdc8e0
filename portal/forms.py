"""Base form and field helpers: French messages, normalisers wired as WTForms validators."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    Field,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import Length, Optional, StopValidation

from .validators import format_phone, without_controls

REQUIRED = "Ce champ est obligatoire."


class BaseForm(FlaskForm):
    """WTForms' own French translations for its built-in messages (Flask-Babel is not used),
    and posted text cleaned of control characters before any field reads it."""

    class Meta(FlaskForm.Meta):
        locales = ["fr_FR", "fr"]

        def wrap_formdata(self, form, formdata):
            """Drop control characters from every posted text but passwords (kept as typed:
            they are only hashed). A JSON body's numbers or lists arrive as text, as a browser
            would send them."""
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None:
                return None
            passwords = {f.name for f in form if isinstance(f, PasswordField)}
            cleaned = MultiDict()
            for name, value in formdata.items(multi=True):
                if isinstance(value, FileStorage):
                    cleaned.add(name, value)
                    continue
                text = value if isinstance(value, str) else "" if value is None else str(value)
                cleaned.add(name, text if name in passwords else without_controls(text))
            return cleaned


class Required:
    """Like DataRequired, but a parse error ("N'est pas une date valide.") is kept, not replaced
    by "obligatoire"."""

    field_flags = {"required": True}

    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.process_errors:
            raise StopValidation()
        data = field.data
        if data is None or data == [] or (isinstance(data, str) and not data.strip()):
            raise StopValidation(REQUIRED)


def required() -> Required:
    return Required()


def max_length(n: int) -> Length:
    return Length(max=n, message=f"{n} caractères maximum.")


def optional() -> Optional:
    return Optional()


def normalised_by(normalise: Callable[[str], str]) -> Callable[[BaseForm, Field], None]:
    """Validator that replaces the field's data by ``normalise(data)`` or shows its error."""

    def validator(form: BaseForm, field: Field) -> None:
        if not field.data:
            field.data = None
            return
        try:
            field.data = normalise(field.data)
        except ValueError as error:
            raise StopValidation(str(error)) from None

    return validator


class PhoneField(StringField):
    """A phone stored in E.164 but shown as French users write it (02 40 20 40 20)."""

    def _value(self) -> str:
        if isinstance(self.data, str) and self.data.startswith("+") and not self.errors:
            return format_phone(self.data)
        return super()._value()


class VersionField(HiddenField):
    """The record version the user started from, for optimistic locking."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] else None
        except ValueError:
            self.data = None

    def populate_obj(self, obj: object, name: str) -> None:
        """Never copied to the record: the ORM counts versions (a form posted without one
        would otherwise store NULL, and a forged one would rewind the counter)."""


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def select_choices(
    pairs: Iterable[tuple[object, str]], *, blank: str | None = None
) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs, e.g. a codes.CodeTable."""
    choices = [SelectChoice(value, label) for value, label in pairs]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def strip_filter(value: object) -> object:
    return value.strip() if isinstance(value, str) else value
