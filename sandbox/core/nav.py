"""The sections of a sandbox's pages, registered by each app in its ``ready()``.

A section is shown to members whose role holds its capability, so adding a
page to every sandbox is one ``register_section`` call in the app that owns it.
"""

from dataclasses import dataclass

from sandbox.core.roles import Cap


@dataclass(frozen=True)
class Section:
    url_name: str  # reversed with the sandbox's pk as the only argument
    label: str  # a lazy translation
    cap: Cap
    order: int = 100


_sections: list[Section] = []


def register_section(url_name: str, label, cap: Cap, order: int = 100) -> None:
    if any(s.url_name == url_name for s in _sections):
        return
    _sections.append(Section(url_name, label, cap, order))
    _sections.sort(key=lambda s: (s.order, s.url_name))


def sections() -> list[Section]:
    return list(_sections)
