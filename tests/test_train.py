"""companion.train: the shared full-batch L-BFGS helpers."""
from __future__ import annotations

import pytest
import torch

import companion
from companion.train import fit, fit_linear


def test_fit_reaches_the_minimum_of_a_quadratic():
    target = torch.tensor([1.5, -2.0, 0.25], dtype=torch.float64)
    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    loss = fit(theta, lambda: ((theta - target) ** 2).sum())
    assert loss < 1e-16
    torch.testing.assert_close(theta.detach(), target, atol=1e-8, rtol=0)


def test_fit_weight_decay_shrinks_to_the_ridge_solution():
    # minimiser of (theta - a)^2 + (lam / 2) theta^2 is a / (1 + lam / 2)
    a, lam = 3.0, 0.5
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    loss = fit(theta, lambda: ((theta - a) ** 2).sum(), weight_decay=lam)
    expected = a / (1 + lam / 2)
    assert abs(theta.item() - expected) < 1e-8
    assert abs(loss - (expected - a) ** 2) < 1e-8  # reported without the penalty


def test_fit_linear_matches_the_closed_form_least_squares():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g, dtype=torch.float64)
    w_true = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    y = x @ w_true.T + 0.3 + 0.1 * torch.randn(200, 1, generator=g, dtype=torch.float64)
    model = fit_linear(x, y, lambda z, t: ((z - t) ** 2).mean())
    design = torch.cat([x, torch.ones(200, 1, dtype=torch.float64)], 1)
    solution = torch.linalg.lstsq(design, y).solution.squeeze(1)
    got = torch.cat([model.weight.squeeze(0), model.bias])
    torch.testing.assert_close(got, solution, atol=1e-6, rtol=0)
    assert not any(p.requires_grad for p in model.parameters())


def test_fit_linear_logistic_regression_is_stationary_and_deterministic():
    x, y = companion.datasets.imbalanced_blobs(500, [0.7, 0.3], seed=3, dtype=torch.float64)
    first = fit_linear(x, y, companion.cross_entropy)
    second = fit_linear(x, y, companion.cross_entropy)
    assert torch.equal(first.weight, second.weight)
    assert first.weight.shape == (2, 2)
    w = first.weight.clone().requires_grad_(True)
    b = first.bias.clone().requires_grad_(True)
    companion.cross_entropy(x @ w.T + b, y).backward()
    assert w.grad.abs().max() < 1e-5 and b.grad.abs().max() < 1e-5


def test_fit_linear_infers_outputs_from_soft_targets():
    x = torch.randn(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    soft = torch.full((20, 4), 0.25, dtype=torch.float64)
    assert fit_linear(x, soft, companion.cross_entropy, max_iter=5).out_features == 4


def test_fit_does_not_touch_parameters_that_are_not_passed():
    a = torch.zeros(1, requires_grad=True)
    b = torch.ones(1, requires_grad=True)
    fit(a, lambda: ((a - 2) ** 2 + (b - 5) ** 2).sum())
    assert b.item() == 1.0 and abs(a.item() - 2.0) < 1e-5


@pytest.mark.parametrize("params, match", [
    ([], "params is empty"),
    ([torch.zeros(2)], r"params\[0\] does not require grad"),
    ([1.0], r"params\[0\] must be a tensor"),
    (3, "params must be"),
])
def test_fit_rejects_bad_params(params, match):
    with pytest.raises((TypeError, ValueError), match=match):
        fit(params, lambda: torch.tensor(0.0))


def test_fit_rejects_bad_objective_and_hyperparameters():
    theta = torch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="objective must be callable"):
        fit(theta, 3.0)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        fit(theta, lambda: theta.sum(), max_iter=0)
    with pytest.raises(ValueError, match="weight_decay must be"):
        fit(theta, lambda: theta.sum(), weight_decay=float("nan"))
    with pytest.raises(ValueError, match="scalar tensor"):
        fit(theta, lambda: theta * 2)
    with pytest.raises(ValueError, match="non-finite loss"):
        fit(theta, lambda: (theta * float("nan")).sum())


def test_fit_linear_rejects_bad_inputs():
    with pytest.raises(TypeError, match="x must be a floating"):
        fit_linear(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long),
                   companion.cross_entropy)
    with pytest.raises(ValueError, match="x must be 2-D"):
        fit_linear(torch.zeros(3), torch.zeros(3, dtype=torch.long), companion.cross_entropy)
    with pytest.raises(ValueError, match="out_features could not be inferred"):
        fit_linear(torch.zeros(3, 2), torch.zeros(3), companion.cross_entropy)


def test_book_style_is_colour_blind_safe_and_distinct_without_colour():
    pytest.importorskip("matplotlib")
    import matplotlib as mpl

    from companion.plotting import LINESTYLES, MARKERS, OKABE_ITO, use_book_style

    use_book_style()
    cycle = mpl.rcParams["axes.prop_cycle"].by_key()
    assert cycle["color"] == OKABE_ITO
    # no two series in the cycle share a line style: they differ without colour too
    styles = [str(s) for s in cycle["linestyle"]]
    assert len(set(styles)) == len(styles) == len(LINESTYLES) == len(MARKERS)
    assert mpl.rcParams["legend.fontsize"] >= 9 and mpl.rcParams["savefig.dpi"] >= 150
