"""Read a user's file key by key, collect every problem, raise one error naming them all.

The validators of the layer catalog, standards profiles, zone mappings, batch specs,
demand profiles, projection tables, census tables and facility tables share this:

* :class:`Problems` collects problem lines that all start with the same place (a file,
  ``"FILE: run 2 ('a')"``, ``"FILE: line 7"``) and raises them together as ONE
  :class:`~geoapp.errors.InputError` (or the caller's subclass, e.g.
  :class:`~geoapp.errors.LayerFileError`): the user fixes every mistake in one pass.
* :class:`Table` reads a mapping (a parsed TOML table) through typed getters
  (:meth:`Table.text`, :meth:`Table.number`, :meth:`Table.integer`, :meth:`Table.flag`,
  :meth:`Table.choice`, :meth:`Table.texts`, :meth:`Table.labels`, :meth:`Table.table`,
  :meth:`Table.tables`, and :meth:`Table.check` for any other rule). A getter returns the
  value when it is sound; otherwise it records ``"<where>: key '<key>': <what to do>"``
  and returns None. :meth:`Table.unknown` names every key the file should not have, with a
  "did you mean" when one allowed key is close.
* :meth:`Problems.rows` checks a table's rows column by column and reports the bad cells
  row by row (``"FILE: row 3: column 'year' '20x5' is not a year"``).

Messages may hold ``{value}`` or ``{value!r}``, replaced by the value read (no other
braces are touched, so ``"{ en = '...' }"`` needs no escaping), or be a callable that
takes the value and returns the text.

Example
-------
>>> p = Problems("layer.toml")
>>> t = Table({"id": "x", "radii": [1, 2], "colour": "red"}, p)
>>> t.unknown({"id", "radii", "color"})
>>> t.number("target", required="missing; set it")
>>> p.lines  # doctest: +NORMALIZE_WHITESPACE
["layer.toml: key 'colour': unknown key (did you mean 'color'?); allowed keys are color, id, radii",
 "layer.toml: key 'target': missing; set it"]
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from geoapp.errors import InputError

__all__ = [
    "Message",
    "Problems",
    "Rule",
    "Table",
    "closest",
    "did_you_mean",
    "is_number",
    "read_toml",
]

#: A problem's text: a template (``{value}`` / ``{value!r}`` stand for the value read) or a
#: function of the value.
Message = str | Callable[[Any], str]
#: A check of a value: (predicate, message when the predicate is false).
Rule = tuple[Callable[[Any], bool], Message]

_ABSENT = object()


def _say(what: Message, value: Any) -> str:
    if callable(what):
        return what(value)
    return what.replace("{value!r}", repr(value)).replace("{value}", str(value))


def is_number(value: Any) -> bool:
    """Return True for a finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def closest(word: object, choices: Iterable[Any]) -> str | None:
    """Return the choice closest to ``word`` (a typo or another case), or None.

    >>> closest("colour", ["color", "icon"])
    'color'
    >>> closest("zzz", ["color"]) is None
    True
    """
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if close:
        return close[0]
    folded = [n for n in names if n.casefold() == str(word).casefold()]
    return folded[0] if folded else None


def did_you_mean(word: object, choices: Iterable[Any]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close.

    >>> did_you_mean("colour", ["color", "icon"])
    " (did you mean 'color'?)"
    >>> did_you_mean("zzz", ["color"])
    ''
    """
    match = closest(word, choices)
    return f" (did you mean {match!r}?)" if match is not None else ""


class Problems:
    """Problems found while reading one file, raised together.

    Parameters
    ----------
    where
        Start of every problem line: the file, or the file and a part of it
        (``"spec.toml: run 2 ('a')"``); "" for none.
    error
        The error class :meth:`raise_if_any` raises (:class:`InputError` or a subclass).
    lines
        A list to append to (shared with the caller or a parent); default a new one.
    """

    def __init__(
        self,
        where: object = "",
        error: type[InputError] = InputError,
        lines: list[str] | None = None,
    ) -> None:
        self.where = str(where)
        self.error = error
        self.lines: list[str] = [] if lines is None else lines

    def __len__(self) -> int:
        return len(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def within(self, part: str) -> Problems:
        """Return a view for a part of the file: lines start ``"<where>: <part>"``, same list."""
        where = f"{self.where}: {part}" if self.where else part
        return Problems(where, self.error, self.lines)

    def note(self, what: str) -> None:
        """Add ``"<where>: <what>"``."""
        self.lines.append(f"{self.where}: {what}" if self.where else what)

    def add(self, key: str, what: str) -> None:
        """Add ``"<where>: key '<key>': <what>"``."""
        self.note(f"key '{key}': {what}")

    def rows(
        self,
        lines: Sequence[int],
        checks: Sequence[tuple[Sequence[bool], Callable[[int], str]]],
        *,
        label: str = "row",
    ) -> list[bool]:
        """Add a problem per bad cell, row by row; return which rows had one.

        Parameters
        ----------
        lines
            The line (or row) number of each row, as the user sees it in the file.
        checks
            ``(bad, what)`` pairs in the order to report them within a row: ``bad[i]``
            is True when row ``i`` fails; ``what(i)`` says what is wrong with it.
        label
            ``"row"`` or ``"line"``: the word before the number.

        Returns
        -------
        list of bool
            True for every row with at least one problem.
        """
        failed = [False] * len(lines)
        flags = [list(bad) for bad, _ in checks]
        for i, line in enumerate(lines):
            for bad, (_, what) in zip(flags, checks, strict=True):
                if bad[i]:
                    self.note(f"{label} {line}: {what(i)}")
                    failed[i] = True
        return failed

    def raise_if_any(self, heading: str) -> None:
        """Raise one :attr:`error` with ``heading`` and every problem, if there is any.

        Raises
        ------
        InputError
            The class given as ``error``; its ``problems`` hold every line.
        """
        if self.lines:
            raise self.error(heading, self.lines)


class Table:
    """A mapping read key by key; every bad key becomes a line of :class:`Problems`.

    Parameters
    ----------
    data
        The mapping (e.g. a parsed TOML table).
    problems
        Where problems go.
    prefix
        Dotted path of this table in the file (``"rules[0]"``): problem keys read
        ``"rules[0].threshold"``.
    """

    def __init__(self, data: Mapping[str, Any], problems: Problems, prefix: str = "") -> None:
        self.data = data
        self.problems = problems
        self.prefix = prefix

    def key(self, name: str) -> str:
        """Return the key as the user should look for it: ``prefix.name``."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def get(self, name: str, default: Any = None) -> Any:
        """Return the raw value of ``name`` (unchecked)."""
        return self.data.get(name, default)

    def bad(self, name: str, what: str) -> None:
        """Record a problem with the key ``name`` of this table."""
        self.problems.add(self.key(name), what)

    def unknown(self, allowed: Iterable[str], hint: str | None = None) -> None:
        """Name every key not in ``allowed`` (sorted), with a "did you mean".

        Parameters
        ----------
        allowed
            The keys this table may hold.
        hint
            Said after ``"unknown key"``; default ``"allowed keys are <sorted allowed>"``;
            "" for nothing.
        """
        allowed = list(allowed)
        if hint is None:
            hint = f"allowed keys are {', '.join(sorted(allowed))}"
        for name in sorted(set(self.data) - set(allowed)):
            self.bad(
                name, f"unknown key{did_you_mean(name, allowed)}" + (f"; {hint}" if hint else "")
            )

    def require(self, names: Iterable[str], what: str = "missing") -> bool:
        """Name every key of ``names`` the table lacks; True when none is missing."""
        missing = [n for n in names if n not in self.data]
        for name in missing:
            self.bad(name, what)
        return not missing

    def check(
        self, name: str, *rules: Rule, default: Any = None, required: str | None = None
    ) -> Any:
        """Return the value of ``name`` when every rule holds, else record the first failing one.

        Parameters
        ----------
        name
            The key.
        *rules
            ``(predicate, message)`` pairs, checked in order; the first false predicate's
            message is recorded and None returned.
        default
            Returned when the key is absent and not ``required``.
        required
            When given, an absent key is a problem with this message (None returned).
        """
        value = self.data.get(name, _ABSENT)
        if value is _ABSENT:
            if required is not None:
                self.bad(name, required)
            return default if required is None else None
        for ok, what in rules:
            if not ok(value):
                self.bad(name, _say(what, value))
                return None
        return value

    def text(
        self,
        name: str,
        *,
        default: Any = None,
        required: str | None = None,
        blank: bool = False,
        what: Message = "{value!r} must be text",
    ) -> Any:
        """Return a string (non-blank unless ``blank``)."""
        return self.check(
            name,
            (lambda v: isinstance(v, str) and (blank or bool(v.strip())), what),
            default=default,
            required=required,
        )

    def number(
        self,
        name: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
        hi_open: bool = False,
        default: Any = None,
        required: str | None = None,
        what: Message | None = None,
    ) -> Any:
        """Return a finite number within ``lo``..``hi`` (bounds excluded when ``*_open``).

        The default message names the range: ``"-3 must be a number from 0 to 1"``.
        """
        if what is None:
            what = "{value!r} must be " + _range_text(lo, hi, lo_open, hi_open)

        def ok(v: Any) -> bool:
            return is_number(v) and _in_range(v, lo, hi, lo_open, hi_open)

        return self.check(name, (ok, what), default=default, required=required)

    def integer(
        self,
        name: str,
        *,
        lo: int | None = None,
        hi: int | None = None,
        default: Any = None,
        required: str | None = None,
        what: Message | None = None,
    ) -> Any:
        """Return a whole number (a TOML integer, not a bool) within ``lo``..``hi``."""
        if what is None:
            what = "{value!r} must be " + _range_text(lo, hi, False, False, "integer")

        def ok(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and _in_range(v, lo, hi)

        return self.check(name, (ok, what), default=default, required=required)

    def flag(self, name: str, default: bool = False, what: Message | None = None) -> Any:
        """Return ``true`` or ``false``."""
        return self.check(
            name,
            (lambda v: isinstance(v, bool), what or "{value!r} must be true or false"),
            default=default,
        )

    def choice(
        self,
        name: str,
        choices: Sequence[Any],
        *,
        default: Any = None,
        required: str | None = None,
        what: Message | None = None,
    ) -> Any:
        """One of ``choices``; the message lists them and suggests the closest."""
        if what is None:

            def what(v: Any) -> str:
                return f"{v!r} must be one of {', '.join(map(str, choices))}" + (
                    did_you_mean(v, choices) if isinstance(v, str) else ""
                )

        def ok(v: Any) -> bool:
            try:
                return v in choices
            except TypeError:  # an unhashable value, e.g. a TOML table
                return False

        return self.check(name, (ok, what), default=default, required=required)

    def texts(
        self,
        name: str,
        *,
        default: Any = None,
        required: str | None = None,
        nonempty: bool = False,
        what: Message = "must be a list of strings",
    ) -> Any:
        """Return a list of strings (not empty when ``nonempty``)."""

        def ok(v: Any) -> bool:
            return (
                isinstance(v, list)
                and all(isinstance(x, str) for x in v)
                and (bool(v) or not nonempty)
            )

        return self.check(name, (ok, what), default=default, required=required)

    def labels(
        self,
        name: str,
        *,
        need: Sequence[str] = (),
        text_ok: bool = False,
        default: Any = None,
        required: str | None = None,
        what: Message = "must be a table like { en = '...', zh = '...' }",
    ) -> Any:
        """Names by language, ``{ en = "...", zh = "..." }`` (a plain string when ``text_ok``).

        A plain string is returned as ``{"en": text}``; ``need`` lists the languages that
        must be present (``"needs at least an 'en' entry"``).
        """
        value = self.check(
            name,
            (
                lambda v: (
                    (text_ok and isinstance(v, str))
                    or (isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
                ),
                what,
            ),
            default=default,
            required=required,
        )
        if isinstance(value, str):
            return {"en": value}
        missing = [lang for lang in need if isinstance(value, dict) and lang not in value]
        if missing:
            self.bad(name, f"needs at least an {missing[0]!r} entry")
            return None
        return dict(value) if isinstance(value, dict) else value

    def table(
        self, name: str, *, required: str | None = None, what: Message = "must be a table"
    ) -> Table | None:
        """Return the nested table ``name`` as a :class:`Table` (keys ``name.<key>``), or None."""
        value = self.check(name, (lambda v: isinstance(v, dict), what), required=required)
        return None if value is None else Table(value, self.problems, self.key(name))

    def tables(
        self,
        name: str,
        *,
        nonempty: bool = True,
        what: Message | None = None,
        entry: Message = "must be a table",
    ) -> list[Table]:
        """Return an array of tables (``[[name]]``), each a :class:`Table` keyed ``name[i]``.

        An absent key gives ``[]`` (pair with :meth:`require` when it is required). A value
        that is not a list (or an empty one when ``nonempty``) is a problem (``what``,
        default ``"needs at least one [[name]] table"``); so is each entry that is not a
        table (``entry``, at key ``name[i]``), which is skipped.
        """
        what = what or f"needs at least one [[{name}]] table"
        value = self.check(
            name, (lambda v: isinstance(v, list) and (bool(v) or not nonempty), what)
        )
        out: list[Table] = []
        for i, item in enumerate(value or ()):
            where = f"{self.key(name)}[{i}]"
            if isinstance(item, dict):
                out.append(Table(item, self.problems, where))
            else:
                self.problems.add(where, _say(entry, item))
        return out


def _in_range(
    v: float, lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False
) -> bool:
    above = lo is None or (v > lo if lo_open else v >= lo)
    below = hi is None or (v < hi if hi_open else v <= hi)
    return above and below


def _num(v: float) -> str:
    """Return ``1,000,000`` for whole numbers, ``0.5`` otherwise."""
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _range_text(
    lo: float | None, hi: float | None, lo_open: bool, hi_open: bool, noun: str = "number"
) -> str:
    """Return ``"a number from 0 to 1"``, ``"a positive number"``, ``"a number above 0 ..."``."""
    article = "an" if noun[0] in "aeiou" else "a"
    if lo is not None and hi is not None and not lo_open and not hi_open:
        return f"{article} {noun} from {_num(lo)} to {_num(hi)}"
    if lo == 0 and lo_open and hi is None:
        return f"a positive {noun}"
    bounds = []
    if lo is not None:
        bounds.append(f"{'above' if lo_open else 'at least'} {_num(lo)}")
    if hi is not None:
        bounds.append(f"{'below' if hi_open else 'at most'} {_num(hi)}")
    return " ".join([f"{article} {noun}", " and ".join(bounds)]).strip()


def read_toml(
    path: Any,
    *,
    what: str = "file",
    hint: str = "",
    error: type[InputError] = InputError,
) -> dict[str, Any]:
    """Read a TOML file; a missing, undecodable or malformed file raises one clear error.

    Parameters
    ----------
    path
        The file (a :class:`pathlib.Path`).
    what
        What the file is, for the messages (``"layer file"``).
    hint
        Added after ``"<what> not found"`` (``"; give the path of a TOML file"``).
    error
        The error class to raise.

    Raises
    ------
    InputError
        ``error``: not found, a folder, not UTF-8, or not valid TOML (with the parser's
        line and column).
    """
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found{hint}") from None
    except IsADirectoryError:
        noun = what if what.endswith("file") else f"{what} TOML file"
        raise error(f"{path}: is a folder; give the {noun}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}. Fix the syntax.") from None
