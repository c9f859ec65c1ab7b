"""A 2-layer attention-only transformer whose weights are written by hand: an exact test oracle.

Layer 0, head 0 is a previous-token head; layer 1, head 0 an induction head; the other head of each
layer is switched off (zero weights: uniform attention, no output). The feed-forward networks write
nothing. The residual stream is split into four subspaces of one-hot codes (centred, so that each
LayerNorm only rescales them):

    TOKEN [0, V)          the token, from the embedding
    POS   [V, V+T)        the position, from the learned positional table
    PREV  [V+T, V+T+V)    written by the previous-token head: "the token before me"
    OUT   [V+T+V, D)      written by the induction head: "the token to predict", read by the LM head

Previous-token head: query = my position, key = (its position + 1), value = its token -> PREV.
Induction head: query = my token, key = the PREV of each earlier position, value = that position's
token -> OUT. So at the second A of ``A B ... A`` it attends to B and predicts B. (Position 0 has no
previous token; its previous-token head attends to itself and writes its own token into PREV, so a
query for the first token ties between positions 0 and 1.)
"""

import torch

from tui_transformer.model import DecoderTransformer, ModelConfig

V, T = 8, 16
TOKEN, POS, PREV, OUT = 0, V, V + T, V + T + V
D = 3 * V + T  # 40, two heads of d_head 20 >= T and >= V


def _centred(n: int) -> torch.Tensor:
    return torch.eye(n) - 1.0 / n


def circuit_model(previous_sharpness: float = 2.0, induction_sharpness: float = 4.0) -> DecoderTransformer:
    model = DecoderTransformer(ModelConfig(vocab_size=V, d_model=D, n_heads=2, n_layers=2, d_ff=4, max_seq_len=T,
                                           pos_encoding="learned", attention="explicit", tie_weights=False))
    d_head = D // 2
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        for norm in [model.ln_f] + [m for block in model.blocks for m in (block.ln1, block.ln2)]:
            norm.weight.fill_(1.0)
        model.embed.weight[:, TOKEN:TOKEN + V] = _centred(V)
        model.pos.weight[:, POS:POS + T] = _centred(T)
        q, k, v = (slice(i * D, i * D + d_head) for i in range(3))  # head 0's rows of W_qkv

        prev = model.blocks[0].attn
        w = prev.qkv.weight
        w[q][:T, POS:POS + T] = previous_sharpness * torch.eye(T)  # query: my position p
        w[k][1:T, POS:POS + T - 1] = previous_sharpness * torch.eye(T - 1)  # key of position j: p = j + 1
        w[v][:V, TOKEN:TOKEN + V] = torch.eye(V)  # value: its token
        prev.out.weight[PREV:PREV + V, :V] = torch.eye(V)  # -> PREV

        induction = model.blocks[1].attn
        w = induction.qkv.weight
        w[q][:V, TOKEN:TOKEN + V] = induction_sharpness * torch.eye(V)  # query: my token
        w[k][:V, PREV:PREV + V] = induction_sharpness * torch.eye(V)  # key: the token before that position
        w[v][:V, TOKEN:TOKEN + V] = torch.eye(V)  # value: that position's token
        induction.out.weight[OUT:OUT + V, :V] = torch.eye(V)  # -> OUT

        model.lm_head.weight[:, OUT:OUT + V] = 10.0 * torch.eye(V)
    return model.eval()
