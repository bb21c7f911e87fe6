"""Text normalisation before language detection and classification.

Promises: pure functions, no I/O, no model; the same input always gives the same output.

- Every text: bytes decoded as UTF-8 (bad bytes replaced), cut to ``MAX_CHARS``, Unicode NFKC
  (full-width Chinese punctuation and Latin letters, Arabic presentation forms → plain forms),
  invisible marks dropped (ZWSP, ZWJ, LRM/RLM, BOM), whitespace collapsed.
- Digits: Persian (۰-۹) and Arabic-Indic (٠-٩) → Latin 0-9.
- Arabic-script letters: Arabic ي ى ك ة ۀ أ إ ؤ ٱ → Persian ی ک ه ه ا ا و ا; diacritics (harakat,
  tanwin, shadda, sukun, superscript alef) and the tatweel ـ removed.
- Persian spacing: the verb prefixes می / نمی are joined to their verb with a ZWNJ whether they
  were written apart («می خوام») or glued («میخوام»); the plural «ها» and the comparative
  «تر / ترین» written apart are joined with a ZWNJ; stray ZWNJs (doubled, next to a space, at
  a word's edge) removed.
"""

from __future__ import annotations

import re
import unicodedata

# Customer messages longer than this are mostly quoted threads or pasted logs; the opening
# carries the intent, and a fixed cap keeps the cost of one message bounded.
MAX_CHARS = 2000
ZWNJ = "\u200c"

_DIGITS = "0123456789"
_CHAR_MAP: dict[int, str | None] = {}
for _src in ("۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"):
    _CHAR_MAP.update({ord(c): d for c, d in zip(_src, _DIGITS, strict=True)})
_CHAR_MAP.update(
    {
        ord("ي"): "ی",
        ord("ى"): "ی",
        ord("ك"): "ک",
        ord("ة"): "ه",
        ord("ۀ"): "ه",
        ord("ە"): "ه",
        ord("أ"): "ا",
        ord("إ"): "ا",
        ord("ٱ"): "ا",
        ord("ؤ"): "و",
        ord("٬"): ",",
        ord("٫"): ".",
        ord("\u0640"): None,  # tatweel
        ord("\u200b"): None,  # zero-width space
        ord("\u200d"): None,  # zero-width joiner
        ord("\u200e"): None,  # left-to-right mark
        ord("\u200f"): None,  # right-to-left mark
        ord("\ufeff"): None,  # byte order mark
        ord("\u00a0"): " ",
    }
)
# Arabic diacritics: harakat, tanwin, shadda, sukun, superscript alef, Quranic marks.
for _code in [*range(0x064B, 0x0660), 0x0670, *range(0x0610, 0x061B), *range(0x06D6, 0x06EE)]:
    _CHAR_MAP[_code] = None

_ARABIC_LETTER = "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff"
_HAS_ARABIC = re.compile(f"[{_ARABIC_LETTER}]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")

# Present stems take a person ending (so «میز», «میگو», «میدون» — table, shrimp, square — stay
# as they are); past stems may stand alone (3rd person singular: «میخواست»).
_PRESENT_STEMS = str.split(
    "خوا خواه ش شو تون توان دون دان کن گ گو ر رو ا آ رس رسون رسان زن د ده بین خر فرست گیر پرس "
    "خور ساز دار آر یار ار افت فت پذیر کش نویس خون خوان مون مان فهم پوش بر گرد سپار پرداز "
    "شناس ذار گذار بند شکن سوز کار خواب پز ریز بخش پسند ترس خند چرخ فروش نشین نشون نشان پر "
    "پیچ پاش رقص لرز جنب چسب ساب مال تاب کوب"
)
_PAST_STEMS = str.split(
    "خواست شد تونست توانست دونست دانست کرد گفت رفت اومد آمد رسید زد داد دید خرید فرستاد گرفت "
    "پرسید خورد ساخت داشت آورد اورد افتاد کشید نوشت خوند خواند موند ماند فهمید برد گشت پرداخت "
    "شناخت ذاشت گذاشت فروخت نشست بست شکست سوخت"
)
_ENDINGS = "یم|ید|ین|ند|ن|م|ی|ه|د"
_NOT_VERBS = frozenset({"میان", "میدان", "میدون", "میرزا", "مینا"})
_W = f"[{_ARABIC_LETTER}]"
_PREFIX_APART = re.compile(f"(?<!{_W})(ن?می) +(?={_W})")
_PREFIX_GLUED = re.compile(
    f"(?<!{_W})(ن?می)"
    f"(?=(?:(?:{'|'.join(sorted(set(_PRESENT_STEMS), key=len, reverse=True))})(?:{_ENDINGS})"
    f"|(?:{'|'.join(sorted(set(_PAST_STEMS), key=len, reverse=True))})(?:{_ENDINGS})?)"
    f"(?!{_W}))"
)
_SUFFIX_APART = re.compile(
    f"(?<={_W}) +(ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشون|هایشان|ترین|تر)(?!{_W})"
)
_ZWNJ_RUNS = re.compile(f"{ZWNJ}{{2,}}")
_ZWNJ_EDGES = re.compile(f" ?{ZWNJ}(?![{_ARABIC_LETTER}])| ?(?<![{_ARABIC_LETTER}]){ZWNJ} ?")


def to_text(value: str | bytes | None) -> str:
    """Any incoming value as text: bytes are read as UTF-8 with bad bytes replaced."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def normalize(value: str | bytes | None) -> str:
    """The normalised form of one message (any language); see the module docstring."""
    text = to_text(value)[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    if _HAS_ARABIC.search(text):
        text = normalize_persian_spacing(text)
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def normalize_persian_spacing(text: str) -> str:
    """ZWNJ rules for می/نمی, ها and تر/ترین (input already letter- and digit-normalised)."""
    text = _ZWNJ_RUNS.sub(ZWNJ, text)
    text = _ZWNJ_EDGES.sub(_keep_space, text)
    text = _PREFIX_APART.sub(r"\1" + ZWNJ, text)
    text = _PREFIX_GLUED.sub(_join_prefix, text)
    return _SUFFIX_APART.sub(ZWNJ + r"\1", text)


def _keep_space(match: re.Match[str]) -> str:
    return " " if " " in match.group(0) else ""


def _join_prefix(match: re.Match[str]) -> str:
    end = match.end()
    rest = match.string[end : end + 12]
    word = match.group(1) + re.split(f"[^{_ARABIC_LETTER}]", rest, maxsplit=1)[0]
    if word in _NOT_VERBS:
        return match.group(1)
    return match.group(1) + ZWNJ
