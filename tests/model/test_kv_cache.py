"""The KV cache must not change the model's outputs: logits and greedy tokens match the full-context run."""

import torch

from tests.model.model_helpers import tiny_model
from tui_transformer.model import generate


def _decode_with_cache(model, tokens, prompt_len, naive=False):
    """Prefill ``prompt_len`` tokens, then feed the rest one at a time; logits at each new position."""
    cache = model.new_cache(batch_size=tokens.shape[0], max_len=tokens.shape[1], naive=naive)
    with torch.no_grad():
        steps = [model(tokens[:, :prompt_len], cache=cache)[:, -1]]
        for t in range(prompt_len, tokens.shape[1]):
            steps.append(model(tokens[:, t : t + 1], cache=cache)[:, -1])
    assert cache.length == tokens.shape[1]
    return steps


def test_cached_logits_equal_full_context_logits_at_every_step(pos_encoding):
    model = tiny_model(pos_encoding=pos_encoding)
    tokens = torch.randint(0, model.config.vocab_size, (3, 40), generator=torch.Generator().manual_seed(1))
    prompt_len = 7
    cached = _decode_with_cache(model, tokens, prompt_len)
    with torch.no_grad():
        for i, step_logits in enumerate(cached):
            end = prompt_len + i  # the cached step saw tokens[:, :end]
            full = model(tokens[:, :end])[:, -1]
            assert (step_logits - full).abs().max().item() < 1e-4, f"step {i} differs"
    # The rows of the batch are distinct sequences, so a mix-up between them would show.
    assert not torch.allclose(cached[-1][0], cached[-1][1])


def test_naive_cache_gives_the_same_logits_as_the_preallocated_one(pos_encoding):
    model = tiny_model(pos_encoding=pos_encoding)
    tokens = torch.randint(0, model.config.vocab_size, (2, 24), generator=torch.Generator().manual_seed(2))
    prealloc = torch.stack(_decode_with_cache(model, tokens, 5))
    naive = torch.stack(_decode_with_cache(model, tokens, 5, naive=True))
    assert (prealloc - naive).abs().max().item() < 1e-5


def test_greedy_generation_is_identical_with_and_without_cache(pos_encoding):
    model = tiny_model(pos_encoding=pos_encoding)
    prompt = [3, 14, 15, 9, 26]
    with_cache = list(generate(model, prompt, max_new_tokens=60, use_cache=True))
    without = list(generate(model, prompt, max_new_tokens=60, use_cache=False))
    assert len(with_cache) == 60
    assert with_cache == without
    assert len(set(with_cache)) > 3, "degenerate model: the comparison would prove little"


def test_cache_memory_matches_the_formula():
    model = tiny_model()
    cfg = model.config
    cache = model.new_cache(batch_size=3, max_len=50)
    expected = 2 * cfg.n_layers * 3 * cfg.n_heads * 50 * cfg.d_head * 4  # fp32: 4 bytes per value
    assert cache.memory_bytes() == expected
    with torch.no_grad():
        model(torch.zeros(3, 10, dtype=torch.long), cache=cache)
    assert cache.memory_bytes() == expected, "preallocated: memory does not change as it fills"


def test_naive_cache_memory_grows_with_its_length():
    model = tiny_model()
    cfg = model.config
    cache = model.new_cache(batch_size=2, naive=True)
    with torch.no_grad():
        model(torch.zeros(2, 10, dtype=torch.long), cache=cache)
    assert cache.memory_bytes() == 2 * cfg.n_layers * 2 * cfg.n_heads * 10 * cfg.d_head * 4


def test_a_full_cache_refuses_more_tokens_with_a_clear_error():
    model = tiny_model()
    cache = model.new_cache(batch_size=1, max_len=4)
    with torch.no_grad():
        model(torch.zeros(1, 4, dtype=torch.long), cache=cache)
        try:
            model(torch.zeros(1, 1, dtype=torch.long), cache=cache)
        except ValueError as error:
            assert "full" in str(error)
        else:
            raise AssertionError("writing past the cache should fail")
