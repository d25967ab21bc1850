"""A lane-keeping environment for behavioural cloning and DAgger (Chapter 12)."""
from __future__ import annotations

import torch

from ._common import make_generator

__all__ = ["LaneKeeping"]

_KEYS = ("offset", "bend", "observed_bend", "action", "expert_action", "cost")


class LaneKeeping:
    r"""Keep a car on the centre line of a winding lane, seeing the bends through a noisy sensor.

    The state is the car's lateral offset :math:`d \in \{-M, \dots, M\}` from the lane's centre
    line. At every step the lane bends by :math:`\delta \in \{-1, 0, 1\}` (drawn afresh, a bend
    with probability ``bend_prob``, either way equally often) and the car steers by
    :math:`a - 1 \in \{-1, 0, 1\}` (action indices ``0``, ``1``, ``2``), so that

    .. math::

        d' = \operatorname{clip}\bigl(d + (a - 1) - \delta,\, -M,\, M\bigr), \qquad
        c = \mathbb 1[d' \neq 0] .

    The expert sees the true bend and steers back to the centre line,
    :math:`a^\star - 1 = \operatorname{clip}(\delta - d, -1, 1)`; starting on the line it never
    leaves it and costs nothing. A learner sees the offset exactly but the bend through a sensor
    that, with probability ``sensor_noise``, reports one of the two other values at random. A
    cloned policy therefore errs on the expert's states at a rate close to ``sensor_noise``;
    what it does at the offsets the expert never visits is what Chapter 12 is about.

    The road's bends and the sensor's errors are drawn in a fixed order that does not depend on
    the policy, so rollouts of two policies with the same seed see the same road and the same
    sensor readings (common random numbers). Everything is vectorised over episodes.

    Args:
        max_offset: :math:`M \ge 1`, the walls of the corridor of offsets.
        bend_prob: probability in ``[0, 1]`` that the lane bends at a step.
        sensor_noise: probability in ``[0, 1)`` that the observed bend is wrong.

    Example:
        >>> from companion.datasets import LaneKeeping
        >>> env = LaneKeeping(max_offset=3, sensor_noise=0.05)
        >>> traj = env.rollout("expert", 4, 10, seed=0)
        >>> # the expert costs nothing
        >>> tuple(traj["cost"].shape), float(traj["cost"].sum())
        ((4, 10), 0.0)
        >>> # steer with the observed bend
        >>> follow = lambda offset, observed: observed + 1
        >>> float(env.rollout(follow, 500, 10, seed=0)["cost"].mean()) > 0
        True

    References:
        Ross and Bagnell (2010), *Efficient reductions for imitation learning*,
        https://proceedings.mlr.press/v9/ross10a.html; Ross, Gordon and Bagnell (2011),
        *A reduction of imitation learning and structured prediction to no-regret online
        learning*, https://proceedings.mlr.press/v15/ross11a.html.

    See also:
        Chapter 12, imitation learning.
    """

    num_actions = 3

    def __init__(self, max_offset=4, bend_prob=0.5, sensor_noise=0.02):
        if isinstance(max_offset, bool) or not isinstance(max_offset, int) or max_offset < 1:
            raise ValueError(f"max_offset must be an int >= 1, got {max_offset!r}")
        for name, v, upper_open in (("bend_prob", bend_prob, False),
                                    ("sensor_noise", sensor_noise, True)):
            ok = not isinstance(v, bool) and isinstance(v, (int, float))
            ok = ok and 0 <= v and (v < 1 if upper_open else v <= 1)
            if not ok:
                interval = "[0, 1)" if upper_open else "[0, 1]"
                raise ValueError(f"{name} must be a number in {interval}, got {v!r}")
        self.max_offset = max_offset
        self.bend_prob, self.sensor_noise = float(bend_prob), float(sensor_noise)

    def __repr__(self):
        return (f"LaneKeeping(max_offset={self.max_offset}, bend_prob={self.bend_prob}, "
                f"sensor_noise={self.sensor_noise})")

    @property
    def num_features(self):
        """Length of :meth:`features`: one-hot offset (``2M + 1``) plus one-hot bend (3)."""
        return 2 * self.max_offset + 1 + 3

    def expert_action(self, offset, bend):
        """The expert's action indices ``(E,)``: steer by ``clip(bend - offset, -1, 1)``."""
        return ((bend - offset).clamp(-1, 1) + 1).long()

    def features(self, offset, observed_bend, dtype=None):
        """A learner's input ``(E, 2M + 4)``: one-hot offset, then one-hot observed bend."""
        dtype = dtype or torch.get_default_dtype()
        f = torch.nn.functional.one_hot
        return torch.cat([f(offset.long() + self.max_offset, 2 * self.max_offset + 1),
                          f(observed_bend.long() + 1, 3)], -1).to(dtype)

    def _bends(self, n, g):
        u = torch.rand(n, generator=g)
        half = self.bend_prob / 2
        return torch.where(u < half, -1, torch.where(u < 2 * half, 1, 0))

    def _observe(self, bend, g):
        wrong = torch.rand(bend.shape, generator=g) < self.sensor_noise
        # one of the two other values, equally likely: shift by 1 or 2 modulo 3
        other = (bend + 1 + torch.randint(1, 3, bend.shape, generator=g)) % 3 - 1
        return torch.where(wrong, other, bend)

    @staticmethod
    def _check_sizes(n_episodes, horizon):
        for name, v in (("n_episodes", n_episodes), ("horizon", horizon)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")

    def rollout(self, policy, n_episodes, horizon, *, seed=None, generator=None):
        """Run ``policy`` from the centre line for ``horizon`` steps.

        Args:
            policy: ``"expert"`` (steers with the true bend), or a callable
                ``policy(offset, observed_bend)`` mapping two ``(E,)`` int64 tensors to ``(E,)``
                action indices in ``{0, 1, 2}``.
            n_episodes, horizon: positive ints.
            seed, generator: the randomness of the road and the sensor (default seed 0).

        Returns:
            dict of ``(n_episodes, horizon)`` tensors: ``"offset"`` (before the step),
            ``"bend"``, ``"observed_bend"``, ``"action"`` (taken), ``"expert_action"`` (what
            the expert would have done in that state) and ``"cost"`` (after the step, floating).

        Raises:
            TypeError: ``policy`` is neither ``"expert"`` nor callable.
            ValueError: bad sizes, or the policy returns the wrong shape or an invalid action.
        """
        self._check_sizes(n_episodes, horizon)
        is_expert = isinstance(policy, str) and policy == "expert"
        if not is_expert and not callable(policy):
            raise TypeError(f"policy must be 'expert' or callable, got {policy!r}")
        g = make_generator(seed, generator)
        offset = torch.zeros(n_episodes, dtype=torch.long)
        out = {k: [] for k in _KEYS}
        for _ in range(horizon):
            bend = self._bends(n_episodes, g)
            observed = self._observe(bend, g)
            expert = self.expert_action(offset, bend)
            action = expert if is_expert else policy(offset.clone(), observed.clone())
            if not isinstance(action, torch.Tensor) or action.shape != offset.shape:
                raise ValueError(f"policy must return one action per episode, shape "
                                 f"{tuple(offset.shape)}, got {getattr(action, 'shape', action)}")
            action = action.long().cpu()
            if action.numel() and (action.min() < 0 or action.max() > 2):
                raise ValueError("policy must return action indices in {0, 1, 2}")
            for k, v in zip(_KEYS[:5], (offset, bend, observed, action, expert)):
                out[k].append(v)
            offset = (offset + action - 1 - bend).clamp(-self.max_offset, self.max_offset)
            out["cost"].append((offset != 0).to(torch.get_default_dtype()))
        return {k: torch.stack(v, 1) for k, v in out.items()}

    def expert_data(self, n_episodes, horizon, *, seed=None, generator=None):
        """Expert demonstrations as a learner records them.

        Returns:
            ``(offset, observed_bend, action)``: three int64 tensors of length
            ``n_episodes * horizon``, the expert's states as the learner's sensor sees them and
            the expert's actions.
        """
        traj = self.rollout("expert", n_episodes, horizon, seed=seed, generator=generator)
        return (traj["offset"].reshape(-1), traj["observed_bend"].reshape(-1),
                traj["action"].reshape(-1))
