"""From a ``--data`` value to a source: the one module that knows every concrete source.

``builtin``, ``fineweb``, ``hf:OWNER/NAME[:CONFIG]`` (any Hub dataset, or ``hf:FOLDER``),
``synthetic:repeats[:OPTIONS]`` (generated ids), ``builtin:train-docs=N`` (a slice of the builtin
corpus to train on) and a path each name their source; ``auto`` means FineWeb when the Hub
answers quickly, else the builtin corpus, with a ``notice`` that says why. The sources depend only
on the interface (:mod:`.sources`); this factory depends on them, so the imports run one way.
"""

from __future__ import annotations

import os

from tui_transformer.data.sources import Source, is_hub_dataset, is_synthetic
from tui_transformer.errors import UserError


def open_source(spec: str = "auto", val_fraction: float = 0.1, *, shard_cache=None, http=None,
                probe_timeout: float = 3.0, text_column: str | None = None) -> Source:
    """The data source named by ``spec``: ``"auto"``, ``"builtin"``, ``"fineweb"``, ``"hf:OWNER/NAME[:CONFIG]"``,
    ``"hf:FOLDER"``, ``"synthetic:repeats[:OPTIONS]"`` or a path.

    ``text_column`` names the column of an ``hf:`` dataset to train on (default: detected).

    ``shard_cache`` (a :class:`~.shard_cache.ShardCache`) and ``http`` (an
    :class:`~.http.HttpPolicy`: timeouts, retries) configure FineWeb; the defaults suit real use.
    ``auto`` tries the Hub for at most ``probe_timeout`` seconds and otherwise falls back to
    ``builtin``, saying why in ``source.notice``. Bad specs raise :class:`UserError`.
    """
    # the sources are imported here: a form that only checks a spec (check_data_spec) needs no numpy
    from tui_transformer.data.builtin_source import BuiltinSource
    from tui_transformer.data.files import PathSource

    spec = (spec or "auto").strip()
    if is_hub_dataset(spec):
        from tui_transformer.data.hub_dataset import HubDatasetSource  # datasets loads only when used

        return HubDatasetSource(spec, val_fraction, text_column=text_column, cache=shard_cache)
    if text_column:
        raise UserError(f"--text-column applies to hf: datasets only, not to --data {spec}")
    if is_synthetic(spec):
        from tui_transformer.data.synthetic import SyntheticSource

        return SyntheticSource(spec, val_fraction)
    if spec == "builtin" or spec.startswith(BUILTIN_SLICE):
        return BuiltinSource(val_fraction, train_docs=builtin_train_docs(spec))
    if spec in ("fineweb", "auto"):
        # imported here: pyarrow and the HTTP client load only when FineWeb may be used
        from tui_transformer.data.fineweb import FinewebSource, hub_unreachable_reason

        if spec == "fineweb":
            return FinewebSource(val_fraction, cache=shard_cache, http=http)
        reason = hub_unreachable_reason(http=http, timeout=probe_timeout)
        if reason is None:
            return FinewebSource(val_fraction, cache=shard_cache, http=http)
        source = BuiltinSource(val_fraction)
        source.notice = f"FineWeb unreachable ({reason}): using {source.description}"
        return source
    path = os.path.expanduser(spec)
    if not os.path.exists(path):
        raise UserError(f"data source {spec!r} is not 'auto', 'builtin', 'fineweb', 'hf:OWNER/NAME', "
                        "'synthetic:repeats' or an existing path")
    return PathSource(path, val_fraction)


BUILTIN_SLICE = "builtin:train-docs="  # builtin:train-docs=N: the training split cut to N documents


def builtin_train_docs(spec: str) -> int | None:
    """N of ``builtin:train-docs=N`` (None for plain ``builtin``); a ConfigError when N is no positive count."""
    if not spec.startswith(BUILTIN_SLICE):
        return None
    from tui_transformer.errors import ConfigError

    text = spec.removeprefix(BUILTIN_SLICE)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"builtin:train-docs takes a positive number of documents, got {text!r}")
    return int(text)


def check_data_spec(spec: str) -> str:
    """``spec`` as ``open_source`` will read it, checked without the network or any download
    (for forms: an ``hf:`` value's shape, whether the dataset exists is known when it opens; a
    ``synthetic:`` value's options)."""
    from tui_transformer.errors import ConfigError

    spec = spec.strip()
    if is_hub_dataset(spec):
        from tui_transformer.data.hub_dataset import parse_spec

        try:
            parse_spec(spec)
        except UserError as error:
            raise ConfigError(str(error)) from None
    if is_synthetic(spec):
        from tui_transformer.data.synthetic_spec import parse_synthetic

        parse_synthetic(spec)  # raises ConfigError
    builtin_train_docs(spec)
    return spec

