"""The size limits of the bar: lines per file, complexity and arguments per function.

No source file of the package or the app grows past MAX_LINES. Ruff (run by `.ci/run`)
enforces complexity (C901, max-complexity 15) and argument count (PLR0913, max-args 10)
with per-file allowances in pyproject.toml; the tests here make those allowances a record
that only shrinks: each names its functions and numbers, none may grow, and an entry no
longer needed must go. (mypy, zero errors in geoapp/, is the third check of `.ci/run`.)
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 1200
FOLDERS = ("geoapp", "app_pages")
LIMIT_RULES = ("C901", "PLR0913")
#: An allowance line of pyproject.toml: the file, its rules, and the comment naming functions.
ALLOWANCE_LINE = re.compile(r'^"([^"]+)" = \[[^]]*\]\s*#\s*(.*)$')


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_line_count_reads_lines(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("a = 1\n\nb = 2\n", encoding="utf-8")  # three lines, the last one ended
    assert _line_count(f) == 3
    f.write_text("a = 1\nb = 2", encoding="utf-8")  # no newline at the end: still two
    assert _line_count(f) == 2


def test_the_folders_hold_source_files():
    for folder in FOLDERS:
        assert len(list((ROOT / folder).rglob("*.py"))) > 5, folder


def test_no_file_over_the_line_limit():
    over = {
        str(p.relative_to(ROOT)): n
        for folder in FOLDERS
        for p in sorted((ROOT / folder).rglob("*.py"))
        if (n := _line_count(p)) > MAX_LINES
    }
    assert not over, (
        f"files over {MAX_LINES} lines: {over}; split them by job (see docs/architecture.md)"
    )


def _allowances() -> dict[tuple[str, str], dict[str, int]]:
    """pyproject.toml's allowances: (file, rule) -> {function: its recorded number}.

    Each allowance line names its functions in its comment, e.g.
    ``"geoapp/x.py" = ["C901", "PLR0913"]  # C901: f 17, g 16; PLR0913: C.__init__ 12``.
    """
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    out: dict[tuple[str, str], dict[str, int]] = {}
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        m = ALLOWANCE_LINE.match(line)
        if not m or not set(lint["per-file-ignores"].get(m.group(1), ())) & set(LIMIT_RULES):
            continue
        for part in m.group(2).split(";"):
            rule, _, names = part.strip().partition(":")
            for item in names.split(","):
                name, number = item.split()
                out.setdefault((m.group(1), rule), {})[name.split(".")[-1]] = int(number)
    for path, rules in lint["per-file-ignores"].items():
        for rule in set(rules) & set(LIMIT_RULES):
            assert (path, rule) in out, f"{path}: name the {rule} functions in the comment"
    return out


def _offenders() -> dict[tuple[str, str], dict[str, int]]:
    """What ruff finds over the limits with no allowance: (file, rule) -> {function: number}."""
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", ".", "--select", ",".join(LIMIT_RULES),
         "--config", "lint.per-file-ignores={}", "--output-format", "json", "--exit-zero"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    out: dict[tuple[str, str], dict[str, int]] = {}
    for d in json.loads(proc.stdout):
        path = Path(d["filename"]).resolve()
        line = path.read_text(encoding="utf-8").splitlines()[d["location"]["row"] - 1]
        name = re.search(r"def (\w+)", line)
        number = re.search(r"\((\d+) > \d+\)", d["message"])
        assert name and number, d
        key = (path.relative_to(ROOT).as_posix(), d["code"])
        out.setdefault(key, {})[name.group(1)] = int(number.group(1))
    return out


def test_allowance_line_is_read():
    line = '"geoapp/x.py" = ["C901", "PLR0913"]  # C901: f 17, g 16; PLR0913: C.__init__ 12'
    m = ALLOWANCE_LINE.match(line)
    assert m and m.group(1) == "geoapp/x.py"
    assert m.group(2) == "C901: f 17, g 16; PLR0913: C.__init__ 12"


def test_limits_configured():
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert set(LIMIT_RULES) <= set(lint["select"])
    assert lint["mccabe"]["max-complexity"] == 15
    assert lint["pylint"]["max-args"] <= 10


def test_allowances_only_shrink():
    """Every function over a limit is listed with its number, and none grew past it.

    An allowance no longer needed must go too, so that the list only shrinks.
    """
    allowed, found = _allowances(), _offenders()
    assert allowed, "no allowance read from pyproject.toml"
    problems = []
    for key, funcs in found.items():
        for name, number in funcs.items():
            cap = allowed.get(key, {}).get(name)
            if cap is None:
                problems.append(f"{key[0]}: {name} is over the {key[1]} limit ({number})")
            elif number > cap:
                problems.append(f"{key[0]}: {name} grew to {number} ({key[1]} allowance {cap})")
    for key, funcs in allowed.items():
        for name in funcs:
            if name not in found.get(key, {}):
                problems.append(f"{key[0]}: {name} is within the {key[1]} limit: drop it")
    assert not problems, "split the function, or update pyproject.toml:\n" + "\n".join(problems)
