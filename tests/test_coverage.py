"""The coverage report: every NumPy ufunc and array function classified, and each class true.

The classes are checked against behaviour: a 'rule' entry is registered and returns dual
numbers, a 'plain' entry returns no dual number, a 'raises' entry raises TypeError when a
dual number reaches it.
"""

import inspect

import numpy as np
import pytest

import dualdiff
from dualdiff import Dual, coverage
from dualdiff.coverage import REASON_TEXT, REASONS, classify, counts, run_example
from dualdiff.dispatch import FUNCTION_EXAMPLES, FUNCTIONS, INTEGER_ARGUMENT_RULES, RULES
from dualdiff.rules import COMPOSED, MULTI_OUTPUT

ENTRIES = classify()
SAMPLE = Dual(np.array([[0.5, 1.5], [2.0, 3.0]]), np.ones((2, 2)))


def by_status(status):
    return [pytest.param(e, id=e.name) for e in ENTRIES if e.status == status]


def holds_dual(obj):
    if isinstance(obj, list | tuple):
        return any(holds_dual(item) for item in obj)
    return isinstance(obj, Dual)


def test_nothing_is_unclassified():
    assert counts(ENTRIES)["unclassified"] == 0, [
        e.name for e in ENTRIES if e.status == "unclassified"
    ]


def test_every_overridable_entry_is_listed_once():
    from numpy.testing import overrides  # noqa: PLC0415

    listed = [e.obj for e in ENTRIES]
    assert len(listed) == len({id(obj) for obj in listed})
    assert set(overrides.get_overridable_numpy_ufuncs()) <= set(listed)
    functions = set(overrides.get_overridable_numpy_array_functions())
    assert functions <= set(listed)
    assert sum(counts(ENTRIES).values()) == len(ENTRIES)


def test_every_class_is_populated():
    total = counts(ENTRIES)
    assert total["rule"] > 100 and total["plain"] >= 14 and total["raises"] > 0


def test_reasons_are_named_categories():
    raised = {e.reason for e in ENTRIES if e.status == "raises"}
    assert raised <= set(REASON_TEXT)
    assert set(REASONS.values()) <= set(REASON_TEXT)


def test_scipy_special_rules_are_listed():
    names = {e.name: e for e in ENTRIES}
    assert names["scipy.special.erf"].status == "rule"
    assert names["scipy.special.gammaln"].kind == "ufunc"


@pytest.mark.parametrize("entry", by_status("rule"))
def test_rule_entries_are_registered(entry):
    if entry.kind == "ufunc":
        ufunc = entry.obj
        assert (ufunc in RULES or ufunc in INTEGER_ARGUMENT_RULES or ufunc in COMPOSED
                or ufunc in MULTI_OUTPUT)
    else:
        assert entry.obj in FUNCTIONS
        assert FUNCTION_EXAMPLES[entry.obj]


@pytest.mark.parametrize("entry", by_status("plain"))
def test_plain_entries_return_plain_values(entry):
    if entry.kind == "ufunc":
        result = entry.obj(*(SAMPLE,) * entry.obj.nin)
        assert not holds_dual(result)
        assert np.shape(result) == SAMPLE.shape
        return
    for example in FUNCTION_EXAMPLES[entry.obj]:
        result = run_example(entry.obj, example)
        assert result is not None and not holds_dual(result)


def sample_call(func):
    """Call ``func`` with the sample dual number in every required argument (and like=)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except ValueError:  # no signature (np.fromstring): one positional argument
        return func(SAMPLE)
    args, kwargs = [], {}
    for p in parameters:
        required = p.default is p.empty
        positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        if (positional and required) or p.kind == p.VAR_POSITIONAL:
            args.append(SAMPLE)
        elif p.name == "like" or (p.kind == p.KEYWORD_ONLY and required):
            kwargs[p.name] = SAMPLE
    return func(*args, **kwargs)


@pytest.mark.parametrize("entry", by_status("raises"))
def test_raises_entries_raise_type_error(entry):
    if entry.kind == "ufunc":
        with pytest.raises(TypeError) as info:
            entry.obj(*(SAMPLE,) * entry.obj.nin)
    else:
        with pytest.raises(TypeError) as info:
            sample_call(entry.obj)
    message = str(info.value)
    assert "dualdiff" in message or "Dual" in message, message


def test_integer_only_ufuncs_say_why():
    with pytest.raises(TypeError, match="integers only"):
        np.gcd(SAMPLE, SAMPLE)
    with pytest.raises(TypeError, match="integers only"):
        np.left_shift(SAMPLE, 1)


def test_classification_reads_the_live_registry():
    # A function without a rule moves from 'raises' to 'rule' as soon as one is registered.
    entry = next(e for e in ENTRIES if e.kind == "function" and e.reason == coverage.NOT_YET)
    func = entry.obj

    def status():
        return {e.name: e.status for e in classify()}[entry.name]

    assert func not in FUNCTIONS
    assert status() == "raises"
    try:
        dualdiff.register_function(func, examples=((np.array([0.3, 1.2]),),))(
            lambda x, *args, **kwargs: 2.0 * x
        )
        assert status() == "rule"
    finally:
        FUNCTIONS.pop(func, None)
        FUNCTION_EXAMPLES.pop(func, None)
    assert status() == "raises"


def test_reports(capsys):
    assert coverage.main([]) == 0
    text = capsys.readouterr().out
    assert "numpy.sin " in text and "unclassified" in text
    assert f"{len(ENTRIES)} entries" in text
    assert coverage.main(["--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "| `numpy.sin` | ufunc | rule |" in markdown
    assert "| status | count |" in markdown
    assert coverage.main(["--status", "unclassified"]) == 0
    assert "no entries" in capsys.readouterr().out
