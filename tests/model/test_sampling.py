"""Sampling, checked statistically with fixed seeds and thousands of draws."""

import math

import pytest
import torch

from tests.model.model_helpers import tiny_model
from tui_transformer.errors import ConfigError, UserError
from tui_transformer.model import SAMPLER_PRESETS, SamplingConfig, generate
from tui_transformer.model.sampling import Sampler, apply_repetition_penalty

DRAWS = 20_000
# A known distribution over 6 tokens (the last one has probability 0.02).
PROBS = torch.tensor([0.05, 0.40, 0.25, 0.15, 0.13, 0.02])
LOGITS = PROBS.log()


def _draw(config: SamplingConfig, logits: torch.Tensor = LOGITS, context=None) -> torch.Tensor:
    """DRAWS tokens from the same logits, as one batch of DRAWS rows."""
    sampler = Sampler(config)
    rows = logits.expand(DRAWS, -1)
    if context is not None:
        context = context.expand(DRAWS, -1)
    tokens, _ = sampler.sample(rows, context)
    return tokens


def _frequencies(tokens: torch.Tensor, n: int = 6) -> torch.Tensor:
    return torch.bincount(tokens, minlength=n).float() / tokens.numel()


def _assert_close_to(frequencies: torch.Tensor, expected: torch.Tensor) -> None:
    # 5 standard errors of a proportion estimated from DRAWS samples: a real bias fails,
    # sampling noise does not.
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / DRAWS) + 1e-9
    assert torch.all((frequencies - expected).abs() <= tolerance), (frequencies, expected)


def test_plain_sampling_follows_the_model_distribution():
    _assert_close_to(_frequencies(_draw(SamplingConfig(seed=0))), PROBS)


def test_top_k_never_emits_outside_the_top_k():
    tokens = _draw(SamplingConfig(top_k=3, seed=0))
    assert set(tokens.tolist()) == {1, 2, 3}
    kept = torch.tensor([0, 0.40, 0.25, 0.15, 0, 0]) / 0.80
    _assert_close_to(_frequencies(tokens), kept)


def test_top_p_keeps_the_smallest_nucleus_reaching_p():
    # Sorted: 0.40, 0.25, 0.15, 0.13, ... Cumulative 0.40, 0.65, 0.80: p = 0.7 needs three tokens.
    tokens = _draw(SamplingConfig(top_p=0.7, seed=0))
    assert set(tokens.tolist()) == {1, 2, 3}
    _assert_close_to(_frequencies(tokens), torch.tensor([0, 0.40, 0.25, 0.15, 0, 0]) / 0.80)
    # p = 0.3 is reached by the top token alone.
    assert set(_draw(SamplingConfig(top_p=0.3, seed=0)).tolist()) == {1}


def test_min_p_drops_tokens_below_min_p_times_p_max():
    # Threshold 0.3 * 0.40 = 0.12: keeps 0.40, 0.25, 0.15, 0.13; drops 0.05 and 0.02.
    tokens = _draw(SamplingConfig(min_p=0.3, seed=0))
    assert set(tokens.tolist()) == {1, 2, 3, 4}
    _assert_close_to(_frequencies(tokens), torch.tensor([0, 0.40, 0.25, 0.15, 0.13, 0]) / 0.93)


def test_temperature_scales_the_logits():
    tokens = _draw(SamplingConfig(temperature=2.0, seed=0))
    _assert_close_to(_frequencies(tokens), torch.softmax(LOGITS / 2.0, dim=-1))


def test_temperature_towards_zero_equals_greedy():
    logits = torch.randn(50, 40, generator=torch.Generator().manual_seed(0))
    cold, _ = Sampler(SamplingConfig(temperature=1e-4, seed=0)).sample(logits)
    greedy, probs = Sampler(SamplingConfig(temperature=0.0)).sample(logits)
    assert torch.equal(cold, logits.argmax(-1))
    assert torch.equal(greedy, logits.argmax(-1))
    assert torch.equal(probs.argmax(-1), greedy) and torch.all(probs.max(-1).values == 1.0)
    model = tiny_model()
    prompt = [5, 6, 7]
    assert list(generate(model, prompt, 30, SamplingConfig(temperature=1e-4, seed=1))) == list(
        generate(model, prompt, 30, SamplingConfig(temperature=0.0))
    )


def test_repetition_penalty_follows_the_ctrl_rule():
    logits = torch.tensor([[2.0, -2.0, 1.0, -1.0, 0.5]])
    context = torch.tensor([[0, 1, 1, 4]])  # token 1 twice: penalised once, not twice
    penalised = apply_repetition_penalty(logits, context, 2.0)
    assert torch.equal(penalised, torch.tensor([[1.0, -4.0, 1.0, -1.0, 0.25]]))
    probs = Sampler(SamplingConfig(repetition_penalty=2.0)).distribution(logits, context)
    assert torch.allclose(probs, torch.softmax(penalised, -1))
    tokens = _draw(SamplingConfig(repetition_penalty=1.5, seed=0), context=torch.tensor([[1]]))
    expected_logits = LOGITS.clone()
    expected_logits[1] *= 1.5  # log 0.4 < 0: multiplied
    _assert_close_to(_frequencies(tokens), torch.softmax(expected_logits, -1))


def test_the_same_seed_gives_the_same_sample():
    model = tiny_model()
    config = SamplingConfig(temperature=1.5, seed=1234)
    first = list(generate(model, [1, 2, 3], 40, config))
    assert first == list(generate(model, [1, 2, 3], 40, config))
    assert first != list(generate(model, [1, 2, 3], 40, SamplingConfig(temperature=1.5, seed=99)))


def test_top_k_runs_before_top_p():
    # top-k=2 keeps 0.40 and 0.25, renormalised to 0.615 and 0.385; top-p=0.6 is then reached by
    # the first alone. The other order would keep both (0.40 < 0.6 on the raw distribution).
    probs = Sampler(SamplingConfig(top_k=2, top_p=0.6)).distribution(LOGITS.unsqueeze(0))[0]
    assert torch.equal(probs, torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, 0.0]))


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("temperature", -0.1, ">= 0"),
        ("temperature", float("nan"), ">= 0"),
        ("top_k", -1, ">= 0"),
        ("top_k", 2.5, ">= 0"),
        ("top_p", 0.0, "(0, 1]"),
        ("top_p", 1.5, "(0, 1]"),
        ("min_p", 1.0, "[0, 1)"),
        ("min_p", -0.2, "[0, 1)"),
        ("repetition_penalty", 0.0, "> 0"),
        ("seed", 2**63, "2**63 - 1"),  # torch said "Overflow when unpacking long long" at 2**64
        ("seed", -1, "from 0"),  # the same rule as train --seed, whose NumPy refuses negatives
        ("seed", 1.5, "whole number"),
    ],
)
def test_bad_values_give_a_clear_error(field, value, allowed):
    with pytest.raises(ValueError) as caught:
        SamplingConfig(**{field: value})
    assert isinstance(caught.value, ConfigError)
    message = str(caught.value)
    assert field in message and allowed in message and repr(value) in message


def test_the_seed_range_is_one_the_generators_take():
    """Both ends of the range seed a generator, each reproducibly, and differently from the other."""
    logits = torch.zeros(64, 1000)

    def tokens(seed: int) -> torch.Tensor:
        sampler = Sampler(SamplingConfig(seed=seed))
        assert sampler.generator.initial_seed() == seed
        return sampler.sample(logits)[0]

    low, high = tokens(0), tokens(2**63 - 1)
    assert torch.equal(low, tokens(0)) and torch.equal(high, tokens(2**63 - 1))
    assert not torch.equal(low, high)


def test_the_draw_is_the_one_torch_multinomial_makes():
    """The exponential race is multinomial's own one-sample draw: the same generator gives the same tokens."""
    probs = torch.softmax(torch.randn(32, 500, generator=torch.Generator().manual_seed(3)), dim=-1)
    probs[:, :100] = 0.0  # zero-probability tokens are never drawn
    ours = Sampler(SamplingConfig(seed=11)).draw(probs)
    theirs = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(11)).squeeze(-1)
    assert torch.equal(ours, theirs) and bool((ours >= 100).all())


def test_presets_are_valid_and_ordered_from_cold_to_hot():
    assert list(SAMPLER_PRESETS) == ["greedy", "precise", "balanced", "creative", "very-creative"]
    temperatures = [p.temperature for p in SAMPLER_PRESETS.values()]
    assert temperatures == sorted(temperatures) and SAMPLER_PRESETS["greedy"].greedy
    assert all(math.isfinite(t) for t in temperatures)


def test_a_model_with_nan_weights_gives_a_clear_error_when_generating():
    model = tiny_model()
    with torch.no_grad():
        model.blocks[0].ff.up.weight.fill_(float("nan"))  # as a diverged run leaves it
    with pytest.raises(UserError, match="NaN/inf logits"):
        list(generate(model, [1, 2, 3], 5, SamplingConfig(seed=0)))


def test_top_p_after_top_k_ranks_only_the_candidates_with_the_same_result():
    from tui_transformer.model.sampling import top_k_filter, top_p_filter

    logits = torch.randn(4, 500, generator=torch.Generator().manual_seed(5))
    probs = torch.softmax(top_k_filter(logits, 40), dim=-1)
    assert torch.equal(top_p_filter(probs, 0.8, candidates=40), top_p_filter(probs, 0.8))
