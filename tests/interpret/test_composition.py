"""K-composition (Elhage et al. 2021): the trace form against the dense D x D matrices, and the
hand-built circuit's previous-token head found as its induction head's partner."""

import torch

from tests.interpret.circuit_model import circuit_model
from tui_transformer.interpret.composition import head_weights, k_composition, k_composition_into
from tui_transformer.model import DecoderTransformer, ModelConfig


def _dense(writer, reader) -> float:
    w_qk = reader["q"].T @ reader["k"]  # [D, D]
    w_ov = writer["o"] @ writer["v"]  # [D, D]
    return float(torch.linalg.norm(w_qk @ w_ov) / (torch.linalg.norm(w_qk) * torch.linalg.norm(w_ov)))


def test_the_trace_form_equals_the_dense_definition():
    torch.manual_seed(0)
    model = DecoderTransformer(ModelConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_seq_len=16))
    with torch.no_grad():
        model.blocks[1].ln1.weight.uniform_(0.5, 1.5)  # a gain that is folded in
    for h1 in range(4):
        for h2 in range(4):
            writer, reader = head_weights(model, 0, h1), head_weights(model, 1, h2)
            assert abs(k_composition(writer, reader) - _dense(writer, reader)) < 1e-5


def test_the_planted_previous_token_head_feeds_the_planted_induction_head():
    scores = k_composition_into(circuit_model(), layer=1, head=0)
    assert scores.shape == (1, 2)
    assert scores[0, 0] > 0.1 and scores[0, 1] == 0.0, scores  # L0 H1 is switched off: it writes nothing


def test_the_pairing_names_the_planted_previous_token_head():
    from tests.interpret.circuit_model import V
    from tui_transformer.interpret.composition import pair_induction_heads
    from tui_transformer.interpret.head_roles import head_roles
    from tui_transformer.interpret.induction import repeated_random_tokens

    model = circuit_model()
    roles = head_roles(model, repeated_random_tokens(range(V), 6, batch=4, seed=1), period=6)
    assert roles.heads_with("induction") == [(1, 0)] and roles.heads_with("previous token") == [(0, 0)]
    (pair,) = pair_induction_heads(model, roles.heads_with("induction"), set(roles.heads_with("previous token")))
    assert pair.induction == (1, 0) and pair.partner == (0, 0) and pair.partner_is_previous_token
