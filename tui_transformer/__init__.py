"""tui-transformer: build, train and probe a decoder-only transformer from a terminal dashboard.

Layers (see docs/architecture.md):

* ``model``, ``data``, ``train``, ``bench``, ``interpret``, ``interop``: the core. Plain PyTorch and
  Python; never imports textual. ``interpret`` probes a trained model's circuits through the model's
  hook points; ``interop`` exports to and imports from Hugging Face ``transformers`` and safetensors.
* ``tui``: the Textual dashboard, a view over events emitted by the core.
* ``cli``: the command line, another view over the same events.
"""

__version__ = "0.1.0"
