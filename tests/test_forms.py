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
