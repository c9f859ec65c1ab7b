"""An induction head forms in training, in a phase change, on this project's own model.

The recipe (found by measuring here; docs/interpret.md quotes it): 32 token ids, d_model 64, 4 heads,
2 layers, d_ff 1 (so the model is attention-only in effect), RoPE, AdamW at 3e-3 without weight
decay, batches of 32 sequences of 64 tokens, each sequence random segments of 4 to 16 ids, every
segment repeated once. The segment lengths vary, so no head at a fixed offset solves the task; only
an induction head does. Measured: in-context learning score ~0.0 up to step 200, ~2.5 nats at step
300, ~3 from step 400 on, with the best layer-1 head's prefix-matching score at 0.65 then 0.86.
"""

import pytest
import torch

from tui_transformer.interpret.head_roles import head_roles
from tui_transformer.interpret.induction import induction_report, repeated_random_tokens
from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.model.loss import lm_loss

V, T, STEPS = 32, 64, 400


def repeated_segments(generator: torch.Generator, batch: int = 32) -> torch.Tensor:
    """``[batch, T + 1]``: random segments of 4..16 ids, each followed by itself."""
    rows = []
    for _ in range(batch):
        sequence: list[int] = []
        while len(sequence) < T + 1:
            segment = torch.randint(0, V, (int(torch.randint(4, 17, (1,), generator=generator)),),
                                    generator=generator).tolist()
            sequence += segment + segment
        rows.append(sequence[: T + 1])
    return torch.tensor(rows)


@pytest.mark.slow  # about 10 s here: 400 steps of a d64 model
def test_an_induction_head_forms_in_a_phase_change():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: thread hand-offs cost more than they give
    try:
        model = DecoderTransformer(ModelConfig(vocab_size=V, d_model=64, n_heads=4, n_layers=2, d_ff=1, max_seq_len=T,
                                               pos_encoding="rope", attention="sdpa", tie_weights=False))
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
        generator = torch.Generator().manual_seed(1)
        scores = {}
        for step in range(1, STEPS + 1):
            batch = repeated_segments(generator)
            loss = lm_loss(model(batch[:, :-1]), batch[:, 1:])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step in (100, STEPS):
                scores[step] = induction_report(model.eval(), range(V), length=20, batch=8, seed=5)
                model.train()
    finally:
        torch.set_num_threads(threads)
    early, late = scores[100], scores[STEPS]
    assert early.in_context_learning < 0.3 and early.prefix_matching.max() < 0.2, "nothing yet at step 100"
    assert late.in_context_learning > 1.5, late.in_context_learning
    layer, head, score = late.strongest()
    assert layer == 1 and score > 0.5, (layer, head, score)
    roles = head_roles(model.eval(), repeated_random_tokens(range(V), 20, batch=8, seed=5), period=20)
    assert roles.role(1, head) == "induction"
