"""The daily situation report as a self-contained HTML page (map inlined as SVG) and as a PDF (fpdf2,
with the DejaVu fonts matplotlib ships, so any script prints). Nothing is fetched: it renders offline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2

from truceline.web import TEMPLATES

STATUS_RGB = {"holding": (46, 125, 50), "strained": (249, 168, 37), "broken": (198, 40, 40),
              "not_in_force": (158, 158, 158)}  # fmt: skip


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def html(context: dict[str, Any], map_svg: str) -> str:
    # The SVG comes from our own charts module (matplotlib), never from user input.
    svg = map_svg[map_svg.find("<svg") :]
    return _env().get_template("sitrep.html").render(**context, map_svg=svg)


def _fonts() -> tuple[Path, Path]:
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return base / "DejaVuSans.ttf", base / "DejaVuSans-Bold.ttf"


def pdf(context: dict[str, Any], map_png: bytes) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    regular, bold = _fonts()
    doc = FPDF(orientation="landscape", format="A4")
    doc.set_creation_date(context["generated_at"])
    doc.set_title(f"Situation report {context['day']}")
    doc.set_author("Truceline")
    doc.add_font("DejaVu", "", str(regular))
    doc.add_font("DejaVu", "B", str(bold))
    doc.set_auto_page_break(auto=True, margin=12)
    doc.add_page()
    doc.set_font("DejaVu", "B", 16)
    doc.cell(0, 9, f"Daily situation report: {context['day_long']}", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 9)
    scope = f" · zone: {context['scope']}" if context["scope"] else ""
    doc.cell(0, 5, f"Prepared for {context['party']} at {context['generated']}{scope}", new_x="LMARGIN", new_y="NEXT")
    c = context["counts"]
    doc.cell(0, 6, f"{c['broken']} zone(s) broken · {c['strained']} strained · {c['holding']} holding · "
                   f"{len(context['incidents'])} incident(s) · {len(context['conflicts'])} open conflict(s) · "
                   f"{len(context['overdue'])} overdue message(s) · "
                   f"{len(context['awaiting'])} zone(s) awaiting your signature",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    doc.ln(2)
    doc.image(io.BytesIO(map_png), h=150, x=(doc.w - 150 * 1.25) / 2)

    heading = FontFace(emphasis="BOLD", fill_color=(240, 240, 240))

    def section(title: str) -> None:
        doc.ln(3)
        doc.set_font("DejaVu", "B", 12)
        doc.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        doc.set_font("DejaVu", "", 8)

    def table(header: list[str], rows: list[list[str]], widths: tuple[int, ...], empty: str,
              colour: int | None = None) -> None:  # fmt: skip
        if not rows:
            doc.cell(0, 6, empty, new_x="LMARGIN", new_y="NEXT")
            return
        with doc.table(col_widths=widths, headings_style=heading, line_height=4.2, padding=1, text_align="LEFT") as t:
            t.row(header)
            for r in rows:
                row = t.row()
                for k, value in enumerate(r):
                    if colour is not None and k == colour:
                        rgb = STATUS_RGB.get(value.replace(" ", "_"), (255, 255, 255))
                        row.cell(value, style=FontFace(emphasis="BOLD", fill_color=rgb))
                    else:
                        row.cell(value)

    doc.add_page()
    section("Zones")
    table(["Zone", "Kind", "Zone status", "Ceasefire", "Why", "Incidents", "Possible", "Verified", "Deaths"],
          [[z["name"], z["kind"], z["zone_status"], z["status"].replace("_", " "), z["reason"], str(z["incidents"]),
            str(z["possible"]), str(z["verified"]), str(z["deaths"])] for z in context["zones"]],
          (40, 22, 24, 20, 70, 16, 16, 16, 14), "No zone.", colour=3)  # fmt: skip
    section("Incidents")
    table(["#", "Event", "Where", "Actors", "Deaths", "Verification", "Zones", "Sources"],
          [[str(i["n"]), i["event"], i["where"], i["actors"], str(i["deaths"]), i["status"].replace("_", " "),
            i["zones"], i["sources"]] for i in context["incidents"]],
          (8, 52, 34, 56, 13, 22, 34, 54), "No incident reported for this day.")  # fmt: skip
    section("Open conflicts")
    table(["Rule", "Reason", "Parties", "When"],
          [[x["rule"], x["reason"], x["parties"], x["when"]] for x in context["conflicts"]],
          (22, 140, 60, 50), "No open conflict of yours touches this day.")  # fmt: skip
    section("Overdue hotline messages")
    table(["Headline", "From", "Severity", "Sent", "Deadline"],
          [[m["headline"], m["from"], m["severity"], m["sent"] or "", m["deadline"] or ""] for m in context["overdue"]],
          (120, 40, 20, 46, 46), "None: every message addressed to you was acknowledged in time.")  # fmt: skip
    section("Zone negotiations this day")
    table(["Time", "Zone", "What happened"],
          [[x["at"], x["zone"], x["summary"]] for x in context["negotiations"]],
          (40, 50, 182), "No step in a negotiation that concerns you.")  # fmt: skip
    section("Awaiting your signature")
    table(["Zone", "Status", "Revision", "Your signature"],
          [[x["zone"], x["status"], str(x["revision"]), x["signature"]] for x in context["awaiting"]],
          (100, 60, 30, 82), "Nothing: no zone being negotiated waits for your signature.")  # fmt: skip
    doc.ln(4)
    doc.set_font("DejaVu", "", 7)
    rules = " ".join(f"{k.replace('_', ' ')}: {v}." for k, v in context["rules"].items())
    doc.multi_cell(0, 3.5, f"Ceasefire status — {rules}\nMap: Natural Earth country borders (public domain, via "
                           "world-atlas), zones and incidents from Truceline. Rendered offline.")  # fmt: skip
    return bytes(doc.output())
