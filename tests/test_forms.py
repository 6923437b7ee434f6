"""The forms' shared rendering (clinic/forms.py)."""

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms.widgets.core import html_params as wtforms_html_params

from clinic.forms import html_params

attribute_names = st.sampled_from(["id", "name", "value", "class_", "for_", "data_point_id", "aria_describedby", "x"])
attribute_values = st.one_of(
    st.booleans(),
    st.text(),
    st.text().map(Markup),  # markup passed on unescaped: a bare quote must still not end the attribute
    st.integers(),
    st.none(),
)


@given(st.dictionaries(attribute_names, attribute_values))
def test_html_params_gives_the_markup_of_wtforms_own(attributes):
    assert html_params(**attributes) == wtforms_html_params(**attributes)


def test_html_params_examples():
    assert html_params(name="text1", id="f", class_="text") == 'class="text" id="f" name="text1"'
    assert html_params(checked=True, readonly=False, value='a"<b>') == 'checked value="a&#34;&lt;b&gt;"'
    assert html_params(value=Markup('say "hi"')) == 'value="say &quot;hi&quot;"'


# The `field` macro _macros.html had before `field_markup` took its place: the markup that must not change.
FIELD_MACRO = """{% macro field(f, class_="") %}
  {%- set attrs = {} -%}
  {%- set describedby = [] -%}
  {%- if f.description %}{% set _ = describedby.append(f.id ~ "-help") %}{% endif -%}
  {%- if f.errors %}{% set _ = describedby.append(f.id ~ "-error") %}{% set _ = attrs.update({"aria-invalid": "true"}) %}{% endif -%}
  {%- if describedby %}{% set _ = attrs.update({"aria-describedby": describedby|join(" ")}) %}{% endif -%}
  {%- set _ = attrs.update(kwargs) -%}
  <div class="field {{ class_ }}{% if f.errors %} has-error{% endif %}">
    {%- if f.type == "BooleanField" %}
      <label class="check">{{ f(**attrs) }} {{ f.label.text }}</label>
    {%- else %}
      {{ f.label(class_="label") }}{% if f.flags.required %}<span class="required" aria-hidden="true"> *</span>{% endif %}
      {{ f(**attrs) }}
    {%- endif %}
    {%- if f.description %}
    <p class="help" id="{{ f.id }}-help">{{ f.description }}</p>{% endif %}
    {%- if f.errors %}
    <p class="error" id="{{ f.id }}-error">{{ f.errors|join(" ") }}</p>{% endif %}
  </div>
{%- endmacro %}"""


def test_the_field_helper_gives_the_markup_of_the_macro_it_replaced(app):
    from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
    from wtforms.validators import DataRequired, Optional

    from clinic.clock import clinic_today
    from clinic.forms import KnotworkForm, as_choices
    from clinic.kb import knowledge_base
    from clinic.treatments.forms import session_form

    class Everything(KnotworkForm):
        name = StringField('Name <&> "quoted"', validators=[DataRequired()], description="Help & <more>")
        note = TextAreaField("Note", validators=[Optional()])
        count = IntegerField("Count", description="How many")
        agreed = BooleanField("I agree <really>", description="Tick it")
        pick = SelectField("Pick", choices=as_choices([("a", "A"), ("b", "B <b>")]))
        side = RadioField("Side", choices=as_choices([("left", "Left"), ("right", "Right")]))

    calls = [
        ({}, {}),
        ({"class_": "number"}, {"inputmode": "numeric", "data-pain": ""}),
        ({"class_": 'odd "class" <x>'}, {"autocomplete": "off", "maxlength": 120}),
    ]
    with app.test_request_context():
        old = app.jinja_env.from_string(FIELD_MACRO + "{{ field(f, class_=class_, **attributes) }}")
        new = app.jinja_env.from_string(
            '{% from "_macros.html" import field %}{{ field(f, class_=class_, **attributes) }}'
        )
        form = Everything(meta={"csrf": False}, data={"name": 'Ana "<b>"', "count": 3, "agreed": True, "pick": "b"})
        sessions = session_form(knowledge_base(), clinic_today(), meta={"csrf": False})
        row = sessions.add_point({"trigger_point": "upper-trapezius/1", "side": "left"}).form
        fields = [*form, *sessions, *row]
        for errors in ([], ["Enter a name.", 'It can\'t hold <b> & "quotes".']):
            for f in fields:
                if f.type in ("FieldList", "SubmitField"):
                    continue
                f.errors = list(errors)
                for class_kw, attributes in calls:
                    class_ = class_kw.get("class_", "")
                    expected = old.render(f=f, class_=class_, attributes=attributes)
                    assert new.render(f=f, class_=class_, attributes=attributes) == expected, f.name


@given(
    st.lists(st.tuples(st.one_of(st.integers(), st.text()), st.text()), max_size=8),
    st.one_of(st.none(), st.integers(), st.text()),
)
def test_the_select_of_many_options_gives_the_markup_of_wtforms_own(pairs, data):
    from wtforms import Form, SelectField
    from wtforms.widgets import Select

    from clinic.forms import ManyOptionsSelect, as_choices

    field = SelectField(choices=as_choices(pairs), coerce=lambda value: value).bind(Form(), "pick")
    field.data = data
    assert ManyOptionsSelect()(field) == Select()(field)


def _every_kind_of_field():
    """One field of each kind the app's forms declare (and a few more), with the validators that add attributes."""
    from wtforms import (
        BooleanField,
        DateField,
        DateTimeLocalField,
        EmailField,
        HiddenField,
        IntegerField,
        PasswordField,
        RadioField,
        SearchField,
        SelectField,
        SelectMultipleField,
        StringField,
        SubmitField,
        TelField,
        TextAreaField,
    )
    from wtforms.validators import DataRequired, Length, NumberRange, Optional
    from wtforms.widgets import CheckboxInput, ListWidget

    from clinic.forms import SelectChoice, as_choices

    choices = as_choices([("", "None"), ("a", "A & B"), ("b", 'say "b"'), ("c", "<c>")])
    grouped = [SelectChoice(c.value, c.label, optgroup="First" if n < 2 else "Second") for n, c in enumerate(choices)]
    return {
        "text": StringField("Name", validators=[DataRequired(), Length(max=120)]),
        "password": PasswordField("Password", validators=[DataRequired(), Length(min=12)]),
        "number": IntegerField("Pain", validators=[Optional(), NumberRange(0, 10)]),
        "day": DateField("Born", validators=[DataRequired()]),
        "moment": DateTimeLocalField("Start", format="%Y-%m-%dT%H:%M"),
        "email": EmailField("Email"),
        "phone": TelField("Phone"),
        "search": SearchField("Find"),
        "hidden": HiddenField(),
        "flag": BooleanField("Release felt"),
        "notes": TextAreaField("Notes", validators=[Length(max=4000)]),
        "pick": SelectField("Pick", choices=choices, validators=[DataRequired()]),
        "grouped": SelectField("Grouped", choices=grouped),
        "marked": SelectField(
            "Marked", choices=[SelectChoice("x", "X", render_kw={"data_kind": 'a"b'}), SelectChoice("y")]
        ),
        "yes_no": SelectField(
            "Yes or no", choices=as_choices([(True, "Yes"), (False, "No")]), coerce=lambda v: v in (True, "True")
        ),
        "several": SelectMultipleField("Several", choices=choices[1:]),
        "side": RadioField("Side", choices=as_choices([("left", "Left"), ("right", "Right"), ("both", "Both")])),
        "numbered": RadioField("Numbered", choices=choices[1:], widget=ListWidget(html_tag="ol", prefix_label=True)),
        "ticks": SelectMultipleField(
            "Ticks", choices=choices[1:], widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
        ),
        "save": SubmitField("Save"),
    }


def _markup_of(form) -> list[str]:
    """Every field of the form drawn whole, and each choice of a radio or checkbox list on its own."""
    drawn = []
    for field in form:
        drawn.append(str(field(class_="x", data_note='a"b')))
        drawn.append(str(field()))
        drawn.extend(map(str, (field.label(), field.label(class_="label"), field.label('Say "<b>"', for_="other"))))
        if field.type in ("RadioField", "SelectMultipleField"):
            drawn.extend(f"{option()} {option.label}" for option in field)
    return drawn


sent_values = st.one_of(st.text(max_size=12), st.sampled_from(["a", "b", "c", "left", "True", "3", "2026-01-02"]))


@given(st.dictionaries(st.sampled_from(list(_every_kind_of_field())), st.lists(sent_values, max_size=3)))
def test_our_forms_draw_every_kind_of_field_as_wtforms_does(sent):
    """KnotworkForm and KnotworkSubForm bind each field with its widget's quick version (forms.quick_widget): the
    markup is WTForms' own, character for character, whatever was sent (validated, so errors show too)."""
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from clinic.forms import KnotworkSubForm, QuickLabel, quick_widget

    fields = _every_kind_of_field()
    stock = type("Stock", (Form,), fields)(formdata=MultiDict([(k, v) for k, vs in sent.items() for v in vs]))
    quick = type("Quick", (KnotworkSubForm,), fields)(
        formdata=MultiDict([(k, v) for k, vs in sent.items() for v in vs])
    )
    stock.validate()
    quick.validate()
    assert _markup_of(quick) == _markup_of(stock)
    for field in quick:  # drawn by the quick widgets, not by a silent fallback to WTForms' own
        assert quick_widget(field.widget) is field.widget
        assert type(field.widget) is not type(stock[field.name].widget)
        assert type(field.label) is QuickLabel


# The `scale` macro _macros.html had before `scale_markup` took its place.
SCALE_MACRO = """{% macro scale(f) %}
  <div class="scale" role="group" aria-label="Tap a number from {{ rules.PAIN_RANGE[0] }} to {{ rules.PAIN_RANGE[1] }}" data-scale-for="{{ f.id }}" hidden>
    {%- for n in range(rules.PAIN_RANGE[0], rules.PAIN_RANGE[1] + 1) %}<button type="button" class="scale-step" tabindex="-1" data-scale-value="{{ n }}" aria-pressed="{{ 'true' if f.data == n else 'false' }}">{{ n }}</button>{% endfor -%}
  </div>
{%- endmacro %}"""


def test_the_scale_helper_gives_the_markup_of_the_macro_it_replaced(app):
    from wtforms import Form, IntegerField

    old = app.jinja_env.from_string(SCALE_MACRO + "{{ scale(f) }}")
    new = app.jinja_env.from_string('{% from "_macros.html" import scale %}{{ scale(f) }}')
    field = IntegerField().bind(Form(), 'points-0-pain"<x>')
    for data in (None, 0, 5, 10, 11, "7"):
        field.data = data
        assert new.render(f=field) == old.render(f=field), data
