"""Build the docs site offline and check it in a headless browser.

The published site is nbdev's Quarto site. Quarto cannot be installed where there is no download,
so this renders nbdev's processed notebooks (`nbdev-proc-nbs`, the input Quarto gets) to static
HTML with the same sidebar order, then checks every page: each internal link and image resolves,
and no output holds a Python traceback. With `--screenshots DIR` it opens the index, a method
page and the report in headless Chromium (Debian's `chromium`, installed when missing) and saves
PNG screenshots.

    python .ci/docs.py --out _site_offline [--report REPORT_DIR] [--screenshots DIR]
"""
from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import mistune

ROOT = Path(__file__).resolve().parent.parent
_md = mistune.create_markdown(plugins=["table", "strikethrough", "url"], escape=False)
_CSS = """body{margin:0;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;line-height:1.5}
nav{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;background:#f6f8fa;border-right:1px solid #ddd;padding:12px}
nav a{display:block;padding:3px 6px;color:#1a5fb4;text-decoration:none;font-size:14px;border-radius:4px}
nav a.here{background:#1a5fb4;color:#fff} nav .site{font-weight:700;font-size:17px;margin-bottom:10px;color:#222}
main{margin-left:290px;max-width:980px;padding:10px 30px 60px}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:13px;border-radius:4px}
pre.out{background:#fff;border-left:3px solid #ccc} pre.err{background:#fff0f0;border-left:3px solid #c00}
table{border-collapse:collapse;margin:8px 0;font-size:13px} th,td{border:1px solid #ccc;padding:3px 7px}
img{max-width:100%} .desc{color:#555;font-size:17px;margin-top:-8px}"""


def _front(cell: dict) -> dict:
    "The YAML front matter nbdev writes into a processed notebook's first cell, as a flat dict."
    src = "".join(cell["source"])
    if not src.startswith("---"): return {}
    return {k.strip(): v.strip().strip("'\"") for k, _, v in (l.partition(":") for l in src.strip("-\n").splitlines()) if v}


def _no_attrs(md: str) -> str:
    "Drop Pandoc link attributes (`[a](b){target=...}`), which only Quarto reads."
    return re.sub(r"(\]\([^)]*\))\{[^}]*\}", r"\1", md)


def _links(text: str) -> str:
    "Point links at notebooks to their pages."
    return re.sub(r'href="([\w./-]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m[1]}.html{m[2] or ""}"', text)


def _output(o: dict) -> str:
    "One output as HTML."
    if o["output_type"] == "stream":
        return f'<pre class="{"err" if o.get("name") == "stderr" else "out"}">{html.escape("".join(o["text"]))}</pre>'
    if o["output_type"] == "error":
        return f'<pre class="err traceback">{html.escape(chr(10).join(o.get("traceback", [])))}</pre>'
    d = o.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in d: return f'<img src="data:{mime};base64,{"".join(d[mime]).strip()}" alt="figure">'
    if "image/svg+xml" in d:
        return f'<img src="data:image/svg+xml;base64,{base64.b64encode("".join(d["image/svg+xml"]).encode()).decode()}" alt="figure">'
    if "text/html" in d: return "".join(d["text/html"])
    if "text/markdown" in d: return _md(_no_attrs("".join(d["text/markdown"])))
    if "text/plain" in d: return f'<pre class="out">{html.escape("".join(d["text/plain"]))}</pre>'
    return ""


def render_notebook(nb: dict) -> tuple[str, str, str]:
    "A processed notebook as (title, description, HTML body)."
    cells, meta = nb["cells"], {}
    if cells and cells[0]["cell_type"] in ("raw", "markdown") and "".join(cells[0]["source"]).startswith("---"):
        meta, cells = _front(cells[0]), cells[1:]
    parts = []
    for c in cells:
        src = "".join(c["source"])
        if c["cell_type"] == "markdown":
            if src.startswith("<!-- WARNING"): continue
            parts.append(_md(_no_attrs(src)))
        elif c["cell_type"] == "code":
            directives = dict(re.findall(r"^#\|\s*([\w-]+):?\s*(.*)$", src, flags=re.M))
            if "hide" in directives or directives.get("include") == "false": continue
            code = "\n".join(l for l in src.splitlines() if not l.startswith("#|")).strip()
            if code and directives.get("echo") != "false": parts.append(f"<pre><code>{html.escape(code)}</code></pre>")
            parts += [_output(o) for o in c.get("outputs", [])]
    return meta.get("title", ""), meta.get("description", ""), _links("\n".join(parts))


def page(title: str, desc: str, body: str, nav: list[tuple[str, str]], here: str) -> str:
    "A whole page: the sidebar and the body."
    mark = lambda f: ' class="here"' if f == here else ""
    links = "".join(f'<a href="{f}"{mark(f)}>{html.escape(t)}</a>' for f, t in nav)
    head = f"<h1>{html.escape(title)}</h1>" + (f'<p class="desc">{html.escape(desc)}</p>' if desc else "")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} – clip_repro</title>'
            f'<style>{_CSS}</style></head><body><nav><div class="site">clip_repro</div>{links}</nav>'
            f"<main>{head}{body}</main></body></html>")


def build(out: Path, report: Path | None = None, proc: bool = True) -> list[Path]:
    "Render `_proc` (made by `nbdev-proc-nbs` unless `proc=False`) into `out`; returns the pages written."
    if proc: subprocess.run(["nbdev-proc-nbs"], cwd=ROOT, check=True, capture_output=True, text=True)
    procd = ROOT / "_proc"
    order = [l.strip()[2:] for l in (procd / "sidebar.yml").read_text().splitlines() if l.strip().startswith("- ") and l.strip().endswith(".ipynb")]
    if not order: raise SystemExit(f"{procd / 'sidebar.yml'} lists no notebooks")
    rendered = {f: render_notebook(json.loads((procd / f).read_text())) for f in order}
    nav = [(f.replace(".ipynb", ".html"), "Home" if f == "index.ipynb" else f"{f[:-6]}: {t}" if t else f[:-6])
           for f, (t, _, _) in rendered.items()]
    if report is not None: nav.append(("report.html", "Reproduction report"))
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    pages = []
    for f, (title, desc, body) in rendered.items():
        name = f.replace(".ipynb", ".html")
        (out / name).write_text(page(title or "clip_repro", desc, body, nav, name))
        pages.append(out / name)
    if report is not None:
        md = re.sub(r"\A# [^\n]*\n", "", (report / "report.md").read_text())      # the page has its own title
        for png in [report / "scenes.png", *sorted(report.glob("figures/*.png"))]:   # the images report.md names
            (out / png.relative_to(report)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(png, out / png.relative_to(report))
        (out / "report.html").write_text(page("Reproduction report", "", _links(_md(md)), nav, "report.html"))
        pages.append(out / "report.html")
    return pages


class _Refs(HTMLParser):
    "Collects the href and src attributes of a page."
    def __init__(self):
        super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"): self.refs.append(("link", a["href"]))
        if tag == "img" and a.get("src"): self.refs.append(("image", a["src"]))


def check(pages: list[Path]) -> list[str]:
    "Problems a reader would trip on: missing pages or images, broken internal links, tracebacks in outputs."
    problems = []
    for p in pages:
        text = p.read_text()
        refs = _Refs(); refs.feed(text)
        for kind, ref in refs.refs:
            if re.match(r"^(https?:|mailto:|data:|#)", ref): continue
            target = (p.parent / ref.split("#")[0]).resolve()
            if not target.is_file(): problems.append(f"{p.name}: {kind} {ref} does not exist")
        if "Traceback (most recent call last)" in text or 'class="err traceback"' in text:
            problems.append(f"{p.name}: an output holds a Python traceback")
    return problems


def screenshots(site: Path, names: list[str], out: Path) -> list[Path]:
    "Open each page in headless Chromium and save a PNG of it; installs Debian's chromium when it is missing."
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, capture_output=True)
        exe = shutil.which("chromium")
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for n in names:
        png = out / f"{Path(n).stem}.png"
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1400",
                        f"--screenshot={png}", (site / n).resolve().as_uri()], check=True, capture_output=True, timeout=120)
        if not png.is_file() or png.stat().st_size < 5000: raise SystemExit(f"screenshot of {n} is missing or blank")
        shots.append(png)
    return shots


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="_site_offline", help="folder for the static site (replaced)")
    ap.add_argument("--report", help="a `clip-repro reproduce` output folder whose report.md becomes report.html")
    ap.add_argument("--screenshots", help="folder for PNG screenshots of the index, a method page and the report")
    ap.add_argument("--method-page", default="07_explain_eval.html", help="the method page to screenshot")
    a = ap.parse_args()
    site = Path(a.out)
    pages = build(site, Path(a.report) if a.report else None)
    problems = check(pages)
    if a.report:   # the report's own self-contained page: every image inlined, nothing to fetch beside it
        own = Path(a.report) / "report.html"
        refs = _Refs(); refs.feed(own.read_text() if own.is_file() else "")
        if not own.is_file(): problems.append(f"{own} is missing")
        problems += [f"{own}: image {ref[:60]} is not inlined" for kind, ref in refs.refs if kind == "image" and not ref.startswith("data:")]
    for p in problems: print("DOCS:", p)
    if problems: sys.exit(1)
    print(f"docs: {len(pages)} pages in {site}, every internal link and image resolves, no traceback")
    if a.screenshots:
        names = ["index.html", a.method_page] + (["report.html"] if a.report else [])
        print("screenshots:", ", ".join(str(s) for s in screenshots(site, names, Path(a.screenshots))))
