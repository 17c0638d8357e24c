"""geoapp._validate: problems collected per key, raised once, with exact messages."""

import math

import pytest

from geoapp._validate import Problems, Table, closest, did_you_mean, is_number, read_toml
from geoapp.catalog import parse_layer_file
from geoapp.errors import InputError, LayerFileError, StandardFileError


def _table(data, where="f.toml", error=InputError):
    p = Problems(where, error)
    return Table(data, p), p


# --------------------------------------------------------------------------- one error, every problem


def test_several_problems_in_one_file_are_raised_together_with_exact_text():
    t, p = _table(
        {
            "id": "Bad Id",
            "colour": "red",
            "radius": -3,
            "share": 1.5,
            "mode": "Network",
            "split": "yes",
            "tags": ["a", 2],
        },
        error=LayerFileError,
    )
    t.unknown(("id", "color", "radius", "share", "mode", "split", "tags", "label"))
    t.require(("id", "label"), "missing; every file must set it")
    t.check("id", (lambda v: v.isidentifier(), "{value!r} must be letters, digits and '_'"))
    t.number("radius", lo=0, lo_open=True)
    t.number("share", lo=0, hi=1)
    t.choice("mode", ("network", "euclidean"))
    t.flag("split")
    t.texts("tags")
    with pytest.raises(LayerFileError) as exc:
        p.raise_if_any("Layer file f.toml is malformed:")
    expected = [
        "f.toml: key 'colour': unknown key (did you mean 'color'?); allowed keys are color, id, "
        "label, mode, radius, share, split, tags",
        "f.toml: key 'label': missing; every file must set it",
        "f.toml: key 'id': 'Bad Id' must be letters, digits and '_'",
        "f.toml: key 'radius': -3 must be a positive number",
        "f.toml: key 'share': 1.5 must be a number from 0 to 1",
        "f.toml: key 'mode': 'Network' must be one of network, euclidean (did you mean 'network'?)",
        "f.toml: key 'split': 'yes' must be true or false",
        "f.toml: key 'tags': must be a list of strings",
    ]
    assert exc.value.problems == expected
    assert str(exc.value) == "Layer file f.toml is malformed:\n" + "\n".join(
        f"  - {line}" for line in expected
    )


def test_no_problem_raises_nothing_and_getters_return_values_or_defaults():
    t, p = _table({"n": 3, "x": 0.5, "on": False, "who": "total", "names": ["a"], "t": "hi"})
    assert t.integer("n", lo=1, hi=12) == 3
    assert t.number("x", lo=0, hi=1) == 0.5
    assert t.flag("on", default=True) is False
    assert t.flag("absent", default=True) is True
    assert t.choice("who", ("total", "age_60plus")) == "total"
    assert t.texts("names") == ["a"]
    assert t.text("t") == "hi"
    assert t.number("absent", default=7) == 7
    assert not p and len(p) == 0
    p.raise_if_any("never raised")


# --------------------------------------------------------------------------- getters


def test_check_reports_only_the_first_failing_rule_and_returns_none():
    t, p = _table({"radii": [500, 300]})
    got = t.check(
        "radii",
        (lambda v: isinstance(v, list), "must be a list"),
        (lambda v: v == sorted(v), "{value} must be ascending"),
        (lambda v: len(v) > 5, "never reached"),
    )
    assert got is None
    assert p.lines == ["f.toml: key 'radii': [500, 300] must be ascending"]


def test_required_key_and_callable_message():
    t, p = _table({"speed": 100})
    assert t.check("target", required="missing; set it") is None
    t.check("speed", (lambda v: v < 30, lambda v: f"{v} km/h is not walking"))
    assert p.lines == [
        "f.toml: key 'target': missing; set it",
        "f.toml: key 'speed': 100 km/h is not walking",
    ]


def test_message_braces_other_than_value_are_kept():
    t, p = _table({"label": 3})
    t.check("label", (lambda v: isinstance(v, dict), "{value!r}: use { en = '...' }"))
    assert p.lines == ["f.toml: key 'label': 3: use { en = '...' }"]


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (-1, {"lo": 0, "hi": 1}, "-1 must be a number from 0 to 1"),
        (0, {"lo": 0, "lo_open": True}, "0 must be a positive number"),
        (2, {"lo": 0, "hi": 1, "lo_open": True}, "2 must be a number above 0 and at most 1"),
        (
            1e6,
            {"lo": 0, "hi": 1e6, "hi_open": True},
            "1000000.0 must be a number at least 0 and below 1,000,000",
        ),
        (True, {}, "True must be a number"),  # a bool is not a number
        (math.nan, {"lo": 0}, "nan must be a number at least 0"),
        ("3", {"lo": 0}, "'3' must be a number at least 0"),
    ],
)
def test_number_rejects_out_of_range_bools_nan_and_text(value, kwargs, message):
    t, p = _table({"v": value})
    assert t.number("v", **kwargs) is None
    assert p.lines == [f"f.toml: key 'v': {message}"]


def test_integer_rejects_floats_and_bools():
    t, p = _table({"a": 1.5, "b": True, "c": 13})
    for key in "abc":
        t.integer(key, lo=1, hi=12)
    assert p.lines == [
        "f.toml: key 'a': 1.5 must be an integer from 1 to 12",
        "f.toml: key 'b': True must be an integer from 1 to 12",
        "f.toml: key 'c': 13 must be an integer from 1 to 12",
    ]


def test_choice_of_an_unhashable_value_is_a_problem_not_a_crash():
    t, p = _table({"population": {"a": 1}, "kind": "kids"})
    t.choice("population", ("total", "age_60plus"))
    t.choice("kind", ("total", "age_60plus"))  # nothing close: no suggestion
    assert p.lines == [
        "f.toml: key 'population': {'a': 1} must be one of total, age_60plus",
        "f.toml: key 'kind': 'kids' must be one of total, age_60plus",
    ]


def test_text_blank_and_labels():
    t, p = _table({"unit": " ", "name": "X", "title": {"zh": "标题"}, "desc": 3, "standard": ""})
    assert t.text("unit") is None
    assert t.text("standard", blank=True) == ""
    assert t.labels("name", text_ok=True) == {"en": "X"}
    assert t.labels("title", need=("en",)) is None
    assert t.labels("desc") is None
    assert t.labels("absent", default={}) == {}
    assert p.lines == [
        "f.toml: key 'unit': ' ' must be text",
        "f.toml: key 'title': needs at least an 'en' entry",
        "f.toml: key 'desc': must be a table like { en = '...', zh = '...' }",
    ]


def test_nested_tables_name_their_dotted_keys():
    data = {
        "capacity": {"unit": "beds", "per_1000": -4, "units": 1},
        "match": [{"amenity": "pharmacy"}, "shop", {"shop": 3}],
        "rules": [],
    }
    t, p = _table(data)
    cap = t.table("capacity")
    cap.unknown(("unit", "default", "per_1000", "source"), hint="")
    cap.number("per_1000", lo=0, lo_open=True)
    tables = t.tables("match")
    for m in tables:
        m.text("shop")
    assert t.tables("rules") == []
    assert t.tables("absent") == []
    assert [m.prefix for m in tables] == ["match[0]", "match[2]"]
    assert p.lines == [
        "f.toml: key 'capacity.units': unknown key (did you mean 'unit'?)",
        "f.toml: key 'capacity.per_1000': -4 must be a positive number",
        "f.toml: key 'match[1]': must be a table",
        "f.toml: key 'match[2].shop': 3 must be text",
        "f.toml: key 'rules': needs at least one [[rules]] table",
    ]


# --------------------------------------------------------------------------- parts of a file, rows


def test_within_shares_the_list_and_prefixes_the_part():
    p = Problems("spec.toml")
    run = p.within("run 2 ('a')")
    Table({"mode": "flying"}, run).choice("mode", ("network", "euclidean"))
    run.within("scenario 1").add("name", "missing")
    p.note("no runs")
    assert p.lines == [
        "spec.toml: run 2 ('a'): key 'mode': 'flying' must be one of network, euclidean",
        "spec.toml: run 2 ('a'): scenario 1: key 'name': missing",
        "spec.toml: no runs",
    ]
    assert Problems().within("line 3").where == "line 3"


def test_rows_are_reported_row_by_row_in_check_order():
    p = Problems("t.csv")
    years = ["2035", "20x5", "2040"]
    factors = [-1.0, 2.0, -3.0]
    failed = p.rows(
        [2, 3, 4],
        [
            ([y == "20x5" for y in years], lambda i: f"column 'year' {years[i]!r} is not a year"),
            ([f < 0 for f in factors], lambda i: f"column 'factor' {factors[i]:g} must be ≥ 0"),
        ],
    )
    assert failed == [True, True, True]
    assert p.lines == [
        "t.csv: row 2: column 'factor' -1 must be ≥ 0",
        "t.csv: row 3: column 'year' '20x5' is not a year",
        "t.csv: row 4: column 'factor' -3 must be ≥ 0",
    ]
    q = Problems()
    assert q.rows([5], [([False], lambda i: "never")], label="line") == [False]
    q.rows([7], [([True], lambda i: "missing longitude")], label="line")
    assert q.lines == ["line 7: missing longitude"]


# --------------------------------------------------------------------------- helpers


def test_did_you_mean_and_closest():
    assert closest("colour", ["color", "icon"]) == "color"
    assert closest("RURAL", ["core", "rural"]) == "rural"
    assert closest("zzz", ["color"]) is None
    assert did_you_mean("klause", ["clause", "id"]) == " (did you mean 'clause'?)"
    assert did_you_mean("zzz", ["clause"]) == ""


def test_is_number():
    assert is_number(3) and is_number(0.5)
    assert not is_number(True) and not is_number(math.inf) and not is_number("3")


def test_read_toml_errors_name_the_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('a = 1\n[b]\nc = "x"\n', encoding="utf-8")
    assert read_toml(good) == {"a": 1, "b": {"c": "x"}}
    with pytest.raises(StandardFileError) as exc:
        read_toml(tmp_path / "nope.toml", what="standards profile", error=StandardFileError)
    assert str(exc.value) == f"{tmp_path / 'nope.toml'}: standards profile not found"
    with pytest.raises(InputError) as exc:
        read_toml(tmp_path, what="batch spec")
    assert str(exc.value) == f"{tmp_path}: is a folder; give the batch spec TOML file"
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"a = \xff\n")
    with pytest.raises(InputError, match=r"bad.toml: not UTF-8 text \(.*\); save it as UTF-8"):
        read_toml(bad)
    bad.write_text("a = [", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.toml: not valid TOML: .*\. Fix the syntax\."):
        read_toml(bad)


# --------------------------------------------------------------------------- a worked example


def test_layer_file_with_four_mistakes_gets_one_error_naming_each(tmp_path):
    f = tmp_path / "library.toml"
    f.write_text(
        'id = "library"\n'
        'label = { zh = "图书馆" }\n'
        'population = "Total"\n'
        "radii_m = [500, 300]\n"
        "target_m = 500\n"
        "colour = '#123456'\n"
        "[[match]]\n"
        'amenity = "library"\n',
        encoding="utf-8",
    )
    with pytest.raises(LayerFileError) as exc:
        parse_layer_file(f)
    assert exc.value.problems == [
        f"{f}: key 'colour': unknown key (did you mean 'color'?); allowed keys are capacity, "
        "classify, color, description, icon, id, label, match, minutes, name_hints, order, "
        "population, radii_m, read_tags, speed_kmh, standard, standard_profile, target_m, "
        "target_min, target_share",
        f"{f}: key 'label': needs at least an 'en' entry",
        f"{f}: key 'population': 'Total' must be one of total, age_60plus (did you mean 'total'?)",
        f"{f}: key 'radii_m': [500, 300] must be strictly ascending",
    ]
    assert str(exc.value).startswith(f"Layer file {f} is malformed:\n  - {f}: key 'colour'")
