"""Build our own upload fixtures in each format (no binary files in the repo)."""

from __future__ import annotations

import io
import zipfile

TITLE = "关于推进职业教育产教融合的实施意见"
BODY = ["为深化产教融合,现提出如下意见。", "一、总体要求", "到2025年,建成10个市域产教联合体。"]
TABLE = [
    ["序号", "任务", "责任单位"],
    ["1", "建设实训基地", "市教育局"],
    ["2", "双师型教师培训", "市人社局"],
]


def make_docx() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(TITLE)
    for line in BODY:
        doc.add_paragraph(line)
    table = doc.add_table(rows=len(TABLE), cols=len(TABLE[0]))
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    doc.add_paragraph("兰州市教育局 2021年3月22日")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def make_pdf(pages: list[str] | None = None) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in pages or [TITLE + "\n" + BODY[0], BODY[1] + "\n" + BODY[2]]:
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(page.split("\n")):
            c.drawString(72, 800 - 18 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_scanned_pdf() -> bytes:
    """A page with only a drawing on it: what a scan without OCR looks like to a parser."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(72, 500, 400, 250, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_html(charset: str = "gbk") -> bytes:
    page = (
        f'<html><head><meta charset="{charset}"><title>{TITLE}_兰州市人民政府</title></head>'
        '<body><div class="nav">首页 | 政务公开 | 政策文件</div>'
        f'<div class="article"><h1>{TITLE}</h1>'
        + "".join(f"<p>{line}</p>" for line in BODY * 3)
        + "<table>"
        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in TABLE)
        + "</table></div><div class='footer'>版权所有:兰州市人民政府 网站标识码6201000001</div>"
        "</body></html>"
    )
    return page.encode(charset)


def make_zip_bomb() -> bytes:
    """A .docx-shaped ZIP whose one part expands 1000-fold."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>" + "a" * 50_000_000 + "</w:document>")
    return buf.getvalue()
