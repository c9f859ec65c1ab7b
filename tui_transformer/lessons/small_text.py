"""The model and data the text lessons share: a small model on the builtin corpus, minutes on 2 CPU cores.

d_model 128, 2 layers, 4 heads, a context of 64 tokens, batches of 16, a BPE of 2048 tokens trained
on the corpus (its first run trains it in seconds, then it is cached). Small enough that a lesson's
four runs fit in a few minutes, large enough that what each lesson compares shows in the loss.
"""

from __future__ import annotations

SMALL_TEXT = dict(
    data="builtin", tokenizer="bpe-2048", model_d_model=128, model_n_heads=4, model_n_layers=2, model_d_ff=512,
    model_max_seq_len=64, model_pos_encoding="rope", batch_size=16, max_steps=500, eval_interval=50,
    eval_batches=8, sample_interval=500, checkpoint_interval=250,
)


def ranked_by(records, column: str = "best_val_loss"):
    """The records with a value in ``column`` of their summary, lowest first."""
    scored = [record for record in records if record.summary.get(column) is not None]
    return sorted(scored, key=lambda record: record.summary[column])
