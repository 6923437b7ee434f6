"""The forms' shared rendering (clinic/forms.py)."""

import wtforms.widgets
import wtforms.widgets.core
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from clinic.forms import WTFORMS_HTML_PARAMS, html_params

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
    assert html_params(**attributes) == WTFORMS_HTML_PARAMS(**attributes)


def test_html_params_examples():
    assert html_params(name="text1", id="f", class_="text") == 'class="text" id="f" name="text1"'
    assert html_params(checked=True, readonly=False, value='a"<b>') == 'checked value="a&#34;&lt;b&gt;"'
    assert html_params(value=Markup('say "hi"')) == 'value="say &quot;hi&quot;"'


def test_every_widget_and_label_renders_with_the_faster_html_params(app):
    assert wtforms.widgets.core.html_params is html_params
    assert wtforms.widgets.html_params is html_params
    assert wtforms.widgets.core.Input.html_params is html_params
    assert wtforms.widgets.core.Button.html_params is html_params
