"""tui-transformer: build, train and probe a decoder-only transformer from a terminal dashboard.

Layers (see docs/architecture.md):

* ``model``, ``data``, ``train``, ``bench``: the core. Plain PyTorch and Python; never imports textual.
* ``tui``: the Textual dashboard, a view over events emitted by the core.
* ``cli``: the command line, another view over the same events.
"""

__version__ = "0.1.0"
