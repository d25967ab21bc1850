"""A corridor environment for behavioural cloning (Chapter 12)."""
from __future__ import annotations

import torch

from ._common import make_generator

LEFT, STAY, RIGHT = 0, 1, 2


class Corridor:
    r"""A 1-D corridor: stay near the centre; an expert always steps towards it.

    States are integer positions :math:`s \in \{0, \dots, W-1\}` with centre :math:`c = \lfloor W/2 \rfloor`;
    actions are ``0`` (left), ``1`` (stay) and ``2`` (right), moving by :math:`a - 1` (clipped at
    the walls). With probability ``slip`` the executed action is replaced by a uniformly random
    one. A step costs 1 when :math:`|s - c| >` ``tube``, else 0. The expert's action points to
    the centre, so expert trajectories stay inside the tube. Ross and Bagnell's
    :math:`\varepsilon T^2` bound on the cost gap of a cloned policy applies, but this corridor
    does not attain it: a clone of the expert's one-hot policy has no gap without slips, and with
    ``slip > 0`` random actions push the expert out of the tube as well, so the clone sees those
    states and its gap grows about linearly with the horizon. :class:`LaneKeeping`, where the
    learner's own errors take it to states the expert never visits, shows the quadratic growth
    (Chapter 12).

    Everything is vectorised over episodes; only time steps are a loop.

    Args:
        width: number of positions :math:`W \ge 3`.
        tube: half-width of the zero-cost band around the centre (``0 <= tube < W // 2``).
        slip: probability that an executed action is random, in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from companion.datasets import Corridor
        >>> env = Corridor(width=11, tube=1)
        >>> states, actions = env.expert_data(4, 10, seed=0)
        >>> tuple(states.shape), sorted(set(actions.tolist())) <= [0, 1, 2]
        ((40,), True)
        >>> # the expert costs nothing
        >>> float(env.rollout(env.expert_action, 8, 20, seed=0).sum())
        0.0

    References:
        Ross and Bagnell (2010), *Efficient reductions for imitation learning*,
        https://proceedings.mlr.press/v9/ross10a.html.

    See also:
        Chapter 12, imitation learning.
    """

    num_actions = 3

    def __init__(self, width=21, tube=2, slip=0.0):
        if isinstance(width, bool) or not isinstance(width, int) or width < 3:
            raise ValueError(f"width must be an int >= 3, got {width!r}")
        if isinstance(tube, bool) or not isinstance(tube, int) or not 0 <= tube < width // 2:
            raise ValueError(f"tube must be an int in [0, {width // 2}), got {tube!r}")
        if isinstance(slip, bool) or not isinstance(slip, (int, float)) or not 0 <= slip <= 1:
            raise ValueError(f"slip must be a number in [0, 1], got {slip!r}")
        self.width, self.tube, self.slip = width, tube, float(slip)
        self.center = width // 2

    def __repr__(self):
        return f"Corridor(width={self.width}, tube={self.tube}, slip={self.slip})"

    def expert_action(self, states):
        """The expert's actions: step towards the centre, stay on it. ``(E,)`` int64."""
        return (torch.sign(self.center - states) + 1).long()

    def step(self, states, actions, generator=None):
        """Next states after ``actions`` (with slips drawn from ``generator``)."""
        actions = actions.long()
        if self.slip > 0:
            random = torch.randint(3, actions.shape, generator=generator)
            slipped = torch.rand(actions.shape, generator=generator) < self.slip
            actions = torch.where(slipped, random, actions)
        return (states + actions - 1).clamp(0, self.width - 1)

    def cost(self, states):
        """1.0 outside the tube, 0.0 inside, per state."""
        return ((states - self.center).abs() > self.tube).to(torch.get_default_dtype())

    def features(self, states, dtype=None):
        """One-hot encoding ``(E, width)`` of the positions, a policy network's input."""
        return torch.nn.functional.one_hot(states.long(), self.width).to(dtype or torch.get_default_dtype())

    def _start(self, n, generator):
        return self.center + torch.randint(-self.tube, self.tube + 1, (n,), generator=generator)

    def _check(self, n_episodes, horizon):
        for name, v in (("n_episodes", n_episodes), ("horizon", horizon)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")

    def expert_data(self, n_episodes, horizon, *, seed=None, generator=None):
        """Expert state-action pairs from ``n_episodes`` rollouts of ``horizon`` steps.

        Returns:
            ``(states, actions)``: two int64 tensors of length ``n_episodes * horizon``.
        """
        self._check(n_episodes, horizon)
        g = make_generator(seed, generator)
        s = self._start(n_episodes, g)
        states, actions = [], []
        for _ in range(horizon):
            a = self.expert_action(s)
            states.append(s)
            actions.append(a)
            s = self.step(s, a, g)
        return torch.stack(states, 1).reshape(-1), torch.stack(actions, 1).reshape(-1)

    def rollout(self, policy, n_episodes, horizon, *, seed=None, generator=None):
        """Run ``policy`` and return the per-step costs ``(n_episodes, horizon)``.

        ``policy`` maps ``(E,)`` int64 states to ``(E,)`` int64 actions in {0, 1, 2}
        (e.g. ``lambda s: model(env.features(s)).argmax(-1)``).
        """
        self._check(n_episodes, horizon)
        if not callable(policy):
            raise TypeError(f"policy must be callable, got {type(policy).__name__}")
        g = make_generator(seed, generator)
        s = self._start(n_episodes, g)
        costs = []
        for _ in range(horizon):
            a = policy(s)
            if not isinstance(a, torch.Tensor) or a.shape != s.shape:
                raise ValueError(f"policy must return one action per state, shape {tuple(s.shape)}")
            s = self.step(s, a.cpu(), g)
            costs.append(self.cost(s))
        return torch.stack(costs, 1)
