"""What the classify stage consumes and produces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClassifyInput:
    """Everything the classifier may look at for one document."""

    #: path relative to the source root ('/'-separated); folder names are weak cues
    source: str
    title: str = ""
    text: str = ""
    #: DMS tags on the document (a tag ``交接:C6`` overrides the classifier)
    tags: tuple[str, ...] = ()
    #: True when the title was composed by us rather than read from the document
    title_composed: bool = False
    #: True when the text is missing or unreliable (scan without OCR, huge file)
    text_missing: bool = False

    @property
    def name(self) -> str:
        return self.source.rsplit("/", 1)[-1]

    @property
    def folders(self) -> list[str]:
        return self.source.split("/")[:-1]


@dataclass
class Classification:
    """An inventory decision with the evidence for it."""

    code: str
    category: str
    confidence: float
    #: Why, in Chinese, e.g. "标题含“工作总结”；模型 0.93"
    reason: str
    needs_review: bool = False
    #: tag | mapping | rules | model | combined | fallback
    method: str = "rules"
    #: runner-up codes with their scores, for the archivist's review screen
    alternatives: list[tuple[str, float]] = field(default_factory=list)
