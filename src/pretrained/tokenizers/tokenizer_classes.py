"""How each transformers tokenizer class differs from the generic ``PreTrainedTokenizerFast``, as data.

A class differs in its model inputs, padding side, ``__init__`` defaults (special tokens, options) and a few
adjustments it makes to the backend ("fixups", the functions below). When a tokenizer is converted from
legacy files, transformers first builds the "slow" class, whose defaults and AddedToken flags are in
:data:`SLOW_SPECS`.

>>> CLASS_SPECS["DistilBertTokenizer"]["inputs"]
('input_ids', 'attention_mask')
"""

from __future__ import annotations

from typing import Any

from .legacy import CONVENTIONS

_NO_TTI = ("input_ids", "attention_mask")

_BERT_DEFAULTS = dict(
    do_lower_case=True, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
    mask_token="[MASK]", tokenize_chinese_chars=True, strip_accents=None,
)  # fmt: skip
_ROBERTA_DEFAULTS = dict(
    bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
    mask_token={"content": "<mask>", "lstrip": True, "rstrip": False, "normalized": False},
    add_prefix_space=False, trim_offsets=True,
)  # fmt: skip
_GPT2_DEFAULTS = dict(
    unk_token="<|endoftext|>", bos_token="<|endoftext|>", eos_token="<|endoftext|>", add_prefix_space=False
)
_LLAMA_DEFAULTS = dict(
    clean_up_tokenization_spaces=False, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
    add_bos_token=True, add_eos_token=False, legacy=None, add_prefix_space=None,
)  # fmt: skip
_XLMR_DEFAULTS = dict(
    bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
    mask_token={"content": "<mask>", "lstrip": True, "rstrip": False},
)  # fmt: skip

_BERT = {"defaults": _BERT_DEFAULTS, "fixups": ("bert_normalizer",)}
_ROBERTA = {
    "inputs": _NO_TTI,
    "defaults": _ROBERTA_DEFAULTS,
    "fixups": ("roberta_post_processor", "pretokenized"),
}
_LLAMA = {
    "inputs": _NO_TTI,
    "padding_side": "left",
    "defaults": _LLAMA_DEFAULTS,
    "fixups": ("bos_eos_template",),
}

# tokenizer class (without "Fast") -> how the transformers class of that name differs from the generic one:
#   inputs: model_input_names; padding_side; pad_token_type_id; defaults: __init__ defaults;
#   fixups: adjustments the class makes (see tokenization.py)
CLASS_SPECS: dict[str, dict[str, Any]] = {
    "PreTrainedTokenizer": {},
    "BertTokenizer": _BERT,
    "DistilBertTokenizer": {**_BERT, "inputs": _NO_TTI},
    "ElectraTokenizer": _BERT,
    "MobileBertTokenizer": _BERT,
    "SqueezeBertTokenizer": _BERT,
    "ConvBertTokenizer": _BERT,
    "LayoutLMTokenizer": _BERT,
    "LxmertTokenizer": _BERT,
    "RealmTokenizer": _BERT,
    "RetriBertTokenizer": {**_BERT, "inputs": _NO_TTI},
    "DPRQuestionEncoderTokenizer": _BERT,
    "DPRContextEncoderTokenizer": _BERT,
    "DPRReaderTokenizer": _BERT,
    "MPNetTokenizer": {
        "inputs": _NO_TTI,
        "fixups": ("bert_normalizer_case",),
        "defaults": {
            **_BERT_DEFAULTS,
            **{k: v for k, v in _ROBERTA_DEFAULTS.items() if k not in ("add_prefix_space", "trim_offsets")},
            "unk_token": "[UNK]",
        },
    },
    "GPT2Tokenizer": {"inputs": _NO_TTI, "defaults": _GPT2_DEFAULTS, "fixups": ("pretokenized",)},
    "CodeGenTokenizer": {
        "inputs": _NO_TTI,
        "defaults": _GPT2_DEFAULTS,
        "fixups": ("pretokenized", "no_bos_token"),
    },
    "GPTNeoXTokenizer": {
        "inputs": _NO_TTI,
        "defaults": {**_GPT2_DEFAULTS, "add_bos_token": False, "add_eos_token": False},
        "fixups": ("bos_eos_template", "pretokenized"),
    },
    "RobertaTokenizer": _ROBERTA,
    "BartTokenizer": {
        **_ROBERTA,
        "defaults": {
            **_ROBERTA_DEFAULTS,
            "mask_token": {"content": "<mask>", "lstrip": True, "special": True},
        },
    },
    "LongformerTokenizer": _ROBERTA,
    "LEDTokenizer": _ROBERTA,
    "MvpTokenizer": _ROBERTA,
    "BlenderbotTokenizer": _ROBERTA,
    "XLMRobertaTokenizer": {"inputs": _NO_TTI, "defaults": _XLMR_DEFAULTS},
    "CamembertTokenizer": {"inputs": _NO_TTI, "defaults": _XLMR_DEFAULTS},
    "LlamaTokenizer": _LLAMA,
    "CodeLlamaTokenizer": {
        **_LLAMA,
        "defaults": {
            **{k: v for k, v in _LLAMA_DEFAULTS.items() if k not in ("legacy", "add_prefix_space")},
            "prefix_token": "▁<PRE>",
            "middle_token": "▁<MID>",
            "suffix_token": "▁<SUF>",
            "eot_token": "▁<EOT>",
            "fill_token": "<FILL_ME>",
            "use_default_system_prompt": False,
        },
        "fixups": ("bos_eos_template", "code_llama_tokens"),
    },
    "GemmaTokenizer": {
        **_LLAMA,
        "defaults": {
            **{k: v for k, v in _LLAMA_DEFAULTS.items() if k not in ("legacy", "add_prefix_space")},
            "bos_token": "<bos>",
            "eos_token": "<eos>",
            "pad_token": "<pad>",
        },
    },
    "CohereTokenizer": {
        **_LLAMA,
        "defaults": {
            **_LLAMA_DEFAULTS,
            "unk_token": "<UNK>",
            "bos_token": "<BOS_TOKEN>",
            "eos_token": "<|END_OF_TURN_TOKEN|>",
            "add_prefix_space": False,
        },
    },  # fmt: skip
    "T5Tokenizer": {
        "inputs": _NO_TTI,
        "defaults": dict(
            eos_token="</s>", unk_token="<unk>", pad_token="<pad>", extra_ids=100, add_prefix_space=None
        ),
        "fixups": ("t5_extra_ids",),
    },
    "Qwen2Tokenizer": {
        "inputs": _NO_TTI,
        "defaults": dict(unk_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"),
    },
    "WhisperTokenizer": {"inputs": _NO_TTI, "defaults": _GPT2_DEFAULTS},
    "BloomTokenizer": {
        "inputs": _NO_TTI,
        "defaults": dict(
            unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>", add_prefix_space=False
        ),
        "fixups": ("pretokenized",),
    },
    "CLIPTokenizer": {
        "inputs": _NO_TTI,
        "fixups": ("clip_decode",),
        "defaults": dict(
            unk_token="<|endoftext|>",
            bos_token="<|startoftext|>",
            eos_token="<|endoftext|>",
            pad_token="<|endoftext|>",
        ),
    },
}

# the other fast classes of transformers: their model inputs, padding side and special-token defaults
_S = dict(
    bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>"
)
_SM = {**_S, "mask_token": "<mask>"}
_BRACKETS = dict(
    unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"
)
_ALBERT = dict(bos_token="[CLS]", eos_token="[SEP]", unk_token="<unk>", sep_token="[SEP]", pad_token="<pad>",
               cls_token="[CLS]", mask_token="[MASK]")  # fmt: skip
_XLNET = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="<sep>", pad_token="<pad>",
              cls_token="<cls>", mask_token="<mask>")  # fmt: skip
CLASS_SPECS.update(
    {
        "AlbertTokenizer": {"defaults": {"do_lower_case": True, **_ALBERT}},
        "BarthezTokenizer": {"inputs": _NO_TTI, "defaults": _SM},
        "BigBirdTokenizer": {
            "inputs": _NO_TTI,
            "defaults": {**_S, "sep_token": "[SEP]", "cls_token": "[CLS]", "mask_token": "[MASK]"},
        },
        "CpmTokenizer": {
            "padding_side": "left",
            "pad_token_type_id": 3,
            "defaults": {"do_lower_case": False, **_XLNET},
        },
        "DebertaTokenizer": {
            "inputs": ("input_ids", "attention_mask", "token_type_ids"),
            "defaults": {**_BRACKETS, "bos_token": "[CLS]", "eos_token": "[SEP]", "add_prefix_space": False},
        },
        "DebertaV2Tokenizer": {
            "defaults": {"do_lower_case": False, **_BRACKETS, "bos_token": "[CLS]", "eos_token": "[SEP]"}
        },
        "FNetTokenizer": {
            "inputs": ("input_ids", "token_type_ids"),
            "defaults": {"do_lower_case": False, **_BRACKETS, "unk_token": "<unk>", "pad_token": "<pad>"},
        },
        "FunnelTokenizer": {
            "defaults": dict(
                do_lower_case=True,
                unk_token="<unk>",
                sep_token="<sep>",
                pad_token="<pad>",
                cls_token="<cls>",
                mask_token="<mask>",
                bos_token="<s>",
                eos_token="</s>",
                clean_text=True,
                tokenize_chinese_chars=True,
                strip_accents=None,
                wordpieces_prefix="##",
            ),
            "fixups": ("bert_normalizer",),
        },  # fmt: skip
        "HerbertTokenizer": {
            "defaults": dict(
                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", sep_token="</s>"
            )
        },
        "LayoutLMv2Tokenizer": {**_BERT, "fixups": ("bert_normalizer_case",)},
        "LayoutLMv3Tokenizer": {"inputs": _NO_TTI, "defaults": {**_SM, "add_prefix_space": True}},
        "LayoutXLMTokenizer": {"inputs": _NO_TTI, "defaults": _SM},
        "MBart50Tokenizer": {
            "inputs": _NO_TTI,
            "defaults": {k: v for k, v in _SM.items() if k != "bos_token"},
        },
        "MBartTokenizer": {"inputs": _NO_TTI, "defaults": _SM},
        "MT5Tokenizer": {
            "inputs": _NO_TTI,
            "defaults": dict(
                eos_token="</s>", unk_token="<unk>", pad_token="<pad>", extra_ids=100, add_prefix_space=None
            ),
            "fixups": ("t5_extra_ids",),
        },
        "NllbTokenizer": {"inputs": _NO_TTI, "defaults": _SM},
        "OpenAIGPTTokenizer": {"inputs": _NO_TTI, "defaults": {"unk_token": "<unk>"}},
        "PegasusTokenizer": {
            "inputs": _NO_TTI,
            "defaults": dict(
                pad_token="<pad>",
                eos_token="</s>",
                unk_token="<unk>",
                mask_token="<mask_2>",
                mask_token_sent="<mask_1>",
                offset=103,
            ),
            "fixups": ("pegasus_specials",),
        },
        "ReformerTokenizer": {"inputs": _NO_TTI, "defaults": dict(eos_token="</s>", unk_token="<unk>")},
        "RemBertTokenizer": {"defaults": {"do_lower_case": True, **_ALBERT}},
        "RoFormerTokenizer": {**_BERT, "fixups": ("bert_normalizer_case",)},
        "SeamlessM4TTokenizer": {"inputs": _NO_TTI, "defaults": _S},
        "SplinterTokenizer": {
            "defaults": {**_BERT_DEFAULTS, "question_token": "[QUESTION]"},
            "fixups": ("bert_normalizer_case", "splinter_question"),
        },
        "UdopTokenizer": {
            "inputs": _NO_TTI,
            "defaults": dict(eos_token="</s>", sep_token="</s>", unk_token="<unk>", pad_token="<pad>"),
        },
        "XGLMTokenizer": {"inputs": _NO_TTI, "defaults": _S, "fixups": ("xglm_madeup_words",)},
        "XLNetTokenizer": {
            "padding_side": "left",
            "pad_token_type_id": 3,
            "defaults": {"do_lower_case": False, **_XLNET},
        },
    }
)

# config.json model_type -> tokenizer class, used when tokenizer_config.json names none
MODEL_TYPE_TO_TOKENIZER: dict[str, str] = {
    **dict.fromkeys(
        "bert megatron-bert roc_bert nezha ernie layoutlm lxmert mobilebert squeezebert convbert splinter".split(),
        "BertTokenizer",
    ),
    "distilbert": "DistilBertTokenizer",
    "electra": "ElectraTokenizer",
    "mpnet": "MPNetTokenizer",
    **dict.fromkeys("gpt2 gpt_neo gptj gpt_bigcode opt imagegpt".split(), "GPT2Tokenizer"),
    "codegen": "CodeGenTokenizer",
    **dict.fromkeys("gpt_neox gpt_neox_japanese pythia".split(), "GPTNeoXTokenizer"),
    **dict.fromkeys("roberta data2vec-text ibert".split(), "RobertaTokenizer"),
    **dict.fromkeys("bart blenderbot-small".split(), "BartTokenizer"),
    "longformer": "LongformerTokenizer",
    "led": "LEDTokenizer",
    "mvp": "MvpTokenizer",
    **dict.fromkeys("xlm-roberta xlm-roberta-xl".split(), "XLMRobertaTokenizer"),
    "camembert": "CamembertTokenizer",
    **dict.fromkeys("llama mistral mixtral llava persimmon phi3 idefics".split(), "LlamaTokenizer"),
    **dict.fromkeys("gemma gemma2 gemma3 recurrent_gemma".split(), "GemmaTokenizer"),
    **dict.fromkeys("t5 mt5 umt5 longt5".split(), "T5Tokenizer"),
    **dict.fromkeys("qwen2 qwen2_moe qwen3 qwen3_moe".split(), "Qwen2Tokenizer"),
    "cohere": "CohereTokenizer",
    "whisper": "WhisperTokenizer",
    "bloom": "BloomTokenizer",
    "clip": "CLIPTokenizer",
    "albert": "AlbertTokenizer",
    "deberta": "DebertaTokenizer",
    "xlnet": "XLNetTokenizer",
    "phi": "CodeGenTokenizer",
    "marian": "MarianTokenizer",
    # the reference's mapping for the classes converted from legacy files (legacy.CONVENTIONS); "mt5" stays
    # T5Tokenizer: the reference's mapping gives T5TokenizerFast for it
    "barthez": "BarthezTokenizer",
    **dict.fromkeys(("big_bird",), "BigBirdTokenizer"),
    **dict.fromkeys(("bigbird_pegasus", "pegasus", "pegasus_x"), "PegasusTokenizer"),
    "convbert": "ConvBertTokenizer",
    "deberta-v2": "DebertaV2Tokenizer",
    "fnet": "FNetTokenizer",
    "funnel": "FunnelTokenizer",
    "layoutlm": "LayoutLMTokenizer",
    "lxmert": "LxmertTokenizer",
    "mbart": "MBartTokenizer",
    "mbart50": "MBart50Tokenizer",
    "mobilebert": "MobileBertTokenizer",
    "nllb-moe": "NllbTokenizer",
    "reformer": "ReformerTokenizer",
    "rembert": "RemBertTokenizer",
    "squeezebert": "SqueezeBertTokenizer",
    "splinter": "SplinterTokenizer",
    "xglm": "XGLMTokenizer",
    "code_llama": "CodeLlamaTokenizer",
    **dict.fromkeys(("gemma3_text", "gemma3n", "gemma3n_text", "t5gemma"), "GemmaTokenizer"),
    **dict.fromkeys(("qwen2_vl", "qwen2_5_vl", "qwen2_audio", "qwen3_next"), "Qwen2Tokenizer"),
    **dict.fromkeys(("xmod", "kosmos-2"), "XLMRobertaTokenizer"),
}

# When a tokenizer is converted from legacy files, transformers first builds the "slow" class: its defaults
# fill the settings the config leaves out, and it wraps special tokens in AddedToken with these flags.
_WRAP_N = {"lstrip": False, "rstrip": False}  # AddedToken(t, lstrip=False, rstrip=False): normalized=True
_ROBERTA_WRAP = {
    k: _WRAP_N for k in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token")
}
_SPECIAL = {"special": True}
_LLAMA_WRAP = {"normalized": False, "special": True}
_BERT_SLOW = {
    "defaults": {"clean_up_tokenization_spaces": True, "do_basic_tokenize": True},
    "init": {"never_split": None},
}
# slow class -> defaults: its __init__ defaults (kept in init_kwargs); init: the init kwargs it adds of its own
# (saved in tokenizer_config.json); convert: options for the conversion only; wrap: AddedToken flags; unset:
# defaults that apply only when neither the config nor special_tokens_map.json gives the setting
SLOW_SPECS: dict[str, dict[str, Any]] = {
    **{name: _BERT_SLOW for name, conv in CONVENTIONS.items() if conv == "bert"},
    "GPT2Tokenizer": {
        "wrap": {k: _WRAP_N for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
        "init": {"errors": "replace", "pad_token": None, "add_bos_token": False},
    },
    "CodeGenTokenizer": {"wrap": {k: _SPECIAL for k in ("bos_token", "eos_token", "unk_token", "pad_token")}},
    "RobertaTokenizer": {
        "wrap": {**_ROBERTA_WRAP, "mask_token": {"lstrip": True, "rstrip": False, "normalized": False}},
        "init": {"errors": "replace"},
    },
    "LongformerTokenizer": {
        "wrap": {**_ROBERTA_WRAP, "mask_token": {"lstrip": True, "rstrip": False, "normalized": False}}
    },
    "BartTokenizer": {"wrap": {**_ROBERTA_WRAP, "mask_token": {"lstrip": True, "rstrip": False}}},
    "LEDTokenizer": {"wrap": {**_ROBERTA_WRAP, "mask_token": {"lstrip": True, "rstrip": False}}},
    "MvpTokenizer": {
        "wrap": {**dict.fromkeys(_ROBERTA_WRAP, _SPECIAL), "mask_token": {"lstrip": True, "special": True}}
    },
    "LlamaTokenizer": {
        "convert": {"add_prefix_space": True},  # the slow class's default, for the conversion only
        "wrap": {k: _LLAMA_WRAP for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
        "init": dict(
            pad_token=None,
            legacy=None,
            use_default_system_prompt=False,
            sp_model_kwargs={},
            spaces_between_special_tokens=False,
        ),  # fmt: skip
    },
    "CodeLlamaTokenizer": {"wrap": {k: _LLAMA_WRAP for k in ("bos_token", "eos_token", "unk_token")}},
    "GemmaTokenizer": {
        "wrap": {k: _LLAMA_WRAP for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
        "init": dict(
            sp_model_kwargs=None, use_default_system_prompt=False, spaces_between_special_tokens=False
        ),
    },
    "T5Tokenizer": {
        "convert": {"add_prefix_space": True},  # the slow class's default, for the conversion only
        "wrap": {k: _SPECIAL for k in ("pad_token", "unk_token", "eos_token")},
        "init": {"legacy": None, "sp_model_kwargs": {}},
    },
    "XLMRobertaTokenizer": {
        "wrap": {"mask_token": {"lstrip": True, "rstrip": False, "normalized": False, "special": True}},
        "init": {"sp_model_kwargs": {}},
    },
    "CamembertTokenizer": {
        "wrap": {"mask_token": {"lstrip": True, "rstrip": False, "normalized": False, "special": True}},
        "init": {"sp_model_kwargs": {}},
        "unset": {"additional_special_tokens": ["<s>NOTUSED", "</s>NOTUSED", "<unk>NOTUSED"]},
    },
    "AlbertTokenizer": {
        "wrap": {"mask_token": {"lstrip": True, "rstrip": False, "normalized": False}},
        "defaults": {"do_lower_case": True, "remove_space": True, "keep_accents": False},
        "init": {"sp_model_kwargs": {}},
    },
    "XLNetTokenizer": {
        "wrap": {"mask_token": {"lstrip": True, "special": True}},
        "defaults": {"do_lower_case": False, "remove_space": True, "keep_accents": False},
        "init": {"sp_model_kwargs": {}},
        "unset": {"additional_special_tokens": ["<eop>", "<eod>"]},
    },
    "BigBirdTokenizer": {
        "wrap": {
            **{
                k: _WRAP_N
                for k in ("bos_token", "eos_token", "unk_token", "pad_token", "cls_token", "sep_token")
            },
            "mask_token": {"lstrip": True, "rstrip": False},
        },
        "init": {"sp_model_kwargs": {}},
    },
    "DebertaV2Tokenizer": {
        "wrap": {"unk_token": {"normalized": True, "special": True}},
        "defaults": {"do_lower_case": False, "split_by_punct": False},
        "init": {"sp_model_kwargs": {}},
    },
}
SLOW_SPECS["MT5Tokenizer"] = SLOW_SPECS["T5Tokenizer"]
_MASK_LSTRIP = {"mask_token": {"lstrip": True, "rstrip": False, "normalized": False, "special": True}}
SLOW_SPECS.update(
    {
        "MBartTokenizer": {"wrap": _MASK_LSTRIP, "init": {"sp_model_kwargs": {}, "tokenizer_file": None}},
        "MBart50Tokenizer": {
            "wrap": {"mask_token": {"lstrip": True, "rstrip": False, "normalized": True, "special": True}},
            "init": {"sp_model_kwargs": {}},
        },
        "NllbTokenizer": {
            "wrap": {
                **{k: _LLAMA_WRAP for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
                "mask_token": {"lstrip": True, "normalized": True, "special": True},
            },
            "init": {"sp_model_kwargs": {}, "tokenizer_file": None, "legacy_behaviour": False},
        },
    }
)
SLOW_SPECS["PegasusTokenizer"] = {"init": {"sp_model_kwargs": {}}}
_SPM_INIT = {"sp_model_kwargs": {}}
SLOW_SPECS.update(
    {
        "ConvBertTokenizer": _BERT_SLOW,
        "FunnelTokenizer": _BERT_SLOW,
        "BarthezTokenizer": {
            "wrap": {"mask_token": {"lstrip": True, "rstrip": False, "normalized": False, "special": True}},
            "init": _SPM_INIT,
        },
        "FNetTokenizer": {
            "wrap": {
                "mask_token": {"lstrip": True, "special": True},
                "cls_token": _SPECIAL,
                "sep_token": _SPECIAL,
            },
            "defaults": {"do_lower_case": False, "remove_space": True, "keep_accents": True},
            "init": _SPM_INIT,
        },
        "ReformerTokenizer": {"init": _SPM_INIT, "unset": {"additional_special_tokens": []}},
        "RemBertTokenizer": {  # the slow class's defaults differ from the fast one's
            "wrap": {"mask_token": {"lstrip": True, "rstrip": False}},
            "defaults": {
                "do_lower_case": False,
                "remove_space": True,
                "keep_accents": True,
                "unk_token": "[UNK]",
                "pad_token": "[PAD]",
            },
        },
        "XGLMTokenizer": {"init": _SPM_INIT},
        "SplinterTokenizer": {"defaults": {"do_basic_tokenize": True}, "init": {"never_split": None}},
        "OpenAIGPTTokenizer": {},
        "DebertaTokenizer": {
            "wrap": {
                **{
                    k: _SPECIAL
                    for k in ("bos_token", "eos_token", "sep_token", "cls_token", "unk_token", "pad_token")
                },
                "mask_token": {"lstrip": True, "rstrip": False},
            },
            "init": {"errors": "replace", "add_bos_token": False},
        },
    }
)
_QWEN_WRAP = {"lstrip": False, "rstrip": False, "special": True, "normalized": False}
SLOW_SPECS.update(
    {
        "Qwen2Tokenizer": {
            "wrap": {k: _QWEN_WRAP for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
            "init": {"errors": "replace", "bos_token": None, "split_special_tokens": False},
            "defaults": {"clean_up_tokenization_spaces": False},
        },
        "CLIPTokenizer": {
            "wrap": {k: _WRAP_N for k in ("bos_token", "eos_token", "unk_token")},
            "init": {"errors": "replace"},
        },
        "MPNetTokenizer": {
            "wrap": {
                **{
                    k: _SPECIAL
                    for k in ("bos_token", "eos_token", "sep_token", "cls_token", "unk_token", "pad_token")
                },
                "mask_token": {"lstrip": True, "special": True},
            },
            **_BERT_SLOW,
        },
    }
)


def bert_normalizer(tokenizer_json: dict, kwargs: dict, chinese_chars: bool = True) -> None:
    """BertTokenizerFast: the normalizer follows do_lower_case / strip_accents / tokenize_chinese_chars.

    ``chinese_chars=False``: MPNet, LayoutLMv2 and RoFormer follow only do_lower_case and strip_accents.
    """
    state = tokenizer_json.get("normalizer")
    if not isinstance(state, dict):
        return
    wanted = {"lowercase": kwargs.get("do_lower_case", True), "strip_accents": kwargs.get("strip_accents")}
    if chinese_chars:
        wanted["handle_chinese_chars"] = kwargs.get("tokenize_chinese_chars", True)
    if any(state.get(k, v) != v for k, v in wanted.items()):
        state.update(wanted)


def roberta_post_processor(tokenizer_json: dict, kwargs: dict) -> None:
    """RobertaTokenizerFast & co: the post-processor follows add_prefix_space / trim_offsets."""
    state = tokenizer_json.get("post_processor")
    if not isinstance(state, dict):
        return
    for key, default in (("add_prefix_space", False), ("trim_offsets", True)):
        value = kwargs.get(key, default)
        if key in state and state[key] != value:
            state[key] = value


def pegasus_specials(kwargs: dict) -> None:
    """PegasusTokenizerFast: ``mask_token_sent`` and ``<unk_2>`` ... ``<unk_{offset - 1}>`` join the additional
    special tokens; its added_tokens_decoder is ignored."""
    offset, sent = kwargs.get("offset", 103), kwargs.get("mask_token_sent", "<mask_1>")
    extra = kwargs.get("additional_special_tokens")
    if extra is not None:
        if not isinstance(extra, list):
            raise TypeError(
                f"additional_special_tokens should be of type list, but is {type(extra).__name__}; pass a list"
            )
        extended = [sent] + list(extra) if sent not in extra and sent is not None else list(extra)
        extended += [f"<unk_{i}>" for i in range(len(extended), offset - 1)]
        if len({str(t) for t in extended}) != len(extended):
            raise ValueError(
                "Please make sure that the provided additional_special_tokens do not contain an incorrectly"
                f" shifted list of <unk_x> tokens. Found {extended}."
            )
    else:
        extended = ([sent] if sent is not None else []) + [f"<unk_{i}>" for i in range(2, offset)]
    kwargs["additional_special_tokens"] = extended


def splinter_question(kwargs: dict) -> None:
    """SplinterTokenizerFast: the question token is the (only) additional special token."""
    if kwargs.get("additional_special_tokens") not in (None, [], ()) and list(
        kwargs["additional_special_tokens"]
    ) != [kwargs.get("question_token")]:
        raise TypeError(
            "SplinterTokenizer sets additional_special_tokens to (question_token,) itself; pass question_token "
            "instead of additional_special_tokens"
        )
    kwargs["additional_special_tokens"] = (kwargs.get("question_token"),)


def code_llama_tokens(kwargs: dict) -> None:
    """CodeLlamaTokenizerFast: the infilling tokens (prefix, middle, suffix, end of text) join the additional
    special tokens (appended even when already there, as the reference does)."""
    extra = list(kwargs.get("additional_special_tokens") or [])
    for key in ("prefix_token", "middle_token", "suffix_token", "eot_token"):
        if kwargs.get(key) is not None:
            extra.append(kwargs[key])
    kwargs["additional_special_tokens"] = extra


def xglm_madeup_words(kwargs: dict) -> None:
    """XGLMTokenizerFast: ``<madeupword0>`` ... ``<madeupword6>`` join the additional special tokens."""
    extra = list(kwargs.get("additional_special_tokens") or [])
    kwargs["additional_special_tokens"] = extra + [
        w for w in (f"<madeupword{i}>" for i in range(7)) if w not in extra
    ]


def t5_extra_ids(kwargs: dict) -> None:
    """T5TokenizerFast: ``<extra_id_N>`` sentinels join the additional special tokens."""
    extra_ids = kwargs.get("extra_ids", 100)
    extra = kwargs.get("additional_special_tokens")
    if extra is not None:
        found = [x for x in extra if "<extra_id_" in str(x)]
        if not found:
            kwargs["additional_special_tokens"] = list(extra) + [f"<extra_id_{i}>" for i in range(extra_ids)]
        elif extra_ids > 0 and extra_ids != len(found):
            raise ValueError(
                f"Both extra_ids ({extra_ids}) and additional_special_tokens ({extra}) are provided to T5Tokenizer. "
                "In this case the additional_special_tokens must include the extra_ids tokens"
            )
    else:
        kwargs["additional_special_tokens"] = [f"<extra_id_{i}>" for i in range(extra_ids)]


# classes whose transformers class adds special tokens in ``build_inputs_with_special_tokens`` (in the layout of
# its post-processor); the others concatenate the ids as they are
BUILDS_WITH_SPECIAL_TOKENS = frozenset({
    "AlbertTokenizer", "BartTokenizer", "BarthezTokenizer", "BertTokenizer", "BigBirdTokenizer",
    "BlenderbotTokenizer", "CLIPTokenizer", "CamembertTokenizer", "CodeLlamaTokenizer", "CohereTokenizer",
    "ConvBertTokenizer", "CpmTokenizer", "DPRContextEncoderTokenizer", "DPRQuestionEncoderTokenizer",
    "DPRReaderTokenizer", "DebertaTokenizer", "DebertaV2Tokenizer", "DistilBertTokenizer", "ElectraTokenizer",
    "FNetTokenizer", "FunnelTokenizer", "GPTNeoXTokenizer", "GemmaTokenizer", "HerbertTokenizer", "LEDTokenizer",
    "LayoutLMTokenizer", "LayoutLMv2Tokenizer", "LayoutLMv3Tokenizer", "LayoutXLMTokenizer", "LlamaTokenizer",
    "LongformerTokenizer", "LxmertTokenizer", "MBart50Tokenizer", "MBartTokenizer", "MPNetTokenizer",
    "MT5Tokenizer", "MarianTokenizer", "MobileBertTokenizer", "MvpTokenizer", "NllbTokenizer", "PegasusTokenizer",
    "RealmTokenizer", "RemBertTokenizer", "RetriBertTokenizer", "RoFormerTokenizer", "RobertaTokenizer",
    "SeamlessM4TTokenizer", "SplinterTokenizer", "SqueezeBertTokenizer", "T5Tokenizer", "UdopTokenizer",
    "WhisperTokenizer", "XGLMTokenizer", "XLMRobertaTokenizer", "XLNetTokenizer",
})  # fmt: skip
# classes whose ``build_inputs_with_special_tokens`` is RoBERTa's "<s> A </s></s> B </s>" written with these two
# token ids (not read from the post-processor: the two can disagree, and the reference uses the ids)
ROBERTA_LAYOUT: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("RobertaTokenizer", "BartTokenizer", "LayoutLMv3Tokenizer", "LEDTokenizer",
         "LongformerTokenizer", "MPNetTokenizer", "MvpTokenizer"),
        ("bos_token_id", "eos_token_id"),
    ),
    **dict.fromkeys(
        ("BarthezTokenizer", "CamembertTokenizer", "LayoutXLMTokenizer", "XLMRobertaTokenizer"),
        ("cls_token_id", "sep_token_id"),
    ),
}  # fmt: skip
# classes whose ``create_token_type_ids_from_sequences`` gives only 0s (they use no token types): how many special
# tokens it counts around one sequence and around a pair ("<s> A </s>" and "<s> A </s></s> B </s>" for RoBERTa)
_ROBERTA_COUNTS = (2, 4)
ZERO_TOKEN_TYPE_IDS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(
        (
            "BartTokenizer", "BarthezTokenizer", "BlenderbotTokenizer", "CLIPTokenizer", "CamembertTokenizer",
            "LEDTokenizer", "LayoutLMv3Tokenizer", "LayoutXLMTokenizer", "LongformerTokenizer", "MBartTokenizer",
            "MPNetTokenizer", "MvpTokenizer", "NllbTokenizer", "RobertaTokenizer", "SeamlessM4TTokenizer",
            "XLMRobertaTokenizer",
        ),
        _ROBERTA_COUNTS,
    ),
    **dict.fromkeys(("T5Tokenizer", "MT5Tokenizer", "UdopTokenizer"), (1, 2)),  # A </s> B </s>
    "XGLMTokenizer": (1, 3),  # </s> A </s></s> B
}  # fmt: skip
# classes whose ``create_token_type_ids_from_sequences`` gives their template's types ([CLS] of type 2 for XLNet,
# Funnel, CPM; Splinter's question suffix). The other classes give 0s over [CLS] A [SEP] and 1s over B [SEP],
# counting [CLS] and [SEP] only where the tokenizer has them
TEMPLATE_TOKEN_TYPE_IDS = frozenset(
    {"CpmTokenizer", "FunnelTokenizer", "SplinterTokenizer", "XLNetTokenizer"}
)
