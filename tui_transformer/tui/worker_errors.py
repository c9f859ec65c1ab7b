"""How a failed thread worker is told to the learner: one line, and a notification.

Every worker runs with ``exit_on_error=False``, so its exception arrives as a
``Worker.StateChanged`` message instead of ending the app (see :mod:`tui_transformer.tui.app`).
Two kinds of exception reach the handlers:

* a :class:`~tui_transformer.errors.UserError` was written for the learner ("no run called x",
  "seed must be a whole number"): its message is shown as it is;
* anything else is a bug or an environment problem: the exception's type goes first, so that
  ``KeyError: 'model'`` does not read as a bare ``'model'``.
"""

from __future__ import annotations

from textual.dom import DOMNode

from tui_transformer.errors import UserError

NOTIFY_TIMEOUT_S = 8


def error_text(error: BaseException | None) -> str:
    """One line saying what went wrong, for a notification or a panel."""
    if isinstance(error, UserError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def notify_failed(node: DOMNode, what: str, error: BaseException | None) -> None:
    """A notification titled "<what> failed" (the screen stays usable: the learner can try again)."""
    node.notify(error_text(error), title=f"{what} failed", severity="error", timeout=NOTIFY_TIMEOUT_S)
