"""Language identification: fa / zh / en, or "other" with a confidence in [0, 1].

How it decides (measured choices in docs/language.md):

1. Letters are counted per script. No letters at all (empty, emoji, digits, punctuation) →
   ("other", 0.0); the confidence is 0 in that case only.
2. Japanese kana (two or more, and at least a quarter as many as Han characters) → other; Hangul, Cyrillic, Greek, Hebrew, Thai, Devanagari... → other when
   they are the main script.
3. Han or Arabic-script letters win over Latin once they make up ``MARKED_SHARE`` of the
   letters: Persian and Chinese writers mix Latin (brand names, order numbers, English phrases)
   far more often than English writers mix Persian or Chinese («سلام، order #123 hasn't
   arrived» → fa). Han → zh.
4. Arabic script → fa, unless it reads as Arabic: no Persian-only letters (پ چ ژ گ), no Persian
   function words or ZWNJ, and Arabic function words / orthography (ة ى أ إ, في على هذا...) —
   then other. lingua is not used here: on short messages it reads colloquial Persian as Arabic
   (measured: 15 % of corpus messages without پچژگ).
5. Latin → en, unless the text has no common English word, is long enough, and lingua
   (English and seven other Latin-script languages, low-accuracy mode: 30 MB, loads in 0.1 s)
   is sure it is another language → other. Only that minority of messages pays for lingua.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from khoshnud.language.normalize import ZWNJ, to_text

FA, ZH, EN, OTHER = "fa", "zh", "en", "other"
LANGUAGES = (FA, ZH, EN, OTHER)
MARKED_SHARE = 0.15
_HAN_WEIGHT = 2.0  # one Han character carries about as much as two Latin/Arabic letters

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
_ARABIC = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\ufb50-\ufdff\ufe70-\ufefc]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\uff21-\uff3a\uff41-\uff5a]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_WORD = re.compile(r"[a-z']+")
_PERSIAN_LETTERS = re.compile("[پچژگ]")
_ARABIC_WORD = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u200c]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PERSIAN_WORDS = _words(
    "است هست نیست را رو این اون آن که با برای از چی چرا کی چه خیلی ممنون مرسی بخیر لطفا لطفاً "
    "میشه نمیشه شما تو ما من هم یه یک دارم داره دارید دارین نه بله آره باشه خب کنید کنم شد "
    "شده بود دیگه ولی اما تا پس سفارش"
)
_ARABIC_WORDS = _words(
    "في على الى إلى هذا هذه التي الذي هل لا لم لن عن مع كان أن إن كيف متى أين لماذا شكرا "
    "مرحبا عندي لكم معكم جدا أريد نريد يمكن يمكنني ماذا ليس"
)
_ARABIC_ORTHOGRAPHY = re.compile("[ةىأإؤ]")

_ENGLISH_WORDS = _words(
    "the a an to of and in on for is are was it i you my me we your our this that not no "
    "do does did can could would will have has had be been with at from hi hello thanks thank "
    "please pls yes ok okay what when where why how there here just so but if or any still "
    "order help need want get got u im i'm it's don't can't"
)
_LATIN_FOREIGN_MIN_LETTERS = 15
_LATIN_FOREIGN_CONFIDENCE = 0.8

_lock = threading.Lock()
_latin_detector: Any = None


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str
    confidence: float


def detect_language(value: str | bytes | None) -> LanguageGuess:
    """The language of one message (raw or normalised text); never raises, never downloads."""
    text = to_text(value)[:2000]
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return LanguageGuess(OTHER, 0.0)
    others = max(letters - han - kana - arabic - latin, 0)
    weighted = han * _HAN_WEIGHT + kana * _HAN_WEIGHT + arabic + latin + others
    if kana >= 2 and kana * 4 >= han:
        return LanguageGuess(OTHER, _share(han + kana, letters))
    if others / weighted > 0.5:
        return LanguageGuess(OTHER, _share(others, letters))
    if han * _HAN_WEIGHT / weighted >= MARKED_SHARE and han >= arabic:
        return LanguageGuess(ZH, _share(han * _HAN_WEIGHT, weighted))
    if arabic / weighted >= MARKED_SHARE:
        return _persian_or_arabic(text, _share(arabic, weighted))
    if latin:
        return _english_or_other(text, _share(latin, weighted))
    return LanguageGuess(OTHER, _share(others, letters))


def detect_languages(values: list[str] | list[str | bytes | None]) -> list[LanguageGuess]:
    """``detect_language`` for each message, in order."""
    return [detect_language(v) for v in values]


def _share(part: float, whole: float) -> float:
    """A script's share of the letters, mapped to a confidence in [0.5, 1.0]."""
    return round(0.5 + 0.5 * min(part / whole, 1.0), 3) if whole else 0.0


def _persian_or_arabic(text: str, script_confidence: float) -> LanguageGuess:
    words = _ARABIC_WORD.findall(text)
    persian = len(_PERSIAN_LETTERS.findall(text)) * 2 + text.count(ZWNJ) * 2
    persian += sum(1 for w in words if w.replace("ي", "ی").replace("ك", "ک") in _PERSIAN_WORDS)
    arabic = sum(1 for w in words if w in _ARABIC_WORDS)
    arabic += len(_ARABIC_ORTHOGRAPHY.findall(text))
    if arabic >= 2 and arabic > 2 * persian:
        evidence = arabic / (arabic + persian)
        return LanguageGuess(OTHER, round(min(script_confidence, evidence), 3))
    return LanguageGuess(FA, script_confidence)


def _english_or_other(text: str, script_confidence: float) -> LanguageGuess:
    lowered = text.lower()
    words = _LATIN_WORD.findall(lowered)
    if any(w in _ENGLISH_WORDS for w in words):
        return LanguageGuess(EN, script_confidence)
    if len(_LATIN.findall(text)) < _LATIN_FOREIGN_MIN_LETTERS:
        return LanguageGuess(EN, round(script_confidence * 0.8, 3))
    detector = latin_languages()
    values = {c.language.name: c.value for c in detector.compute_language_confidence_values(text)}
    english = values.get("ENGLISH", 0.0)
    best_other = max((v for k, v in values.items() if k != "ENGLISH"), default=0.0)
    if best_other >= _LATIN_FOREIGN_CONFIDENCE:
        return LanguageGuess(OTHER, round(best_other, 3))
    return LanguageGuess(EN, round(script_confidence * max(english, 0.5), 3))


def latin_languages() -> Any:
    """lingua over English and seven common Latin-script languages, built once per process."""
    global _latin_detector
    if _latin_detector is None:
        with _lock:
            if _latin_detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _latin_detector = (
                    LanguageDetectorBuilder.from_languages(
                        Language.ENGLISH,
                        Language.FRENCH,
                        Language.GERMAN,
                        Language.SPANISH,
                        Language.PORTUGUESE,
                        Language.ITALIAN,
                        Language.DUTCH,
                        Language.TURKISH,
                    )
                    .with_low_accuracy_mode()
                    .with_preloaded_language_models()
                    .build()
                )
    return _latin_detector
