"""Tools around the model: what probes it, measures it or runs it, but is not the model.

The naming rule of the model package: ``tui_transformer.model`` itself holds the transformer as it
is taught (a learner reads it top to bottom, and the Learn screen's Code tab shows it), and this
sub-package holds everything else. The arrow runs one way: these modules import the model, the
model never imports them.

* :mod:`.hooks`        open forward hooks on the model's hook points by name, per thread; ``run_with_cache``
* :mod:`.inspection`   one forward pass kept layer by layer: attention maps, residual stream, logit lens
* :mod:`.explain`      the numbers the Learn pages draw (neighbours, positions, parameters, KV bytes, sampler stages)
* :mod:`.loss`         the next-token loss of given logits (float32, mean or sum)
* :mod:`.perplexity`   evaluation: loss, perplexity and bits per byte over batches
* :mod:`.eval_mode`    eval mode for the length of a ``with`` block
* :mod:`.flops`        training FLOPs per token, the numerator of MFU

The optimised training loss (the LM head and the cross-entropy in chunks) is the trainer's choice
and lives with it, in :mod:`tui_transformer.train.head_loss`.
"""
