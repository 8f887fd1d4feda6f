"""Dossier types as data (config/dossiers.toml). Pure: parse a dict, no I/O but
``load``."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.errors import NotFound
from .deadlines import DeadlineRule

LANGS = ("ar", "fr", "en")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ConfigError(ValueError):
    pass


def _names(raw, where: str) -> dict:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(lang), str) and raw[lang]
                                            for lang in LANGS):
        raise ConfigError(f"{where}: names need ar, fr and en")
    return {lang: raw[lang] for lang in raw}


def pick(names: dict, lang: str) -> str:
    return names.get(lang) or names.get("fr") or next(iter(names.values()), "")


@dataclass(frozen=True)
class Document:
    code: str
    names: dict
    required: bool = True


@dataclass(frozen=True)
class DossierType:
    code: str
    names: dict
    documents: tuple = ()
    deadlines: tuple = ()
    event: dict | None = None  # names of the date deadlines count from
    icon: str = "folder"
    box: str = "B"

    def name(self, lang: str) -> str:
        return pick(self.names, lang)

    def document(self, code: str) -> Document | None:
        return next((d for d in self.documents if d.code == code), None)

    @property
    def required(self) -> list[str]:
        return [d.code for d in self.documents if d.required]

    def missing(self, declared) -> list[str]:
        got = set(declared)
        return [c for c in self.required if c not in got]


@dataclass(frozen=True)
class DossierConfig:
    types: dict  # code -> DossierType, in file order
    insured_scheme: str = "cnss_ma"
    national_scheme: str = "cin_ma"
    insured_check: str | None = None  # override of the scheme's check rule
    box: str = "B"
    next_steps: dict = field(default_factory=dict)

    def type(self, code: str) -> DossierType:
        t = self.types.get(code)
        if t is None:
            from . import messages  # noqa: F401
            raise NotFound("dossier_type_not_found", type=code, choices=list(self.types))
        return t


def parse(data: dict) -> DossierConfig:
    from . import ids
    types: dict = {}
    receipt = data.get("receipt", {})
    default_box = str(receipt.get("box", "B"))
    for i, raw in enumerate(data.get("type", [])):
        code = raw.get("code", "")
        if not _CODE.match(code):
            raise ConfigError(f"type #{i + 1}: code {code!r} must be lower-case letters, "
                              "digits and _")
        if code in types:
            raise ConfigError(f"type {code}: defined twice")
        docs = []
        for d in raw.get("document", []):
            if not _CODE.match(d.get("code", "")):
                raise ConfigError(f"type {code}: document code {d.get('code')!r} is not valid")
            docs.append(Document(d["code"], _names(d.get("names"), f"{code}.{d['code']}"),
                                 bool(d.get("required", True))))
        if len({d.code for d in docs}) != len(docs):
            raise ConfigError(f"type {code}: a document code is repeated")
        rules = []
        for r in raw.get("deadline", []):
            days, months = r.get("within_days"), r.get("within_months")
            if (days is None) == (months is None):
                raise ConfigError(f"type {code}: deadline {r.get('code')!r} needs within_days "
                                  "or within_months (one of them)")
            rules.append(DeadlineRule(r.get("code", "deadline"),
                                      _names(r.get("names"), f"{code} deadline"),
                                      days=days, months=months))
        event = _names(raw["event"], f"{code}.event") if "event" in raw else None
        if rules and event is None:
            raise ConfigError(f"type {code}: deadlines need an `event` (the date they count from)")
        types[code] = DossierType(code, _names(raw.get("names"), code), tuple(docs), tuple(rules),
                                  event, raw.get("icon", "folder"), str(raw.get("box", default_box)))
    if not types:
        raise ConfigError("no dossier type is defined")
    ident = data.get("identity", {})
    cfg = DossierConfig(types, ident.get("insured", "cnss_ma"), ident.get("national", "cin_ma"),
                        ident.get("check"), default_box, receipt.get("next_steps", {}))
    ids.insured_scheme(cfg.insured_scheme, cfg.insured_check)  # unknown scheme: fail at start
    ids.national_scheme(cfg.national_scheme)
    return cfg


def load(path: Path) -> DossierConfig:
    with open(path, "rb") as f:
        return parse(tomllib.load(f))
