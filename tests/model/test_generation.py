"""Generation: prefill once, decode one token at a time, stop on time, slide past max_seq_len."""

import pytest
import torch

from tests.model.model_helpers import TorchCalls, tiny_model
from tui_transformer.errors import ConfigError
from tui_transformer.model import SamplingConfig, generate, generate_steps
from tui_transformer.model.generation import window_keep


def _record_forward_lengths(model) -> list[int]:
    """The number of tokens fed to each forward pass of ``model``, in order."""
    lengths: list[int] = []
    model.register_forward_pre_hook(lambda module, args, kwargs: lengths.append(args[0].shape[1]), with_kwargs=True)
    return lengths


def test_prefill_is_one_forward_pass_then_one_token_per_step():
    model = tiny_model()
    lengths = _record_forward_lengths(model)
    tokens = list(generate(model, list(range(1, 12)), max_new_tokens=8))
    assert len(tokens) == 8
    # The prompt's 11 tokens in one pass give token 1; tokens 2..8 need one single-token pass each.
    assert lengths == [11] + [1] * 7


def test_without_cache_every_step_reruns_the_context():
    model = tiny_model()
    lengths = _record_forward_lengths(model)
    list(generate(model, [1, 2, 3], max_new_tokens=4, use_cache=False))
    assert lengths == [3, 4, 5, 6]


def test_the_window_slides_past_max_seq_len(pos_encoding):
    model = tiny_model(pos_encoding=pos_encoding, max_seq_len=16)
    lengths = _record_forward_lengths(model)
    cached = list(generate(model, [1, 2, 3, 4, 5], max_new_tokens=60))
    assert len(cached) == 60
    keep = window_keep(16)
    assert max(lengths) <= 16
    assert lengths.count(keep) >= 10, "the cache was rebuilt from the last window each time it filled"
    # The uncached path sees exactly the same windows, so it chooses the same tokens.
    assert cached == list(generate(model, [1, 2, 3, 4, 5], max_new_tokens=60, use_cache=False))


def test_a_prompt_longer_than_max_seq_len_is_cut_to_its_last_window():
    model = tiny_model(max_seq_len=16)
    lengths = _record_forward_lengths(model)
    prompt = list(range(40))
    first = list(generate(model, prompt, max_new_tokens=3))
    assert lengths[0] == window_keep(16)
    assert first == list(generate(model, prompt[-window_keep(16):], max_new_tokens=3))


def _greedy(model, prompt, n=40):
    return list(generate(model, prompt, max_new_tokens=n))


def test_stops_at_the_eos_id_and_yields_it():
    model = tiny_model()
    free = _greedy(model, [7, 8, 9])
    eos = free[5]
    first = free.index(eos)
    stopped = list(generate(model, [7, 8, 9], max_new_tokens=40, eos_id=eos))
    assert stopped == free[: first + 1]


def test_stops_at_a_stop_sequence():
    model = tiny_model()
    free = _greedy(model, [7, 8, 9])
    stop = free[10:12]
    end = next(i + 2 for i in range(len(free)) if free[i : i + 2] == stop)
    stopped = list(generate(model, [7, 8, 9], max_new_tokens=40, stop_sequences=[[60, 60, 60], stop]))
    assert stopped == free[:end]


def test_batched_prompts_give_each_row_its_own_sequence():
    model = tiny_model()
    prompts = torch.tensor([[1, 2, 3, 4], [9, 8, 7, 6], [5, 5, 5, 5]])
    steps = list(generate(model, prompts, max_new_tokens=25))
    assert all(isinstance(s, torch.Tensor) and s.shape == (3,) for s in steps)
    batched = torch.stack(steps, dim=1)
    for row in range(3):
        assert batched[row].tolist() == _greedy(model, prompts[row].tolist(), 25)


def test_batched_rows_that_finish_emit_eos_until_all_are_done():
    model = tiny_model()
    prompts = [[1, 2, 3, 4], [9, 8, 7, 6]]
    row0 = _greedy(model, prompts[0], 30)
    eos = row0[3]
    steps = list(generate_steps(model, prompts, max_new_tokens=30, eos_id=eos))
    tokens = torch.stack([s.token_ids for s in steps], dim=1)
    first = row0.index(eos)
    assert tokens[0, : first + 1].tolist() == row0[: first + 1]
    assert torch.all(tokens[0, first:] == eos)
    assert bool(steps[first].finished[0])
    if first:
        assert not bool(steps[first - 1].finished[0])


def test_steps_carry_the_distribution_that_was_sampled_from():
    model = tiny_model()
    config = SamplingConfig(temperature=0.9, top_k=5, seed=3)
    steps = list(generate_steps(model, [4, 5, 6], max_new_tokens=10, sampling=config))
    for step in steps:
        assert step.probs.shape == (1, 61)
        assert torch.allclose(step.probs.sum(-1), torch.ones(1))
        assert int((step.probs > 0).sum()) <= 5
        assert step.probs[0, step.token_ids[0]] > 0
    assert [s.position for s in steps] == list(range(3, 13))
    assert [int(s.token_ids[0]) for s in steps] == list(generate(model, [4, 5, 6], 10, config))


def test_generation_runs_in_eval_mode_and_restores_the_previous_mode():
    model = tiny_model(dropout=0.3)
    model.train()
    seen = []
    for _ in generate(model, [1, 2], max_new_tokens=3):
        seen.append(model.training)
    assert seen == [False, False, False]
    assert model.training
    iterator = generate(model, [1, 2], max_new_tokens=10)
    next(iterator)
    iterator.close()  # a consumer that stops early
    assert model.training


@pytest.mark.parametrize(
    "prompt, message",
    [([], "at least one token"), ([1, 99], "[0, 60]"), ([[1, 2], [3]], "prompt must be"), ([-1], "[0, 60]")],
)
def test_bad_prompts_give_a_clear_error(prompt, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        list(generate(tiny_model(), prompt, max_new_tokens=2))


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(max_new_tokens=-1), "max_new_tokens"), (dict(max_new_tokens=2.5), "max_new_tokens"),
     (dict(max_new_tokens=3, stop_sequences=[5, 6]), "stop_sequences")],
)
def test_bad_settings_give_a_clear_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        list(generate(tiny_model(), [1, 2], **kwargs))


def test_zero_new_tokens_yields_nothing():
    assert list(generate(tiny_model(), [1, 2], max_new_tokens=0)) == []


def test_last_only_logits_equal_the_last_row_of_the_full_logits(pos_encoding):
    model = tiny_model(pos_encoding=pos_encoding)
    tokens = torch.randint(0, 61, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(tokens)
        last = model(tokens, last_only=True)
    assert last.shape == (2, 1, 61)
    assert torch.allclose(last[:, 0], full[:, -1], atol=1e-6)


def test_a_generation_that_cannot_end_early_never_asks_whether_it_ended():
    """Without eos_id or stop sequences no row can finish: no ``all()`` check per token (on a GPU,
    a device sync each; the one at the prefill checks the logits are finite). With an eos_id the
    check runs once per token."""
    model = tiny_model()

    def all_calls(new_tokens: int, **kwargs) -> int:
        with TorchCalls() as calls:
            assert len(list(generate_steps(model, [[1, 2, 3]], max_new_tokens=new_tokens, **kwargs))) == new_tokens
        return calls.names.count("all")

    assert all_calls(3) == all_calls(9) == 1
    assert all_calls(9, eos_id=model.config.vocab_size - 1) - all_calls(3, eos_id=model.config.vocab_size - 1) == 6


def test_a_sampled_token_is_never_read_back_to_the_cpu():
    """Drawing stays on the device: no ``item``, ``tolist`` or truth test of a tensor per token (the
    prompt's range check and the prefill's finiteness check run once per generation)."""
    model = tiny_model()
    sampling = SamplingConfig(temperature=0.9, top_k=20, top_p=0.9, min_p=0.02, repetition_penalty=1.2, seed=0)

    def reads(new_tokens: int) -> list[str]:
        with TorchCalls() as calls:
            assert len(list(generate_steps(model, [[1, 2, 3]], max_new_tokens=new_tokens, sampling=sampling))) == new_tokens
        return [name for name in calls.names if name in ("item", "tolist", "__bool__", "__int__", "__float__")]

    assert reads(3) == reads(9) and reads(3).count("__bool__") == 1
