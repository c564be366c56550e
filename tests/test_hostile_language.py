"""Text written to hurt the front end (issue 12): every reproducer ends in diagnostics with a
place, in bounded time and memory, never a traceback. Limits are `graphdl.limits.LIMITS`."""

from __future__ import annotations

import pytest

import graphdl
from graphdl.elaborate import parameter_value
from graphdl.limits import LIMITS


def network(body: str, header: str = "") -> str:
    return f"network t{header} {{\n" + body + "\n}\n"


def errors(text: str, parameters=None):
    checked = graphdl.check_text(text, parameters=parameters, path="t.dlg")
    found = [d for d in checked.diagnostics if d.is_error]
    assert found, checked.diagnostics
    assert all(d.span is not None for d in checked.diagnostics), checked.diagnostics
    return found


def first_error(text: str, parameters=None):
    return errors(text, parameters)[0]


# ---- arithmetic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,message",
    [
        ("0**-1", "division by zero"),
        ("0.0 ** -0.5", "division by zero"),
        ("1e308 ** 2", "no finite real value"),
        ("(10**64)**64 / 3", "too large"),
        ("floor(1e999)", "too large"),
        ("round(1e999)", "too large"),
        ("floor(1e308 * 10)", "no finite real value"),
        ("round(1e300)", "more than 100 digits"),
        ("10**60 * 10**60", "more than 100 digits"),
    ],
)
def test_arithmetic_failures_are_diagnostics_at_the_expression(value, message):
    text = network(f"a = featureInput(3)\nf = fullyConnected({value})")
    diagnostic = first_error(text)
    assert diagnostic.code == "E218" and message in diagnostic.message and diagnostic.span.line == 3


def test_chained_squarings_stop_at_the_digit_limit_before_computing():
    lets = "\n".join(f"let x{i + 1} = x{i} * x{i}" for i in range(40))
    found = errors(network(f"let x0 = 2\n{lets}\na = featureInput(x40)"))
    # One diagnostic, at the first square past the limit; the constants after it say nothing more.
    assert [d.code for d in found] == ["E218"] and "more than 100 digits" in found[0].message
    assert found[0].span.line == 11  # x9 = 2^512, of 155 digits


def test_an_integer_of_thousands_of_digits_is_refused_with_its_length():
    diagnostic = first_error(network("a = featureInput(3)\nf = fullyConnected(" + "9" * 8193 + ")"))
    assert diagnostic.code == "E102" and "8,193 digits" in diagnostic.message


@pytest.mark.parametrize("depth", [330, 450, 500, 5000])
def test_calls_nested_hundreds_deep_are_refused_at_a_bracket(depth):
    text = network("a = featureInput(" + "max(" * depth + "3" + ")" * depth + ")")
    diagnostic = first_error(text)
    assert diagnostic.code == "E102" and "nested more than" in diagnostic.message
    assert diagnostic.span.line == 2


def test_a_sum_of_thousands_of_terms_is_refused():
    diagnostic = first_error(network("a = featureInput(" + "+".join(["1"] * 5000) + ")"))
    assert diagnostic.code == "E102" and "nested more than" in diagnostic.message


def test_resizing_past_any_number_is_a_diagnostic():
    # A scale past float32's range is refused where it is written; scales within it, one after
    # another, pass any float's range where they do.
    text = network("a = imageInput([8, 8, 3])\nr1 = resize2d(scale=1e300)")
    diagnostic = first_error(text)
    assert diagnostic.code == "E207" and diagnostic.span.line == 3 and "float32" in diagnostic.message
    text = network("a = imageInput([8, 8, 3])\n" + "\n".join(f"r{i} = resize2d(scale=3e38)" for i in range(10)))
    diagnostic = first_error(text)
    assert diagnostic.code == "E403" and diagnostic.span.line == 10  # the ninth: 8 * (3e38)^9 passes 1.8e308


# ---- values given from outside ------------------------------------------------------------------

PARAMETRISED = network("a = featureInput(size)", "(size=3)")


@pytest.mark.parametrize(
    "value,message",
    [
        (None, "no values of type NoneType"),
        (object(), "no values of type object"),
        (10**5000, "more than 100 digits"),
        (float("inf"), "no finite number"),
        ([[[1]]], None),
        ('a"b\'', "cannot write"),
        (parameter_value("0**-1"), "division by zero"),
        (parameter_value("1e308 ** 2"), "no finite real value"),
        (parameter_value("(10**64)**64 / 3"), "too large"),
        (parameter_value("floor(1e999)"), "too large"),
        (parameter_value("+".join(["1"] * 5000)), "nested more than"),
        (parameter_value("9" * 8193), "8,193 digits"),
    ],
    ids=["None", "object", "huge-int", "inf", "list", "quotes", "zero-div", "overflow", "power", "floor-inf", "sum", "digits"],
)
def test_parameter_values_of_any_kind_are_diagnostics_at_the_parameter(value, message):
    diagnostic = first_error(PARAMETRISED, {"size": value})
    if message is None:  # a value the language holds, of the wrong kind for the argument
        assert diagnostic.code == "E203"
        return
    assert diagnostic.code == "E224" and message in diagnostic.message and diagnostic.span.line == 1


def test_parameters_named_by_other_than_strings_or_not_a_mapping_are_diagnostics():
    assert first_error(PARAMETRISED, {1: 2}).code == "E224"
    assert first_error(PARAMETRISED, [("size", 3)]).code == "E229"


def test_parameter_values_from_python_are_the_language_s():
    graph = graphdl.loads(network("a = imageInput(size)", "(size=[1, 1, 1])"), parameters={"size": [28, 28, 1]})
    assert graph.layers[0].arguments == ((None, (28, 28, 1)),)


def test_a_word_given_with_set_is_still_a_string():
    assert parameter_value("relu") == "relu" and parameter_value("2 * 64") == 128


# ---- limits checked before the work --------------------------------------------------------------


@pytest.mark.parametrize("last", ["1000000000", "10**30"])
def test_a_repetition_past_the_limit_is_refused_at_its_for(last):
    text = network(f"a = featureInput(3)\nr = relu() for i in 0..{last}\nfc = fullyConnected(2)")
    diagnostic = first_error(text)
    assert diagnostic.code == "E231" and "one `for` makes at most" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 12)


def test_nested_repetitions_are_counted_before_they_are_expanded():
    text = (
        "block b1() { r = relu() for i in 1..1000 }\nblock b2() { x = b1() for i in 1..1000 }\n"
        + network("a = featureInput(3)\ny = b2() for i in 1..1000")
    )
    diagnostic = first_error(text)
    assert diagnostic.code == "E231" and "1,000,000,000 layers" in diagnostic.message and diagnostic.span.line == 5


def test_doubling_blocks_are_counted_before_they_are_expanded():
    blocks = "block d0() { a = relu()\n b = relu() }\n" + "".join(f"block d{i + 1}() {{ a = d{i}()\n b = d{i}() }}\n" for i in range(40))
    diagnostic = first_error(blocks + network("x = featureInput(3)\ny = d40()"))
    assert diagnostic.code == "E231" and f"{2**41:,} layers" in diagnostic.message


def test_a_repetition_whose_members_differ_is_counted_member_by_member():
    text = "block unit(n) { r = relu() for j in 1..n }\n" + network("a = featureInput(3)\ny = unit(i * 1000) for i in 1..100")
    diagnostic = first_error(text)  # 1000 + 2000 + ... + 100,000 layers: past the limit at the 45th
    assert diagnostic.code == "E231" and "more than the 1,000,000" in diagnostic.message


def test_blocks_nested_past_the_limit_are_refused():
    blocks = "block b0() { r = relu() }\n" + "".join(f"block b{i + 1}() {{ x = b{i}() }}\n" for i in range(300))
    diagnostic = first_error(blocks + network("a = featureInput(3)\ny = b300()"))
    assert diagnostic.code == "E231" and f"nested more than {LIMITS.block_depth} deep" in diagnostic.message


@pytest.mark.parametrize("kind,count", [("addition", "2147483647"), ("depthConcatenation", "10**8")])
def test_ports_are_bounded_before_any_is_named(kind, count):
    diagnostic = first_error(network(f"a = featureInput(3)\nb = {kind}({count})"))
    assert diagnostic.code == "E207" and f"to {LIMITS.ports:,}" in diagnostic.message and 'GRAPHDL_LIMITS="ports=N"' in diagnostic.help


def test_long_lines_large_texts_and_long_lists_are_refused_at_once():
    line = first_error(network("a = featureInput(" + "(" * 100_000 + "3" + ")" * 100_000 + ")"))
    assert line.code == "E102" and "characters long" in line.message and line.span.column == LIMITS.line_characters + 1
    items = first_error(network("a = featureInput(3)\nlet x = [" + ",\n".join(["1"] * 20_000) + "]"))
    assert items.code == "E102" and "items in one list" in items.message and items.span.line == 3
    size = first_error(network("a = featureInput(3)") + "#\n" * (LIMITS.file_bytes // 2))
    assert size.code == "E102" and "larger than" in size.message


# ---- positions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["class", "_a"])
def test_a_broken_statement_declaring_a_bad_name_points_at_the_name(name):
    checked = graphdl.check_text(network(f"a = featureInput(3)\n  {name} = relu(,)"))
    codes = {d.code: d for d in checked.diagnostics}
    assert set(codes) == {"E101", "E216"}
    assert (codes["E216"].span.line, codes["E216"].span.column, codes["E216"].span.end_column) == (3, 3, 3 + len(name))


# ---- linear costs -------------------------------------------------------------------------------


def test_many_inline_layers_are_named_in_order():
    graph = graphdl.loads(network("a = featureInput(3)\na -> " + " -> ".join(["relu()"] * 3000)))
    assert [layer.name for layer in graph.layers[1:4]] == ["relu", "relu_1", "relu_2"] and graph.layers[-1].name == "relu_2999"


def test_many_extra_arguments_each_get_their_place():
    found = errors(network("a = featureInput(3)\nf = fullyConnected(3" + ", 1" * 4000 + ")"))
    assert len(found) == 4000 and all(d.code == "E204" for d in found)
    assert found[-1].span.column == 23 + 3 * 3999


def test_many_unknown_references_are_each_reported_the_first_with_suggestions():
    body = "a = featureInput(3)\n" + "\n".join(f"l{i} = relu()" for i in range(3000)) + "\n" + "\n".join(f"l{i}x -> l{i}" for i in range(3000))
    found = [d for d in errors(network(body)) if d.code == "E211"]
    assert len(found) == 3000 and "`l7`" in found[7].help
    assert found[LIMITS.errors].help == f"declare it: `l{LIMITS.errors}x = kind(...)`"


# ---- networks that check, yet cannot run ----------------------------------------------------------


@pytest.mark.parametrize(
    "body,message",
    [
        ("a = featureInput(2147483647)\nf = fullyConnected(2147483647)", "4.6e18 learnables, 18.4 EB of float32"),
        ("a = sequenceInput(3)\nl = lstm(2147483647)", "1.8e19 learnables"),
        ("a = imageInput([65536, 65536, 3])", "1.3e10 values, 51.5 GB of float32"),
    ],
)
def test_networks_no_device_holds_are_warned_of_with_the_numbers(body, message):
    checked = graphdl.check_text(network(body))
    (warning,) = checked.diagnostics
    assert checked.ok and warning.code == "E405" and message in warning.message and warning.span is not None


@pytest.mark.parametrize(
    "body,line",
    [
        ("a = imageInput([8, 1])\ng = globalAveragePooling2d()\nn = instanceNormalization()", 4),
        ("a = imageInput([1, 1, 2])\nn = groupNormalization(2)", 3),
    ],
)
def test_normalising_single_values_is_warned_of_at_the_layer(body, line):
    checked = graphdl.check_text(network(body))
    (warning,) = checked.diagnostics
    assert checked.ok and warning.code == "E406" and warning.span.line == line


def test_normalising_more_than_one_value_is_not_warned_of():
    assert graphdl.check_text(network("a = imageInput([2, 1, 2])\nn = groupNormalization(2)\nm = instanceNormalization()")).diagnostics == ()
