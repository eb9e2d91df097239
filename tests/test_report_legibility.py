"""What a board member reads, page by page: no 'nan', no '-0.00', no '1e+05', no True/False, no table off the page.

Three small board reports, each read back from its PDF with pypdf:

- the bundled bank at the suite's small size with 50 options, one of them labelled with 300 characters
  (many options, a long label, the ordinary pages);
- a book of one customer;
- a book in which no customer is profitable (cost of goods at 100 % of revenue).

Every table's laid-out box is checked against the page's content width with WeasyPrint's own layout of the
report's HTML. The rules are functions, so that ``test_the_checks_catch_what_they_look_for`` can show
each one failing on the text it exists to catch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from reports.commands.cli import main
from reports.numbers import MoneyFormat, number, plain, points, share

from .conftest import BUNDLED_SCENARIO, SMALL_RUN, pdf_text

pytestmark = pytest.mark.slow  # the whole file renders reports: the full suite's, not the fast tier's

LONG_LABEL = ("A very long option name that a scenario author wrote as a whole paragraph, saying what the option "
              "does for each segment of the book, which customers it contacts first, in which channel, at what cost, "
              "and why the board should care about any of it before the next quarterly review of the plan")[:300]
OPTIONS = 50
SMALL = [*SMALL_RUN, "--replications", "2", "--workers", "1", "--quiet", "--quarter", "2026Q4"]

# Text a board page never shows: a missing number, a negative or signed zero, scientific notation, a Python bool.
FORBIDDEN = {
    "nan": re.compile(r"\bnan\b", re.IGNORECASE),
    "inf": re.compile(r"\binf\b", re.IGNORECASE),
    "None": re.compile(r"\bNone\b"),
    "negative zero": re.compile(r"[-\u2212]0\.0+(?![0-9])"),
    "signed zero": re.compile(r"\+0\.000"),
    "EUR 0.0 k": re.compile(r"\s0\.0\s?k\b"),
    "scientific notation": re.compile(r"[0-9]e[+-]0", re.IGNORECASE),
    "True": re.compile(r"\bTrue\b"),
    "False": re.compile(r"\bFalse\b"),
    "percent without its space": re.compile(r"[0-9]%"),
}


def illegible(text: str) -> list[str]:
    """Each forbidden kind found in ``text``, with the words around it."""
    found = []
    for name, pattern in FORBIDDEN.items():
        for match in pattern.finditer(text):
            found.append(f"{name}: …{text[max(0, match.start() - 40):match.end() + 40]}…")
    return found


def tables_wider_than_the_page(html: Path) -> list[str]:
    """Every table box WeasyPrint lays out wider than its page's content box (with half a point of slack)."""
    import weasyprint

    document = weasyprint.HTML(filename=str(html)).render()
    wide = []
    for number_, page in enumerate(document.pages, start=1):
        box = page._page_box
        content = box.width  # the page box's content width: A4 less the margins
        stack = [box]
        while stack:
            current = stack.pop()
            if getattr(current, "element_tag", None) == "table" and current.margin_width() > content + 0.5:
                wide.append(f"page {number_}: a table {current.margin_width():.0f}px wide on {content:.0f}px")
            stack.extend(getattr(current, "children", []) or [])
    return wide


def _scenario(folder: Path) -> Path:
    """The bundled bank with 50 options: the bundled ones and copies of them, one labelled with 300 characters."""
    raw = yaml.safe_load(BUNDLED_SCENARIO.read_text())
    bundled = list(raw["strategies"].items())
    for index in range(OPTIONS - len(bundled)):
        name, spec = bundled[index % len(bundled)]
        raw["strategies"][f"variant_{index:02d}"] = {**spec, "label": f"{spec.get('label', name)}, variant {index}"}
    raw["strategies"]["variant_00"]["label"] = LONG_LABEL
    path = folder / "fifty_options.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The three reports, each rendered once for the module."""
    folder = tmp_path_factory.mktemp("legibility")
    cases = {
        "fifty options": [str(_scenario(folder)), "--set", "uncertainties={}"],
        # No uncertainties: the robustness section's text is read in the board report's own tests (test_sweep_report)
        "one customer": [str(BUNDLED_SCENARIO), "--set", "population.customers=1", "--set", "uncertainties={}"],
        "no profitable customer": [str(BUNDLED_SCENARIO), "--set", "population.cost_of_goods_share=1",
                                   "--set", "uncertainties={}"],
    }
    outs = {}
    for name, (scenario, *extra) in cases.items():
        out = folder / name.replace(" ", "_")
        assert main(["report", scenario, *SMALL, *extra, "--out", str(out)]) == 0, name
        outs[name] = out
    return outs


@pytest.mark.parametrize("case", ["fifty options", "one customer", "no profitable customer"])
def test_no_page_prints_nan_negative_zero_scientific_notation_or_a_bool(reports, case):
    text = pdf_text(PdfReader(reports[case] / "board_report.pdf"))
    assert not illegible(text), "\n".join(illegible(text)[:10])


@pytest.mark.parametrize("case", ["fifty options", "one customer", "no profitable customer"])
def test_no_table_is_wider_than_its_page(reports, case):
    assert not tables_wider_than_the_page(reports[case] / "board_report.html")


def test_fifty_options_and_a_long_label_fit(reports):
    text = pdf_text(PdfReader(reports["fifty options"] / "board_report.pdf"))
    assert "7 to a table" in text  # the trade-offs are split, not squeezed
    assert LONG_LABEL[:40] in text  # the long label is printed (wrapped in tables, shortened on charts)


def test_no_profitable_customer_says_so_instead_of_nan(reports):
    text = pdf_text(PdfReader(reports["no profitable customer"] / "board_report.pdf"))
    risk = text[text.index("Risk"):]
    assert "no profitable customer" in risk


def test_the_one_formatter_writes_zero_missing_and_large_values_plainly():
    thousands = MoneyFormat.for_amounts([50_000.0], "EUR")
    assert " ".join(thousands(0.0).split()) == "EUR 0" and " ".join(thousands(12.0).split()) == "EUR 12"
    assert thousands.bare(-1.0, signed=True) == "0.0" and thousands(float("nan")) == "n/a"
    assert " ".join(points(-0.0001).split()) == "0.00 pts" and number(-0.04, 1) == "0.0"
    assert number(0.0001, 3, signed=True) == "0.000" and share(float("nan")) == "n/a"
    assert " ".join(share(0.0031, 2).split()) == "0.31 %"
    assert plain(1e5) == "100,000" and plain(0.0003) == "0.0003" and plain(True) == "yes"


@pytest.mark.parametrize("bad, kind", [
    ("EUR 0.0 k", "EUR 0.0 k"), ("-0.00 pts", "negative zero"), ("\u22120.0 minutes", "negative zero"),
    ("+0.000", "signed zero"), ("profit at risk nan%", "nan"), ("an inf value", "inf"), ("None", "None"),
    ("market.size 1e+05", "scientific notation"), ("swings True", "True"), ("False", "False"),
    ("0.31% beside", "percent without its space"),
])
def test_the_checks_catch_what_they_look_for(bad, kind):
    assert any(found.startswith(kind) for found in illegible(f"Some words {bad} more words")), (bad, kind)
    assert not illegible("EUR 0 and 0.31 % and -0.02 to +0.05 and 12.0 k and 100,000 and 95 % CI")
