"""The twelve Learn pages, in the order of the original lessons (then circuits and the modern recipe), and where
each one's parts come from.

* **Prose** is ``pages/<file>``, read with :mod:`importlib.resources`, so it is found in an
  installed wheel as well as in a checkout.
* **Code** is this project's own source for the concept, read with :func:`inspect.getsource`
  from the imported modules: the page shows exactly the code that runs, and cannot drift from it.
* **Live** is a function ``ctx -> rich renderable`` from one of this package's modules, run in a
  worker thread.
"""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from tui_transformer.tui.learn import (attention, circuits, embeddings, kv_cache, modern_recipe, parameters, positional,
                                      sampling, tokenization, training)


@dataclass(frozen=True)
class Page:
    title: str
    file: str  # under pages/
    code: tuple[str, ...]  # "module" or "module:qualname"
    live: Callable[[Any], Any]
    keys: str = ""  # the page's own keys, for the status line


PAGES: tuple[Page, ...] = (
    Page("Tokenization", "01_tokenization.md",
         ("tui_transformer.data.bpe:train_bpe", "tui_transformer.data.tokenizer:Tokenizer"), tokenization.live),
    Page("Token embeddings", "02_embeddings.md", ("tui_transformer.model.embedding",), embeddings.live),
    Page("Positional encoding", "03_positional.md", ("tui_transformer.model.positional",), positional.live),
    Page("Attention", "04_attention.md",
         ("tui_transformer.model.attention:causal_mask", "tui_transformer.model.attention:attention_weights",
          "tui_transformer.model.attention:scaled_dot_product_attention", "tui_transformer.model.attention:fused_attention"),
         attention.live_head, "[ ] layer · < > head"),
    Page("Multi-head attention", "05_multi_head.md", ("tui_transformer.model.multi_head",), attention.live_heads,
         "[ ] layer"),
    Page("Feed-forward", "06_feedforward.md", ("tui_transformer.model.feedforward",), parameters.live_feedforward),
    Page("The block", "07_block.md", ("tui_transformer.model.block:Block",), parameters.live_block),
    Page("Model and training", "08_training.md",
         ("tui_transformer.model.transformer:DecoderTransformer.forward",
          "tui_transformer.model.transformer:DecoderTransformer.hidden", "tui_transformer.train.accumulation",
          "tui_transformer.train.schedule:Schedule.lr_at", "tui_transformer.train.schedule:CosineSchedule",
          "tui_transformer.train.schedule:WSDSchedule"), training.live),
    Page("KV cache", "09_kv_cache.md", ("tui_transformer.model.kv_cache:KVCache",), kv_cache.live),
    Page("Sampling", "10_sampling.md",
         ("tui_transformer.model.sampling:apply_repetition_penalty", "tui_transformer.model.sampling:top_k_filter",
          "tui_transformer.model.sampling:top_p_filter", "tui_transformer.model.sampling:min_p_filter",
          "tui_transformer.model.sampling:Sampler.distribution", "tui_transformer.model.sampling:Sampler.draw"),
         sampling.live, "s sampler settings"),
    Page("Circuits", "11_circuits.md",
         ("tui_transformer.interpret.head_roles:pattern_scores", "tui_transformer.interpret.induction:prefix_matching",
          "tui_transformer.interpret.induction:copy_losses", "tui_transformer.interpret.patching:patch",
          "tui_transformer.interpret.ablation:ablate_heads"), circuits.live),
    Page("The modern recipe", "12_modern_recipe.md",
         ("tui_transformer.model.rms_norm:RMSNorm", "tui_transformer.model.feedforward:FeedForward.hidden",
          "tui_transformer.model.transformer:DecoderTransformer._init_weights",
          "tui_transformer.model.transformer:DecoderTransformer.unembed", "tui_transformer.train.optimizer:build_optimizer",
          "tui_transformer.train.schedule:WSDSchedule"), modern_recipe.live),
)


def prose(page: Page) -> str:
    """The page's Markdown, from the installed package."""
    return importlib.resources.files("tui_transformer.tui.learn").joinpath("pages", page.file).read_text("utf-8")


def code(page: Page) -> str:
    """The source the page shows, each piece headed by a comment naming where it lives."""
    pieces = []
    for target in page.code:
        module_name, _, qualname = target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for attribute in filter(None, qualname.split(".")):
            obj = getattr(obj, attribute)
        pieces.append(f"# ---- {target.replace(':', '.')} " + "-" * 20 + "\n" + inspect.getsource(obj))
    return "\n\n".join(pieces)
