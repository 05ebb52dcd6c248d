"""UnicodeScripts pre-tokenizer: split where the Unicode script changes (spaces join any run).

>>> UnicodeScripts().pre_tokenize_str("Hello世界мир")
[('Hello', (0, 5)), ('世界', (5, 7)), ('мир', (7, 10))]
"""

from __future__ import annotations

from ._registry import LazyRegex
from ._unicode_tables import SCRIPT_ANY
from .normalized import NormalizedString
from .pre_tokenizers import PreTokenizer

_SCRIPTS = (
    "Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki "
    "Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee "
    "Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra "
    "Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati "
    "Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited "
    "Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi "
    "Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian "
    "Mahajani Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui "
    "Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari "
    "Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic "
    "Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage "
    "Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan "
    "Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo Sundanese Syloti_Nagri "
    "Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan "
    "Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square"
).split()
_SCRIPT_RE = LazyRegex("|".join(f"(?P<{n}>\\p{{sc={n}}})" for n in _SCRIPTS))
_ANY = LazyRegex(f"[{SCRIPT_ANY}]")
_cache: dict[str, str] = {}


def script_of(c: str) -> str:
    """The script used for splitting: Hiragana, Katakana and U+30FC count as Han, a space as Any."""
    s = _cache.get(c)
    if s is None:
        if c == " " or _ANY.match(c):  # a space, or a char the reference's script table lacks
            s = "Any"
        elif c == "\u30fc":
            s = "Han"
        else:
            m = _SCRIPT_RE.match(c)
            s = m.lastgroup if m is not None and m.lastgroup else "Any"  # unassigned / private use
            if s in ("Hiragana", "Katakana"):
                s = "Han"
        _cache[c] = s
    return s


class UnicodeScripts(PreTokenizer):
    """Mirrors ``tokenizers.pre_tokenizers.UnicodeScripts`` (leading spaces of a split are dropped)."""

    type_name = "UnicodeScripts"

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        text = ns.normalized
        cuts: list[int] = []
        last = None
        for i, c in enumerate(text):
            script = script_of(c)
            if script != "Any" and last != "Any" and last != script:
                cuts.append(i)
            if script != "Any":
                last = script
        cuts.append(len(text))
        return [ns.slice(a, b) for a, b in zip(cuts, cuts[1:])]
