"""Language codes of the multilingual translation tokenizers (mBART, mBART-50, NLLB) and their framing.

``MBartTokenizerFast`` & co add their language codes to the additional special tokens and frame each text with
the source language code (``src_lang``), or the target one (``tgt_lang``) for ``text_target``; see
:class:`LanguageCodes`.

>>> LANGUAGE_CODE_CLASSES["MBartTokenizer"].default_src_lang
'en_XX'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MBART_CODES: list[str] = [
    "ar_AR",
    "cs_CZ",
    "de_DE",
    "en_XX",
    "es_XX",
    "et_EE",
    "fi_FI",
    "fr_XX",
    "gu_IN",
    "hi_IN",
    "it_IT",
    "ja_XX",
    "kk_KZ",
    "ko_KR",
    "lt_LT",
    "lv_LV",
    "my_MM",
    "ne_NP",
    "nl_XX",
    "ro_RO",
    "ru_RU",
    "si_LK",
    "tr_TR",
    "vi_VN",
    "zh_CN",
]

MBART50_CODES: list[str] = MBART_CODES + [
    "af_ZA",
    "az_AZ",
    "bn_IN",
    "fa_IR",
    "he_IL",
    "hr_HR",
    "id_ID",
    "ka_GE",
    "km_KH",
    "mk_MK",
    "ml_IN",
    "mn_MN",
    "mr_IN",
    "pl_PL",
    "ps_AF",
    "pt_XX",
    "sv_SE",
    "sw_KE",
    "ta_IN",
    "te_IN",
    "th_TH",
    "tl_XX",
    "uk_UA",
    "ur_PK",
    "xh_ZA",
    "gl_ES",
    "sl_SI",
]

NLLB_CODES: list[str] = [
    "ace_Arab",
    "ace_Latn",
    "acm_Arab",
    "acq_Arab",
    "aeb_Arab",
    "afr_Latn",
    "ajp_Arab",
    "aka_Latn",
    "amh_Ethi",
    "apc_Arab",
    "arb_Arab",
    "ars_Arab",
    "ary_Arab",
    "arz_Arab",
    "asm_Beng",
    "ast_Latn",
    "awa_Deva",
    "ayr_Latn",
    "azb_Arab",
    "azj_Latn",
    "bak_Cyrl",
    "bam_Latn",
    "ban_Latn",
    "bel_Cyrl",
    "bem_Latn",
    "ben_Beng",
    "bho_Deva",
    "bjn_Arab",
    "bjn_Latn",
    "bod_Tibt",
    "bos_Latn",
    "bug_Latn",
    "bul_Cyrl",
    "cat_Latn",
    "ceb_Latn",
    "ces_Latn",
    "cjk_Latn",
    "ckb_Arab",
    "crh_Latn",
    "cym_Latn",
    "dan_Latn",
    "deu_Latn",
    "dik_Latn",
    "dyu_Latn",
    "dzo_Tibt",
    "ell_Grek",
    "eng_Latn",
    "epo_Latn",
    "est_Latn",
    "eus_Latn",
    "ewe_Latn",
    "fao_Latn",
    "pes_Arab",
    "fij_Latn",
    "fin_Latn",
    "fon_Latn",
    "fra_Latn",
    "fur_Latn",
    "fuv_Latn",
    "gla_Latn",
    "gle_Latn",
    "glg_Latn",
    "grn_Latn",
    "guj_Gujr",
    "hat_Latn",
    "hau_Latn",
    "heb_Hebr",
    "hin_Deva",
    "hne_Deva",
    "hrv_Latn",
    "hun_Latn",
    "hye_Armn",
    "ibo_Latn",
    "ilo_Latn",
    "ind_Latn",
    "isl_Latn",
    "ita_Latn",
    "jav_Latn",
    "jpn_Jpan",
    "kab_Latn",
    "kac_Latn",
    "kam_Latn",
    "kan_Knda",
    "kas_Arab",
    "kas_Deva",
    "kat_Geor",
    "knc_Arab",
    "knc_Latn",
    "kaz_Cyrl",
    "kbp_Latn",
    "kea_Latn",
    "khm_Khmr",
    "kik_Latn",
    "kin_Latn",
    "kir_Cyrl",
    "kmb_Latn",
    "kon_Latn",
    "kor_Hang",
    "kmr_Latn",
    "lao_Laoo",
    "lvs_Latn",
    "lij_Latn",
    "lim_Latn",
    "lin_Latn",
    "lit_Latn",
    "lmo_Latn",
    "ltg_Latn",
    "ltz_Latn",
    "lua_Latn",
    "lug_Latn",
    "luo_Latn",
    "lus_Latn",
    "mag_Deva",
    "mai_Deva",
    "mal_Mlym",
    "mar_Deva",
    "min_Latn",
    "mkd_Cyrl",
    "plt_Latn",
    "mlt_Latn",
    "mni_Beng",
    "khk_Cyrl",
    "mos_Latn",
    "mri_Latn",
    "zsm_Latn",
    "mya_Mymr",
    "nld_Latn",
    "nno_Latn",
    "nob_Latn",
    "npi_Deva",
    "nso_Latn",
    "nus_Latn",
    "nya_Latn",
    "oci_Latn",
    "gaz_Latn",
    "ory_Orya",
    "pag_Latn",
    "pan_Guru",
    "pap_Latn",
    "pol_Latn",
    "por_Latn",
    "prs_Arab",
    "pbt_Arab",
    "quy_Latn",
    "ron_Latn",
    "run_Latn",
    "rus_Cyrl",
    "sag_Latn",
    "san_Deva",
    "sat_Beng",
    "scn_Latn",
    "shn_Mymr",
    "sin_Sinh",
    "slk_Latn",
    "slv_Latn",
    "smo_Latn",
    "sna_Latn",
    "snd_Arab",
    "som_Latn",
    "sot_Latn",
    "spa_Latn",
    "als_Latn",
    "srd_Latn",
    "srp_Cyrl",
    "ssw_Latn",
    "sun_Latn",
    "swe_Latn",
    "swh_Latn",
    "szl_Latn",
    "tam_Taml",
    "tat_Cyrl",
    "tel_Telu",
    "tgk_Cyrl",
    "tgl_Latn",
    "tha_Thai",
    "tir_Ethi",
    "taq_Latn",
    "taq_Tfng",
    "tpi_Latn",
    "tsn_Latn",
    "tso_Latn",
    "tuk_Latn",
    "tum_Latn",
    "tur_Latn",
    "twi_Latn",
    "tzm_Tfng",
    "uig_Arab",
    "ukr_Cyrl",
    "umb_Latn",
    "urd_Arab",
    "uzn_Latn",
    "vec_Latn",
    "vie_Latn",
    "war_Latn",
    "wol_Latn",
    "xho_Latn",
    "ydd_Hebr",
    "yor_Latn",
    "yue_Hant",
    "zho_Hans",
    "zho_Hant",
    "zul_Latn",
]


@dataclass(frozen=True)
class LanguageCodeSpec:
    """How a class frames text with language codes: ``prefix``/``suffix`` name ``"lang"`` or ``"eos"``.

    ``merge``: how the codes join ``additional_special_tokens`` ("extend": codes first then the given tokens,
    "append": given tokens then the missing codes, "default": the codes only when none are given).
    """

    codes: list[str]
    default_src_lang: str
    prefix: tuple[str, ...]
    suffix: tuple[str, ...]
    merge: str
    legacy_prefix: tuple[str, ...] = ()
    legacy_suffix: tuple[str, ...] = ("eos", "lang")


LANGUAGE_CODE_CLASSES: dict[str, LanguageCodeSpec] = {
    "MBartTokenizer": LanguageCodeSpec(MBART_CODES, "en_XX", (), ("eos", "lang"), "extend"),
    "MBart50Tokenizer": LanguageCodeSpec(MBART50_CODES, "en_XX", ("lang",), ("eos",), "append"),
    "NllbTokenizer": LanguageCodeSpec(NLLB_CODES, "eng_Latn", ("lang",), ("eos",), "default"),
}


def with_language_codes(spec: LanguageCodeSpec, additional: Any) -> list:
    """``additional_special_tokens`` as the class's ``__init__`` completes it with its language codes.

    >>> with_language_codes(LANGUAGE_CODE_CLASSES["MBartTokenizer"], ["<x>"])[-1]
    '<x>'
    """
    if spec.merge == "default":
        return list(spec.codes) if additional is None else list(additional)
    given = list(additional or [])
    if spec.merge == "extend":
        return list(spec.codes) + [t for t in given if t not in spec.codes]
    return given + [c for c in spec.codes if c not in given]


class LanguageCodes:
    """Mixin for :class:`~pretrained.tokenizers.tokenization.PreTrainedTokenizer` of mBART, mBART-50 and NLLB.

    The post-processor frames a text with ``src_lang`` (``text``) or ``tgt_lang`` (``text_target``), as the
    reference's ``set_src_lang_special_tokens`` / ``set_tgt_lang_special_tokens`` do.
    """

    language_spec: LanguageCodeSpec

    def __init__(self, **kwargs: Any) -> None:
        spec = self.language_spec
        kwargs["additional_special_tokens"] = with_language_codes(
            spec, kwargs.get("additional_special_tokens")
        )
        self.legacy_behaviour = bool(kwargs.get("legacy_behaviour", False))
        kwargs.setdefault("src_lang", None)  # init kwargs of the reference class (saved resolved)
        kwargs.setdefault("tgt_lang", None)
        if spec.merge == "default":
            kwargs.setdefault("legacy_behaviour", False)
        super().__init__(**kwargs)  # type: ignore[call-arg]
        self.lang_code_to_id = {code: self.convert_tokens_to_ids(code) for code in spec.codes}
        src_lang = kwargs.get("src_lang")
        self._src_lang = src_lang if src_lang is not None else spec.default_src_lang
        if spec.merge == "append" and self._src_lang not in self.lang_code_to_id:
            raise KeyError(
                f"src_lang={self._src_lang!r} is not a language code of {type(self).__name__}; use one of "
                f"{', '.join(spec.codes)}"
            )
        self.tgt_lang = kwargs.get("tgt_lang")
        self.set_src_lang_special_tokens(self._src_lang)

    @property
    def src_lang(self) -> str:
        """The source language code framing the texts (setting it rebuilds the post-processor)."""
        return self._src_lang

    @src_lang.setter
    def src_lang(self, value: str) -> None:
        self._src_lang = value
        self.set_src_lang_special_tokens(value)

    def set_src_lang_special_tokens(self, src_lang: str) -> None:
        """Frame the texts with ``src_lang`` (the reference's method of the same name)."""
        self._set_language(src_lang, "src_lang")

    def set_tgt_lang_special_tokens(self, tgt_lang: str) -> None:
        """Frame the texts with ``tgt_lang``, as for ``text_target``."""
        self._set_language(tgt_lang, "tgt_lang")

    def _switch_to_input_mode(self) -> None:
        self.set_src_lang_special_tokens(self.src_lang)

    def _switch_to_target_mode(self) -> None:
        self.set_tgt_lang_special_tokens(self.tgt_lang)  # type: ignore[arg-type]

    def _set_language(self, lang: str | None, name: str) -> None:
        from .legacy import template_processing

        if lang is None:
            raise ValueError(
                f"{type(self).__name__} needs {name} to frame the text with its language code; pass "
                f"{name}='...' (one of {', '.join(self.language_spec.codes[:5])}, ...) when loading or set "
                f"tokenizer.{name}"
            )
        spec = self.language_spec
        prefix, suffix = (
            (spec.legacy_prefix, spec.legacy_suffix) if self.legacy_behaviour else (spec.prefix, spec.suffix)
        )
        self.cur_lang_code = self.convert_tokens_to_ids(lang)  # type: ignore[attr-defined]
        ids = {"lang": self.cur_lang_code, "eos": self.eos_token_id}  # type: ignore[attr-defined]
        self.prefix_tokens = [ids[k] for k in prefix]
        self.suffix_tokens = [ids[k] for k in suffix]
        before = self.convert_ids_to_tokens(self.prefix_tokens)  # type: ignore[attr-defined]
        after = self.convert_ids_to_tokens(self.suffix_tokens)  # type: ignore[attr-defined]
        specials = list(zip(before + after, self.prefix_tokens + self.suffix_tokens))
        single = " ".join(before + ["$A"] + after)
        pair = " ".join(before + ["$A", "$B"] + after)
        self._set_component("post_processor", template_processing(single, pair, specials))  # type: ignore[attr-defined]
