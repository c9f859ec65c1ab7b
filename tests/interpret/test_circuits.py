"""Head roles, induction, patching and ablation on a hand-built circuit and on random models."""

import torch

from tests.interpret.circuit_model import T, V, circuit_model
from tui_transformer.interpret.ablation import ablate_heads
from tui_transformer.interpret.head_roles import ROLE_THRESHOLD, head_roles
from tui_transformer.interpret.induction import (PROBE_LENGTH, induction_probe_tokens, induction_report, probe_length,
                                                 repeated_random_tokens)
from tui_transformer.interpret.patching import patch
from tui_transformer.model import DecoderTransformer, ModelConfig, generate

R = 6  # 2R = 12 <= T


def test_the_hand_built_model_predicts_the_second_copy():
    model = circuit_model()
    tokens = repeated_random_tokens(range(V), R, batch=4, seed=1)
    with torch.no_grad():
        predicted = model(tokens).argmax(-1)
    # from the second token of the second copy on; at its first token (position R) position 0 ties
    # with position 1, since position 0 has no previous token and writes its own into PREV
    assert torch.equal(predicted[:, R + 1:2 * R - 1], tokens[:, R + 2:]), "every later second-copy token is predicted"


def test_the_detectors_name_exactly_the_built_heads():
    model = circuit_model()
    tokens = repeated_random_tokens(range(V), R, batch=4, seed=1)
    roles = head_roles(model, tokens, period=R).table()
    assert roles == [["previous token", None], ["induction", None]]
    report = induction_report(model, range(V), length=R, batch=4, seed=1)
    assert report.strongest()[:2] == (1, 0) and report.strongest()[2] > 0.9
    assert report.prefix_matching[0].max() < 0.3 and report.prefix_matching[1, 1] < 0.3
    assert report.copying[1, 0] > 2.0 and report.copying[1, 1] == 0.0, report.copying
    assert report.in_context_learning > 1.0, "the second copy is far easier than the first"


def test_a_seeded_random_model_plays_no_role():
    torch.manual_seed(0)
    model = DecoderTransformer(ModelConfig(vocab_size=64, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                                           max_seq_len=32, pos_encoding="rope")).eval()
    tokens = repeated_random_tokens(range(64), 12, batch=4, seed=0)
    roles = head_roles(model, tokens, period=12)
    assert roles.scores.max() < ROLE_THRESHOLD and all(r is None for row in roles.table() for r in row)
    report = induction_report(model, range(64), length=12, batch=4)
    assert report.prefix_matching.max() < 0.2 and abs(report.in_context_learning) < 0.2


def test_patching_the_induction_head_recovers_the_clean_answer():
    model = circuit_model()
    # "0 1 2 3 4 0 1 2 3" predicts 4; the corrupted "0 1 2 3 5 0 1 2 3" predicts 5
    clean = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3])
    corrupted = torch.tensor([0, 1, 2, 3, 5, 0, 1, 2, 3])
    result = patch(model, clean, corrupted, answer=4, wrong=5)
    assert result.clean > 5 and result.corrupted < -5
    assert result.heads[1, 0] > 0.9, "the induction head's output carries the answer"
    assert result.heads[1, 1].abs() < 0.05 and result.heads[0].abs().max() < 0.05
    # the bounds: the whole input at layer 0 is the clean run; patching nothing leaves the corrupted one
    assert torch.isclose(result.residual[0, 4], torch.tensor(1.0), atol=1e-4), "position 4 is where they differ"
    assert result.residual[0, :4].abs().max() < 1e-6 and result.residual[0, 5:].abs().max() < 1e-6


def test_patching_every_position_recovers_one_and_nothing_recovers_zero():
    from tui_transformer.interpret.patching import logit_difference
    from tui_transformer.model.tools.hooks import hooks, run_with_cache

    model = circuit_model()
    clean, corrupted = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 3]]), torch.tensor([[0, 1, 2, 3, 5, 0, 1, 2, 3]])
    with torch.no_grad():
        _, seen = run_with_cache(model, clean, ["blocks.1.hook_resid_pre"])
        m_clean, m_corrupted = (logit_difference(model(t), 4, 5) for t in (clean, corrupted))
        with hooks(model, {"blocks.1.hook_resid_pre": lambda x: seen["blocks.1.hook_resid_pre"]}):
            m_all = logit_difference(model(corrupted), 4, 5)
        with hooks(model, {"blocks.1.hook_resid_pre": lambda x: None}):
            m_none = logit_difference(model(corrupted), 4, 5)
    assert abs((m_all - m_corrupted) / (m_clean - m_corrupted) - 1.0) < 1e-5
    assert abs((m_none - m_corrupted) / (m_clean - m_corrupted)) < 1e-6


def test_ablating_the_induction_head_removes_in_context_learning():
    model = circuit_model()
    before = induction_report(model, range(V), length=R, batch=4, seed=1)
    with ablate_heads(model, [(1, 0)], mode="zero"):
        zeroed = induction_report(model, range(V), length=R, batch=4, seed=1)
    reference = repeated_random_tokens(range(V), R, batch=4, seed=2)
    with ablate_heads(model, [(1, 0)], mode="mean", reference=reference):
        meaned = induction_report(model, range(V), length=R, batch=4, seed=1)
    after = induction_report(model, range(V), length=R, batch=4, seed=1)
    assert before.in_context_learning > 1.0
    assert abs(zeroed.in_context_learning) < 0.05 and abs(meaned.in_context_learning) < 0.3
    assert after.in_context_learning == before.in_context_learning, "the ablation ends with the block"


def test_ablation_holds_during_generation():
    model = circuit_model()
    prompt = [0, 1, 2, 3, 4, 5, 0, 1]
    assert list(generate(model, prompt, 3)) == [2, 3, 4], "the circuit continues the repeat"
    with ablate_heads(model, [(1, 0)]):
        ablated = list(generate(model, prompt, 3))
    assert ablated != [2, 3, 4]
    assert T >= len(prompt) + 3


def test_the_trainers_probe_repeats_at_the_synthetic_datas_longest_segment_and_at_24_on_text():
    batches = [(torch.arange(40).repeat(2, 1), None)]  # ids 0..39 seen; 39 plays end-of-text
    assert probe_length("builtin") == PROBE_LENGTH == 24
    assert probe_length("synthetic:repeats:max=12") == 12
    for data, length in (("synthetic:repeats:max=12", 12), ("builtin", 24)):
        tokens = induction_probe_tokens(batches, eot_id=39, max_seq_len=64, length=probe_length(data))
        assert tokens.shape[1] == 2 * length and torch.equal(tokens[:, :length], tokens[:, length:])
        assert 39 not in tokens.tolist()
