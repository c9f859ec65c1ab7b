"""Show how the tokenizer cut a text: each token on its own background colour.

A tokenizer does not see words. Byte-pair encoding merges frequent byte sequences, so " the" (with
its leading space) is often one token while a rare word falls apart into several. Printing the
tokens on alternating backgrounds makes those cuts visible::

    [The][ cat][ sat][ on][ the][ mat][.]

Characters that would vanish are drawn as symbols: a space inside a token stays a space (its
background shows it), a newline is drawn as ``↵``, a tab as ``→``. A token that is only part of a
multi-byte character decodes to ``�`` on its own; that is what the model sees too.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from tui_transformer.tui.plural import count_of

_VISIBLE = str.maketrans({"\n": "↵", "\t": "→", "\r": "␍"})


def token_text(pieces: list[str], styles: tuple[Style, Style]) -> Text:
    """The pieces side by side, alternating between the two background styles."""
    text = Text(no_wrap=False, end="")
    for index, piece in enumerate(pieces):
        text.append(piece.translate(_VISIBLE), styles[index % 2])
    return text


class TokenView(Static):
    """The prompt as the model sees it: a count, then the tokens with visible boundaries."""

    DEFAULT_CSS = """
    TokenView { height: auto; max-height: 4; }
    TokenView > .token-view--even { background: $primary 50%; }
    TokenView > .token-view--odd { background: $warning 35%; }
    TokenView > .token-view--count { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"token-view--even", "token-view--odd", "token-view--count"}

    def show_tokens(self, pieces: list[str]) -> None:
        even = self.get_component_rich_style("token-view--even")
        odd = self.get_component_rich_style("token-view--odd")
        count = self.get_component_rich_style("token-view--count")
        text = Text(count_of(len(pieces), "token") + " ", count)
        text.append_text(token_text(pieces, (even, odd)))
        self.update(text)
