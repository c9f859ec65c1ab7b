"""The training engine: one loop behind the CLI, the dashboard and ``torchrun``.

```python
from tui_transformer.train import TrainConfig, run_training
summary = run_training(config, on_event=print, stop=threading.Event(), pause=threading.Event(), resume=None)
```

Files: ``config`` (the settings), ``config_file`` (TOML), ``events`` (what a run reports),
``trainer`` (the loop), ``accumulation``, ``optimizer``, ``schedule``, ``budget`` (when a run ends),
``evaluate``, ``checkpoint``, ``metrics`` (metrics.jsonl), ``reporter`` (where events go), ``runs``
(run directories), ``run_state``, ``distributed`` (DDP), ``device``.

``run_training`` is imported lazily so that ``from tui_transformer.train import TrainConfig`` does
not pull in torch (the CLI's ``--help`` stays fast).
"""

from tui_transformer.train.config import TrainConfig

__all__ = ["TrainConfig", "run_training", "RunSummary"]


def __getattr__(name: str):
    if name in ("run_training", "RunSummary"):
        from tui_transformer.train import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
