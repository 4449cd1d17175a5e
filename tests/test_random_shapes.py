"""hypothesis draws shapes, broadcasting, batches and points for every elementwise rule.

The table-driven tests use fixed shapes; here the shapes of both operands,
their broadcasting, whether the tangent carries a batch of directions, and
which operands are live are all drawn at random, and ``check_jvp`` judges.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dualdiff.dispatch import RULES
from dualdiff.rules import RATIOS, differentiable_arguments
from dualdiff.testing import check_jvp

# Rules on RATIOS (remainder, fmod, floor_divide, copysign, heaviside) jump wherever x / y
# crosses an integer: mixing the columns of their domain makes |x / y| large and the jumps
# dense, closer together than any finite-difference step, so only the fixed points of
# tests/test_rules.py (chosen between jumps) can check them.
ELEMENTWISE = sorted(
    (
        rule
        for rule in RULES.values()
        if rule.jvp is None and rule.ufunc.nin in (1, 2) and rule.domain is not RATIOS
    ),
    key=lambda rule: rule.ufunc.__name__,
)


@st.composite
def cases(draw):
    """A rule, operands of broadcastable random shapes drawn from its domain, and tangents."""
    rule = draw(st.sampled_from(ELEMENTWISE))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=rule.ufunc.nin, max_dims=3,
                                                    max_side=3)).input_shapes
    points = [p if isinstance(p, tuple) else (p,) for p in rule.domain]
    operands = []
    for position, shape in enumerate(shapes):
        picks = draw(st.lists(st.integers(0, len(points) - 1), min_size=int(np.prod(shape)),
                              max_size=int(np.prod(shape))))
        # each operand draws from its own column of the domain's rows; the columns of the
        # binary domains are chosen so that any mix stays inside the domain (no ties,
        # no zero divisors, no integer ratios)
        operands.append(np.array([points[i][position] for i in picks]).reshape(shape))
    batch = draw(st.sampled_from([(), (2,)]))
    nin = rule.ufunc.nin
    live = draw(st.lists(st.booleans(), min_size=nin, max_size=nin).filter(any))
    live = [on and i in differentiable_arguments(rule) for i, on in enumerate(live)]
    if not any(live):  # only arguments the rule does not differentiate were drawn
        live = [i in differentiable_arguments(rule) for i in range(nin)]
    seed = draw(st.integers(0, 2**32 - 1))
    return rule, operands, batch, live, seed


@settings(max_examples=1000, deadline=None)
@given(case=cases())
def test_rules_on_random_shapes_and_batches(case):
    rule, operands, batch, live, seed = case
    rng = np.random.default_rng(seed)
    live_operands = [x for x, on in zip(operands, live, strict=True) if on]
    constants = {i: x for i, (x, on) in enumerate(zip(operands, live, strict=True)) if not on}

    def f(*args):
        it = iter(args)
        return rule.ufunc(*(constants[i] if i in constants else next(it)
                            for i in range(rule.ufunc.nin)))

    tangents = tuple(rng.standard_normal(batch + x.shape) for x in live_operands)
    check_jvp(f, tuple(live_operands), tangents)
