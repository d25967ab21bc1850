"""companion.datasets.LaneKeeping: dynamics, the expert, the sensor, seeding and errors."""
from __future__ import annotations

import pytest
import torch

from companion.datasets import LaneKeeping


def test_expert_stays_on_the_line_and_its_actions_are_recorded():
    env = LaneKeeping(max_offset=3, bend_prob=0.6, sensor_noise=0.1)
    traj = env.rollout("expert", 200, 30, seed=1)
    assert set(traj) == {"offset", "bend", "observed_bend", "action", "expert_action", "cost"}
    assert all(v.shape == (200, 30) for v in traj.values())
    assert float(traj["cost"].sum()) == 0.0 and int(traj["offset"].abs().max()) == 0
    assert torch.equal(traj["action"], traj["expert_action"])
    assert torch.equal(traj["action"], traj["bend"] + 1)  # on the line: steer with the bend


def test_dynamics_cost_and_expert_rule_off_the_line():
    env = LaneKeeping(max_offset=2)
    offset = torch.tensor([-2, -1, 0, 1, 2, 2])
    bend = torch.tensor([1, -1, 0, 1, -1, 1])
    # clip(bend - offset, -1, 1) + 1
    assert env.expert_action(offset, bend).tolist() == [2, 1, 1, 1, 0, 0]
    # a policy that always goes straight: offset drifts against the bend and hits the wall
    traj = env.rollout(lambda d, b: torch.ones_like(d), 1000, 40, seed=0)
    d, bd, c = traj["offset"], traj["bend"], traj["cost"]
    nxt = (d + traj["action"] - 1 - bd).clamp(-2, 2)
    assert torch.equal(nxt[:, :-1], d[:, 1:])
    assert torch.equal(c, (nxt != 0).to(c.dtype))
    assert int(d.abs().max()) == 2


def test_bend_and_sensor_rates():
    env = LaneKeeping(bend_prob=0.5, sensor_noise=0.1)
    traj = env.rollout("expert", 2000, 50, seed=3)
    b, ob = traj["bend"], traj["observed_bend"]
    n = b.numel()
    assert abs((b != 0).sum().item() / n - 0.5) < 0.01
    assert abs((b == 1).sum().item() / n - 0.25) < 0.01
    wrong = ob != b
    assert abs(wrong.sum().item() / n - 0.1) < 0.005
    # a wrong reading is one of the two other values, each about half the time
    shift = (ob - b)[wrong] % 3
    assert abs((shift == 1).double().mean().item() - 0.5) < 0.02
    assert int(ob.min()) == -1 and int(ob.max()) == 1
    clean = LaneKeeping(sensor_noise=0.0).rollout("expert", 50, 20, seed=3)
    assert torch.equal(clean["observed_bend"], clean["bend"])


def test_common_random_numbers_and_seeding():
    env = LaneKeeping()
    a = env.rollout("expert", 30, 12, seed=5)
    b = env.rollout(lambda d, ob: ob + 1, 30, 12, seed=5)      # a different policy
    assert torch.equal(a["bend"], b["bend"]) and torch.equal(a["observed_bend"],
                                                              b["observed_bend"])
    c = env.rollout("expert", 30, 12, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(a[k], c[k]) for k in a)
    assert not torch.equal(env.rollout("expert", 30, 12, seed=6)["bend"], a["bend"])
    off, obs, act = env.expert_data(30, 12, seed=5)
    assert off.shape == (360,) and torch.equal(act, a["action"].reshape(-1))
    assert torch.equal(obs, a["observed_bend"].reshape(-1))


def test_features_are_two_one_hots():
    env = LaneKeeping(max_offset=2)
    f = env.features(torch.tensor([-2, 0, 2]), torch.tensor([1, -1, 0]), dtype=torch.float64)
    assert f.shape == (3, env.num_features) == (3, 8) and f.dtype == torch.float64
    assert f.sum(1).tolist() == [2.0, 2.0, 2.0]
    assert f[0, 0] == 1 and f[0, 5 + 2] == 1 and f[2, 4] == 1 and f[2, 5 + 1] == 1


def test_a_policy_is_not_given_the_true_bend_and_cannot_corrupt_the_state():
    env = LaneKeeping(sensor_noise=0.0)

    def vandal(offset, observed):
        offset += 3                      # writes into its argument
        return observed + 1

    traj = env.rollout(vandal, 10, 5, seed=0)
    assert float(traj["cost"].sum()) == 0.0     # the environment kept its own offset


@pytest.mark.parametrize("kwargs,match", [
    (dict(max_offset=0), "max_offset"),
    (dict(max_offset=2.0), "max_offset"),
    (dict(bend_prob=1.5), "bend_prob"),
    (dict(sensor_noise=1.0), "sensor_noise"),
    (dict(sensor_noise=True), "sensor_noise"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LaneKeeping(**kwargs)


def test_rollout_errors():
    env = LaneKeeping()
    with pytest.raises(TypeError, match="policy"):
        env.rollout("teacher", 2, 3)
    with pytest.raises(ValueError, match="horizon"):
        env.rollout("expert", 2, 0)
    with pytest.raises(ValueError, match="n_episodes"):
        env.rollout("expert", True, 3)
    with pytest.raises(ValueError, match="one action per episode"):
        env.rollout(lambda d, b: torch.ones(3, dtype=torch.long), 2, 3)
    with pytest.raises(ValueError, match=r"\{0, 1, 2\}"):
        env.rollout(lambda d, b: torch.full_like(d, 3), 2, 3)
    with pytest.raises(ValueError, match="either seed or generator"):
        env.rollout("expert", 2, 3, seed=1, generator=torch.Generator())
