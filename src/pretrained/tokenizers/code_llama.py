"""Code Llama's infilling: a text with ``<FILL_ME>`` (or a text and its ``suffix``) is framed with the prefix,
suffix and middle tokens, as ``CodeLlamaTokenizerFast.encode_plus`` does.

>>> tok("def f(x):<FILL_ME>    return x")["input_ids"]  # doctest: +SKIP
[1, 32007, ...]
"""

from __future__ import annotations

from typing import Any

from .legacy import SPIECE_UNDERLINE, template_processing


class CodeLlamaInfilling:
    """Mixin for the ``CodeLlamaTokenizer`` class of :class:`~pretrained.tokenizers.tokenization.PreTrainedTokenizer`."""

    def _token_id(self, key: str) -> int | None:
        token = self.init_kwargs.get(key)  # type: ignore[attr-defined]
        return None if token is None else self.convert_tokens_to_ids(str(token))  # type: ignore[attr-defined]

    @property
    def prefix_token(self) -> str | None:
        """The token before the prefix of an infilling prompt ("▁<PRE>")."""
        return self.init_kwargs.get("prefix_token")  # type: ignore[attr-defined]

    @property
    def middle_token(self) -> str | None:
        """The token where the model writes the middle ("▁<MID>")."""
        return self.init_kwargs.get("middle_token")  # type: ignore[attr-defined]

    @property
    def suffix_token(self) -> str | None:
        """The token before the suffix ("▁<SUF>")."""
        return self.init_kwargs.get("suffix_token")  # type: ignore[attr-defined]

    @property
    def eot_token(self) -> str | None:
        """The end-of-text token of infilling ("▁<EOT>")."""
        return self.init_kwargs.get("eot_token")  # type: ignore[attr-defined]

    @property
    def fill_token(self) -> str | None:
        """The marker splitting a text into prefix and suffix ("<FILL_ME>")."""
        return self.init_kwargs.get("fill_token")  # type: ignore[attr-defined]

    @property
    def prefix_id(self) -> int | None:
        return self._token_id("prefix_token")

    @property
    def middle_id(self) -> int | None:
        return self._token_id("middle_token")

    @property
    def suffix_id(self) -> int | None:
        return self._token_id("suffix_token")

    @property
    def eot_id(self) -> int | None:
        return self._token_id("eot_token")

    def set_infilling_processor(
        self, reset: bool, suffix_first: bool = False, add_special_tokens: bool = True
    ) -> None:
        """Frame a pair as ``<PRE> {pre} <SUF>{suf} <MID>`` (``suffix_first``: ``<PRE> <SUF>{suf} <MID> {pre}``);
        ``reset``: back to the prefix space and the bos template."""
        tok: Any = self
        if reset:
            prepend = {"type": "Prepend", "prepend": SPIECE_UNDERLINE}
            replace = {"type": "Replace", "pattern": {"String": " "}, "content": SPIECE_UNDERLINE}
            tok._set_component("normalizer", {"type": "Sequence", "normalizers": [prepend, replace]})
            tok.update_post_processor()
            return
        tok._set_component(
            "normalizer", {"type": "Replace", "pattern": {"String": " "}, "content": SPIECE_UNDERLINE}
        )
        with_bos = tok.add_bos_token and add_special_tokens
        pair = [tok.bos_token] if with_bos else []
        specials = [(tok.bos_token, tok.bos_token_id)] if with_bos else []
        if suffix_first:
            pair += [self.prefix_token, self.suffix_token, "$B", self.middle_token, "$A"]
        else:
            pair += [self.prefix_token, "$A", self.suffix_token, "$B", self.middle_token]
        specials += [
            (self.prefix_token, self.prefix_id),
            (self.suffix_token, self.suffix_id),
            (self.middle_token, self.middle_id),
        ]
        if tok.add_eos_token and add_special_tokens:
            pair.append(tok.eos_token)
            specials.append((tok.eos_token, tok.eos_token_id))
        tok._set_component("post_processor", template_processing("$A", " ".join(pair), specials))

    def encode_plus(
        self,
        text: Any,
        text_pair: Any = None,
        suffix_first: bool = False,
        add_special_tokens: bool = True,
        **kwargs: Any,
    ) -> Any:
        """``encode_plus`` with infilling: ``text`` holding ``fill_token``, or a ``text_pair``/``suffix``."""
        base: Any = super()
        text_pair = kwargs.pop("suffix", text_pair)
        if self.fill_token is not None and self.fill_token in text and text_pair is None:
            parts = text.split(self.fill_token)
            if len(parts) != 2:
                raise ValueError(
                    f"the text holds {len(parts) - 1} {self.fill_token!r} markers; infilling takes exactly one"
                )
            text, text_pair = parts
        if text_pair is None or len(text_pair) < 1:
            return base.encode_plus(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)
        ids = (self.prefix_id, self.middle_id, self.suffix_id)
        if None in ids:
            raise ValueError(
                "Then input includes a `prefix` and a `suffix` used for the infilling task, the "
                f"`prefix_id, middle_id, suffix_id` must all be initialized. Current values : {ids}; set "
                "prefix_token, middle_token and suffix_token"
            )
        self.set_infilling_processor(False, suffix_first=suffix_first, add_special_tokens=add_special_tokens)
        try:
            return base.encode_plus(" " + text, text_pair=text_pair, add_special_tokens=True, **kwargs)
        finally:
            self.set_infilling_processor(True)
