"""The article's language in layers: ``declared`` (the source always publishes in one) →
``detected`` (py3langid on the text, when the text is long enough to tell) → ``meta``
(``<html lang>``, ``og:locale``, ``content-language``: CMSs often say the site's language,
not the post's — English posts sit on German paths — so the text outranks them)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import html as lxml_html

from scraper.extract.page import meta_values

LANGUAGES = ["de", "en", "fr", "nl", "it", "es", "pl", "da", "sv"]
MIN_DETECT_CHARS = 200
MIN_PROBABILITY = 0.9


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(LANGUAGES)
    return identifier


def detect_language(text: str) -> str | None:
    if len(text) < 20:
        return None
    language, _probability = _identifier().classify(text)
    return str(language)


def page_language(
    tree: lxml_html.HtmlElement, text: str, declared: str | None
) -> tuple[str | None, str | None]:
    if declared:
        return declared, "declared"
    detected, probability = (None, 0.0)
    if len(text) >= 20:
        detected, probability = _identifier().classify(text)
    if detected and len(text) >= MIN_DETECT_CHARS and probability >= MIN_PROBABILITY:
        return str(detected), "detected"
    signals = [tree.get("lang") or "", *meta_values(tree, "og:locale", "content-language")]
    for signal in signals:
        code = signal.strip().lower().replace("_", "-").split("-")[0]
        if code in LANGUAGES:
            return code, "meta"
    return (str(detected), "detected") if detected else (None, None)
