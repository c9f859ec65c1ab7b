"""Circuits: what the attention heads of the learner's own model do, and which ones matter.

One concept per module, each on top of the model's hook points (:mod:`tui_transformer.model.tools.hooks`),
never inside its maths:

* :mod:`.induction`: repeated random tokens, the prefix-matching and copying scores of every head,
  and the model's in-context learning score (Olsson et al., 2022);
* :mod:`.head_roles`: a score per head for each attention pattern (previous token, self, first
  token, local window, induction) and each head's dominant role;
* :mod:`.patching`: activation patching from a clean run into a corrupted one, as the fraction of
  the logit difference recovered, by (layer, position) and by (layer, head);
* :mod:`.ablation`: zero- or mean-ablate chosen heads, in one forward pass or a whole generation.
"""
