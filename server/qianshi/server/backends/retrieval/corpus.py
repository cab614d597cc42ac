"""The poem corpus: loading, validating and fingerprinting the JSONL files that the index is built from.

The corpus is a folder holding ``sets.json`` (one description per poem set) and one ``<set_id>.jsonl``
per set (one poem per line; the format is described in corpus/NOTES.md). The shipped corpus lives in the
package (``qianshi/server/corpus``); an operator can load a folder or a single JSONL file in the same
format. Fields the service does not use (``provenance``, ``variants``, ``notes``) are accepted and
dropped.

Validation fails at the first problem with a :class:`CorpusError` that names the file, the line and
the field (``guandi100.jsonl:17: field 'verse': expected 4 non-empty strings``), because the person who
reads it is an operator fixing a file by hand.

:func:`corpus_version` fingerprints the parsed content (not the bytes, so reformatting a file or
editing its ``notes`` does not force a rebuild) together with :data:`INDEX_SCHEMA_VERSION`; the index
stores it and rebuilds only when it changes. Bump :data:`INDEX_SCHEMA_VERSION` whenever the way
passages are cut or payloads are laid out changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from qianshi.server.domain import Judgment, Poem, PoemSet

INDEX_SCHEMA_VERSION = 1
"""Version of the passage cutting and payload layout; part of :func:`corpus_version`."""

SETS_FILE = "sets.json"
VERSE_LINES = 4
_SET_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ANNOTATION = re.compile(r"\s*[(（][^)）]*[)）]\s*$")


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file, the line and the field."""


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every poem set and its poems, sets in file order, poems by number within their set."""

    sets: tuple[PoemSet, ...]
    poems: tuple[Poem, ...]

    def poems_of(self, set_id: str) -> tuple[Poem, ...]:
        """The poems of one set, by number."""
        return tuple(p for p in self.poems if p.set_id == set_id)


def load_shipped_corpus() -> Corpus:
    """The corpus that ships in the package (mazu60, guanyin100, guandi100)."""
    return _load_folder(resources.files("qianshi.server") / "corpus")


def load_corpus(path: Path) -> Corpus:
    """An operator's corpus: a folder with ``sets.json`` and ``*.jsonl``, or one ``.jsonl`` file.

    A set missing from ``sets.json`` (or a file without one beside it) is described from its records:
    name from ``set_name``, count from the number of poems, categories in order of first use.
    """
    if path.is_dir():
        return _load_folder(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file or folder")
    described = _read_sets(path.parent / SETS_FILE) if (path.parent / SETS_FILE).is_file() else {}
    set_id = path.name.removesuffix(".jsonl")
    poem_set, poems = _read_poems(path, described.get(set_id))
    return Corpus(sets=(poem_set,), poems=poems)


def corpus_version(corpus: Corpus) -> str:
    """A sha256 over the corpus content and :data:`INDEX_SCHEMA_VERSION` (stable across processes)."""
    canonical = {
        "schema": INDEX_SCHEMA_VERSION,
        "sets": [set_record(s) for s in corpus.sets],
        "poems": [poem_record(p) for p in corpus.poems],
    }
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_record(poem_set: PoemSet) -> dict[str, Any]:
    """The JSON form of a poem set, as stored with the index."""
    return {
        "id": poem_set.id,
        "name_zh": poem_set.name_zh,
        "name_en": poem_set.name_en,
        "count": poem_set.count,
        "categories": list(poem_set.categories),
        "aliases": list(poem_set.aliases),
    }


def set_from_record(record: Mapping[str, Any]) -> PoemSet:
    """The inverse of :func:`set_record`."""
    return PoemSet(
        id=str(record["id"]),
        name_zh=str(record["name_zh"]),
        name_en=str(record["name_en"]),
        count=int(record["count"]),
        categories=tuple(str(c) for c in record["categories"]),
        aliases=tuple(str(a) for a in record["aliases"]),
    )


def poem_record(poem: Poem) -> dict[str, Any]:
    """The JSON form of a poem, as stored with the index; judgments are pairs so their order survives
    stores that do not keep the order of object keys."""
    return {
        "set_id": poem.set_id,
        "set_name": poem.set_name,
        "number": poem.number,
        "rank": poem.rank,
        "title": poem.title,
        "verse": list(poem.verse),
        "judgments": [[j.category, j.text] for j in poem.judgments],
        "attributes": dict(poem.attributes),
        "alt_titles": list(poem.alt_titles),
        "source": poem.source,
    }


def poem_from_record(record: Mapping[str, Any]) -> Poem:
    """The inverse of :func:`poem_record`."""
    return Poem(
        set_id=str(record["set_id"]),
        set_name=str(record["set_name"]),
        number=int(record["number"]),
        rank=str(record["rank"]),
        title=str(record["title"]),
        verse=tuple(str(line) for line in record["verse"]),
        judgments=tuple(Judgment(str(c), str(t)) for c, t in record["judgments"]),
        attributes={str(k): str(v) for k, v in record["attributes"].items()},
        alt_titles=tuple(str(t) for t in record["alt_titles"]),
        source=str(record["source"]),
    )


def _load_folder(folder: Traversable) -> Corpus:
    described = _read_sets(folder / SETS_FILE) if (folder / SETS_FILE).is_file() else {}
    files = {f.name.removesuffix(".jsonl"): f for f in folder.iterdir() if f.name.endswith(".jsonl")}
    for set_id in described:
        if set_id not in files:
            raise CorpusError(f"{SETS_FILE}: set '{set_id}': file {set_id}.jsonl not found")
    order = [*described, *sorted(set(files) - set(described))]
    if not order:
        raise CorpusError(f"{folder}: no .jsonl files")
    sets: list[PoemSet] = []
    poems: list[Poem] = []
    for set_id in order:
        poem_set, set_poems = _read_poems(files[set_id], described.get(set_id))
        sets.append(poem_set)
        poems.extend(set_poems)
    return Corpus(sets=tuple(sets), poems=tuple(poems))


def _read_sets(file: Traversable) -> dict[str, PoemSet]:
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{SETS_FILE}: invalid JSON: {exc}") from None
    entries = data.get("sets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CorpusError(f"{SETS_FILE}: field 'sets': expected a list")
    sets: dict[str, PoemSet] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"{SETS_FILE}: set {i}"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where}: expected a JSON object")
        poem_set = PoemSet(
            id=_set_id(where, entry.get("id"), "id"),
            name_zh=_text(where, entry, "name_zh"),
            name_en=_text(where, entry, "name_en", required=False),
            count=_positive(where, entry, "count"),
            categories=tuple(
                _ANNOTATION.sub("", c) for c in _strings(where, entry, "judgment_categories", minimum=1)
            ),
            aliases=tuple(_strings(where, entry, "aka_zh", minimum=0, required=False)),
        )
        if poem_set.id in sets:
            raise CorpusError(f"{where}: field 'id': duplicate set '{poem_set.id}'")
        sets[poem_set.id] = poem_set
    return sets


def _read_poems(file: Traversable, described: PoemSet | None) -> tuple[PoemSet, tuple[Poem, ...]]:
    name = file.name
    by_number: dict[int, tuple[int, Poem]] = {}
    for line_no, raw in enumerate(file.read_bytes().split(b"\n"), start=1):
        where = f"{name}:{line_no}"
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CorpusError(f"{where}: not UTF-8") from None
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        poem = _parse_poem(where, record, described)
        if poem.number in by_number:
            first = by_number[poem.number][0]
            raise CorpusError(f"{where}: field 'number': duplicate {poem.number} (first on line {first})")
        if by_number and poem.set_id != next(iter(by_number.values()))[1].set_id:
            raise CorpusError(f"{where}: field 'set_id': '{poem.set_id}' differs from the file's other lines")
        by_number[poem.number] = (line_no, poem)
    if not by_number:
        raise CorpusError(f"{name}: no poems")
    poems = tuple(by_number[n][1] for n in sorted(by_number))
    poem_set = described or _describe(poems)
    missing = sorted(set(range(1, poem_set.count + 1)) - set(by_number))
    if missing:
        shown = ", ".join(str(n) for n in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise CorpusError(f"{name}: field 'number': missing {shown} of 1..{poem_set.count}")
    return poem_set, poems


def _describe(poems: Sequence[Poem]) -> PoemSet:
    categories = dict.fromkeys(j.category for p in poems for j in p.judgments)
    first = poems[0]
    return PoemSet(
        id=first.set_id,
        name_zh=first.set_name,
        name_en="",
        count=max(p.number for p in poems),
        categories=tuple(categories),
    )


def _parse_poem(where: str, record: object, poem_set: PoemSet | None) -> Poem:
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    set_id = _set_id(where, record.get("set_id"), "set_id")
    if poem_set is not None and set_id != poem_set.id:
        raise CorpusError(f"{where}: field 'set_id': expected '{poem_set.id}', got '{set_id}'")
    number = _positive(where, record, "number")
    if poem_set is not None and number > poem_set.count:
        raise CorpusError(f"{where}: field 'number': {number} is past the set's count {poem_set.count}")
    verse = record.get("verse")
    if not (
        isinstance(verse, list)
        and len(verse) == VERSE_LINES
        and all(isinstance(v, str) and v.strip() for v in verse)
    ):
        raise CorpusError(f"{where}: field 'verse': expected {VERSE_LINES} non-empty strings")
    attributes, alt_titles = _attributes(where, record.get("attributes", {}))
    return Poem(
        set_id=set_id,
        set_name=_text(where, record, "set_name"),
        number=number,
        rank=_text(where, record, "rank", required=False),
        title=_text(where, record, "title"),
        verse=tuple(v.strip() for v in verse),
        judgments=_judgments(where, record.get("judgments"), poem_set),
        attributes=attributes,
        alt_titles=alt_titles,
        source=_text(where, record, "source", required=False),
    )


def _judgments(where: str, value: object, poem_set: PoemSet | None) -> tuple[Judgment, ...]:
    if not isinstance(value, dict) or not value:
        raise CorpusError(f"{where}: field 'judgments': expected a non-empty object of category → text")
    judgments = []
    for category, text in value.items():
        if not (isinstance(text, str) and text.strip() and category.strip()):
            raise CorpusError(f"{where}: field 'judgments.{category}': expected a non-empty string")
        if poem_set is not None and category not in poem_set.categories:
            raise CorpusError(f"{where}: field 'judgments.{category}': not a category of set '{poem_set.id}'")
        judgments.append(Judgment(category, text.strip()))
    return tuple(judgments)


def _attributes(where: str, value: object) -> tuple[dict[str, str], tuple[str, ...]]:
    if not isinstance(value, dict):
        raise CorpusError(f"{where}: field 'attributes': expected an object")
    scalars: dict[str, str] = {}
    alt_titles: tuple[str, ...] = ()
    for key, item in value.items():
        if key == "alt_titles":
            alt_titles = tuple(_strings(where, value, "alt_titles", minimum=0, field="attributes.alt_titles"))
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            scalars[key] = str(item)
        else:
            raise CorpusError(f"{where}: field 'attributes.{key}': expected a string or a number")
    return scalars, alt_titles


def _set_id(where: str, value: object, field: str) -> str:
    if not (isinstance(value, str) and _SET_ID.match(value)):
        raise CorpusError(f"{where}: field '{field}': expected a lower-case id like 'mazu60'")
    return value


def _text(where: str, record: Mapping[str, object], field: str, *, required: bool = True) -> str:
    value = record.get(field, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CorpusError(
            f"{where}: field '{field}': expected a non-empty string"
            if required
            else f"{where}: field '{field}': expected a string"
        )
    return value.strip()


def _positive(where: str, record: Mapping[str, object], field: str) -> int:
    value = record.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise CorpusError(f"{where}: field '{field}': expected a positive integer")
    return value


def _strings(
    where: str,
    record: Mapping[str, object],
    key: str,
    *,
    minimum: int,
    required: bool = True,
    field: str | None = None,
) -> Iterable[str]:
    value = record.get(key, None if required else [])
    if not (
        isinstance(value, list)
        and len(value) >= minimum
        and all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise CorpusError(f"{where}: field '{field or key}': expected a list of non-empty strings")
    return [v.strip() for v in value]
