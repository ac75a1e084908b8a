"""TwiML documents read into verbs: just what the sandbox needs to follow a call or a reply."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree


class TwimlError(ValueError):
    """Not a TwiML document (Twilio's error 12100, document parse failure)."""


@dataclass(frozen=True)
class Verb:
    name: str
    text: str
    attrs: dict[str, str]
    children: tuple[Verb, ...] = ()

    def attr(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)


def parse(document: str | bytes) -> list[Verb]:
    """The verbs of a `<Response>` in order; an empty document is an empty response."""
    if not document.strip():
        return []
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as error:
        raise TwimlError(f"not XML: {error}") from None
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    return [_verb(element) for element in root]


def _verb(element: ElementTree.Element) -> Verb:
    return Verb(
        name=element.tag,
        text=(element.text or "").strip(),
        attrs=dict(element.attrib),
        children=tuple(_verb(child) for child in element),
    )


def message_bodies(verbs: list[Verb]) -> list[str]:
    """The text of every `<Message>` of an SMS reply (`<Message>text</Message>` or with a `<Body>`)."""
    bodies = []
    for verb in verbs:
        if verb.name != "Message":
            continue
        body = " ".join(child.text for child in verb.children if child.name == "Body")
        bodies.append(body or verb.text)
    return bodies
