"""The documentation site: it builds with warnings as errors, and shows what it claims.

One Sphinx build (module fixture) executes every notebook and renders the
committed full benchmark run (``benchmarks/results.json``); the tests then look at
its output.  The build-time hooks of ``docs/conf.py`` are also tested directly,
including that a missing, broken or quick-run benchmark JSON fails the build
instead of leaving the performance page empty or showing smoke-run figures.
"""

import html
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx.errors import ExtensionError

import dualdiff
from dualdiff.coverage import classify

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = [
    "index", "installation", "concepts", "derivatives", "batched", "scipy", "sparse",
    "sparsity_detection", "taylor", "memory", "conventions", "errors", "trace", "rules",
    "coverage", "array_api", "cli", "performance", "scaling", "reference", "learning_path",
    "glossary",
]  # fmt: skip


def load_conf():
    spec = importlib.util.spec_from_file_location("dualdiff_docs_conf", DOCS / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text_of(path: Path) -> str:
    """The visible text of an HTML page: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    done = subprocess.run(
        [*command, str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (
        f"sphinx-build exited with {done.returncode}\n--- stderr ---\n{done.stderr[-8000:]}"
        f"\n--- stdout ---\n{done.stdout[-2000:]}"
    )
    return out


# --- the built site ----------------------------------------------------------------------------


def test_every_page_is_built(site):
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    index = (site / "index.html").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f'href="{page}.html"' in index, f"{page} is not in the index's table of contents"
    assert "4.0 + 4.0ε" in text_of(site / "index.html")  # the 30-second example


def test_every_notebook_is_rendered_with_its_outputs(site):
    assert NOTEBOOKS, "no notebooks to render"
    index = (site / "index.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        page = site / "notebooks" / f"{notebook.stem}.html"
        assert page.is_file(), notebook.name
        assert f'href="notebooks/{notebook.stem}.html"' in index, notebook.name
        # The notebooks are committed without outputs: outputs on the page mean the build ran it.
        assert "cell_output" in page.read_text(encoding="utf-8"), notebook.name


def test_api_reference_documents_the_public_api(site):
    reference = (site / "reference.html").read_text(encoding="utf-8")
    names = [f"dualdiff.{name}" for name in dualdiff.__all__]
    names += ["dualdiff.testing.check_jvp", "dualdiff.testing.check_sympy"]
    names += ["dualdiff.Dual.reshape"]
    names += ["dualdiff.rules.unary", "dualdiff.rules.binary"]
    missing = [name for name in names if f'id="{name}"' not in reference]
    assert not missing
    # docstrings rendered, not just signatures: a sentence and a shape from jacobian's docstring
    assert "f(x).shape + x.shape" in text_of(site / "reference.html")


def test_performance_page_shows_the_committed_runs_measurements(site):
    data = json.loads((site / "bench.json").read_text(encoding="utf-8"))
    page = text_of(site / "performance.html")
    assert data["rows"]
    for row in data["rows"]:
        assert f"{row['ratio']:.2f}x" in page, row
        assert row["method"] in page
    ratios = [row["ratio"] for row in data["rows"] if row["method"].startswith("dualdiff")]
    assert ratios and all(ratio > 0 for ratio in ratios)
    assert data["environment"]["date"] in page
    assert "% benchmark-tables" not in page


# --- the build-time hooks of docs/conf.py ------------------------------------------------------


def test_a_missing_benchmark_json_fails_the_build(tmp_path, monkeypatch):
    conf = load_conf()
    monkeypatch.setattr(conf, "BENCHMARK_JSON", tmp_path / "missing.json")
    with pytest.raises(ExtensionError, match="missing"):
        conf.load_benchmarks(SimpleNamespace(outdir=tmp_path / "out"))


def test_a_quick_or_broken_benchmark_json_fails_the_build(tmp_path, monkeypatch):
    conf = load_conf()
    path = tmp_path / "results.json"
    monkeypatch.setattr(conf, "BENCHMARK_JSON", path)
    row = {"benchmark": "scalar", "case": "x", "method": "m", "median": 1.0, "ratio": 1.0,
           "unit": "s"}
    for text, message in (
        ("{not json", "cannot read"),
        (json.dumps({"rows": [], "environment": {"quick": False, "date": "d"}}), "no rows"),
        (json.dumps({"rows": [row], "environment": {"quick": True, "date": "d"}}), "--quick"),
        (json.dumps({"rows": [row], "environment": {"quick": False}}), "no date"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ExtensionError, match=message):
            conf.load_benchmarks(SimpleNamespace(outdir=tmp_path / "out"))


def test_the_committed_benchmark_json_is_a_full_pinned_run():
    conf = load_conf()
    data = json.loads(conf.BENCHMARK_JSON.read_text(encoding="utf-8"))
    env = data["environment"]
    assert env["quick"] is False and env["date"] and env["cpu_count"]
    assert env["threads"]["variables"]["OPENBLAS_NUM_THREADS"] == "1"
    assert all(pool["num_threads"] == 1 for pool in env["threads"].get("pools", []))
    assert env["load_average"]["start"] is not None
    groups = {row["benchmark"] for row in data["rows"]}
    assert {"scalar", "elementwise", "jacobian", "jacobian memory", "hessian"} <= groups
    script = conf._benchmark_script()
    keys = {(row["benchmark"], row["case"], row["method"]) for row in data["rows"]}
    targets = {key for key in set(script.TARGETS) | set(script.LIMITS) if key[0] in groups}
    assert targets <= keys  # every target of the groups that ran was measured


def test_the_performance_page_cannot_lose_its_tables(tmp_path):
    conf = load_conf()
    app = SimpleNamespace(dualdiff_benchmarks={"rows": [], "environment": {}})
    with pytest.raises(ExtensionError, match="lost"):
        conf.insert_benchmark_tables(app, "performance", ["# Performance\n\nno marker\n"])
    with pytest.raises(ExtensionError, match="no rows"):
        conf.insert_benchmark_tables(app, "performance", [f"# P\n\n{conf.BENCHMARK_MARKER}\n"])
    with pytest.raises(ExtensionError, match="not run"):
        conf.insert_benchmark_tables(
            SimpleNamespace(), "performance", [f"# P\n\n{conf.BENCHMARK_MARKER}\n"]
        )
    other = ["# Other page\n"]
    conf.insert_benchmark_tables(app, "index", other)
    assert other == ["# Other page\n"]


def test_benchmark_tables_render_every_row():
    conf = load_conf()
    data = {
        "environment": {"date": "2030-01-01", "quick": True, "versions": {"numpy": "9"}},
        "rows": [
            {"benchmark": "scalar", "case": "x=0.7", "method": "base", "median": 3e-7,
             "ratio": 1.0, "unit": "s", "target": None, "ok": None},
            {"benchmark": "scalar", "case": "x=0.7", "method": "dualdiff", "median": 6.5e-6,
             "ratio": 21.666, "unit": "s", "target": 15.0, "ok": False},
            {"benchmark": "elementwise memory", "case": "n=10", "method": "dualdiff",
             "median": 3 * 2**20, "ratio": 3.0, "unit": "B", "target": 3.0, "ok": True},
            {"benchmark": "jacobian", "case": "n=9", "method": "dualdiff", "median": 1.5,
             "ratio": 3.0, "unit": "s", "target": 2.0, "ok": True, "target_kind": "absolute"},
        ],
        "skipped": ["jax: skipped (not installed)"],
    }  # fmt: skip
    source = [f"# Performance\n\n{conf.BENCHMARK_MARKER}\n"]
    conf.insert_benchmark_tables(SimpleNamespace(dualdiff_benchmarks=data), "performance", source)
    text = source[0]
    assert conf.BENCHMARK_MARKER not in text
    assert "| x=0.7 | dualdiff | 6.50 us | 21.67x | ≤ 15x | **no** |" in text
    assert "| n=9 | dualdiff | 1.50 s | 3.00x | ≤ 2.00 s | yes |" in text
    assert "| n=10 | dualdiff | 3.0 MiB | 3.00x | ≤ 3x | yes |" in text
    assert "| x=0.7 | base | 300.0 ns | 1.00x |  |  |" in text
    assert "2030-01-01" in text
    assert "jax: skipped (not installed)" in text


def test_notebooks_are_mirrored_into_the_docs(tmp_path, monkeypatch):
    conf = load_conf()
    source, copy = tmp_path / "notebooks", tmp_path / "docs" / "notebooks"
    (source / "data").mkdir(parents=True)
    (source / ".ipynb_checkpoints").mkdir()
    (source / "01_a.ipynb").write_text("{}")
    (source / "data" / "points.csv").write_text("1,2\n")
    (source / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb").write_text("{}")
    (copy / "old").mkdir(parents=True)
    (copy / "old" / "02_removed.ipynb").write_text("{}")
    monkeypatch.setattr(conf, "NOTEBOOKS", source)
    monkeypatch.setattr(conf, "NOTEBOOKS_COPY", copy)
    conf.mirror_notebooks(SimpleNamespace())
    files = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert files == ["01_a.ipynb", "data/points.csv"]
    assert not (copy / "old").exists()
    (source / "01_a.ipynb").write_text('{"changed": true}')
    conf.mirror_notebooks(SimpleNamespace())
    assert (copy / "01_a.ipynb").read_text() == '{"changed": true}'


def test_no_notebooks_fails_the_build(tmp_path, monkeypatch):
    conf = load_conf()
    monkeypatch.setattr(conf, "NOTEBOOKS", tmp_path)
    with pytest.raises(ExtensionError, match="no notebooks"):
        conf.mirror_notebooks(SimpleNamespace())


def test_coverage_page_lists_every_overridable_entry(site):
    text = text_of(site / "coverage.html")
    entries = classify()
    assert "unclassified" in text
    missing = [entry.name for entry in entries if entry.name not in text]
    assert not missing, missing[:10]


# --- maths offline, styled cells, the learning path, the glossary, the reference ----------------


def test_maths_renders_offline(site):
    """MathJax is served from the site itself: no page loads a script from elsewhere."""
    mathjax = site / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file() and mathjax.stat().st_size > 100_000
    pages = [*site.glob("*.html"), *site.glob("notebooks/*.html")]
    with_maths = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<script[^>]*src="(?:https?:)?//[^"]*"', text)
        assert not remote, (page.name, remote)
        if "tex-chtml.js" in text:
            assert 'src="_static/mathjax/tex-chtml.js"' in text or (
                'src="../_static/mathjax/tex-chtml.js"' in text
            ), page.name
            with_maths.append(page.stem)
    # pages with display maths load it: the guide's Robertson system, the dual-number page
    assert {"scipy", "concepts", "glossary"} <= set(with_maths)
    assert r"\begin{aligned}" in (site / "scipy.html").read_text(encoding="utf-8")


def test_notebook_input_and_output_cells_are_styled_apart(site):
    css = (site / "_static" / "dualdiff.css").read_text(encoding="utf-8")
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    rules = {selector.strip(): body for selector, body in rules.items()}
    inputs = rules["div.cell div.cell_input"]
    outputs = rules["div.cell div.cell_output"]
    assert "border-left" in inputs and "border-left" in outputs
    assert inputs != outputs and "background" in outputs
    page = (site / "notebooks" / f"{NOTEBOOKS[0].stem}.html").read_text(encoding="utf-8")
    assert "_static/dualdiff.css" in page
    assert "cell_input" in page and "cell_output" in page


def test_learning_path_links_every_notebook(site):
    page = (site / "learning_path.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f'href="notebooks/{notebook.stem}.html"' in page, notebook.name
    text = text_of(site / "learning_path.html")
    for planned in ("08 Sparse Jacobians", "09 Taylor mode"):
        assert planned in text  # linked once the notebook exists, named until then


def test_absent_notebooks_are_named_without_a_link(tmp_path, monkeypatch):
    conf = load_conf()
    (tmp_path / "01_here.ipynb").write_text("{}")
    monkeypatch.setattr(conf, "NOTEBOOKS", tmp_path)
    page = "| {doc}`One <notebooks/01_here>` | {doc}`Two <notebooks/02_planned>` |"
    source = [page]
    conf.unlink_absent_notebooks(SimpleNamespace(), "learning_path", source)
    assert source == [
        "| {doc}`One <notebooks/01_here>` | Two (notebook `02_planned`, not in this build) |"
    ]
    other = [page]
    conf.unlink_absent_notebooks(SimpleNamespace(), "index", other)
    assert other == [page]  # only the learning path is rewritten


def test_glossary_defines_its_terms_and_the_guide_links_them(site):
    glossary = (site / "glossary.html").read_text(encoding="utf-8")
    terms = ["primal", "tangent", "seed", "tag", "chunk", "batch", "JVP", "VJP", "HVP",
             "perturbation-confusion", "dual-number", "evaluation-trace", "forward-mode",
             "reverse-mode"]  # fmt: skip
    missing = [term for term in terms if f'id="term-{term}"' not in glossary]
    assert not missing
    # {term} references inside the glossary resolve to its entries
    assert 'href="#term-tag"' in glossary


def test_api_reference_opens_with_the_functions(site):
    reference = (site / "reference.html").read_text(encoding="utf-8")

    def at(name: str) -> int:
        position = reference.find(f'id="dualdiff.{name}"')
        assert position >= 0, name
        return position

    verbs = ["derivative", "gradient", "jacobian", "hessian", "hvp", "jvp"]
    assert [at(verb) for verb in verbs] == sorted(at(verb) for verb in verbs)
    first_method = reference.find('id="dualdiff.Dual.')
    assert at(verbs[-1]) < at("Dual") < first_method
    assert at("trace") < at("Dual") and at("register_ufunc") < at("Dual")


def test_trace_and_scipy_pages_show_their_results(site):
    trace_page = text_of(site / "trace.html")
    assert "v₋₁ x1 2 1" in trace_page and "v₅ v₄ \u2212 v₃ 11.6521 5.5" in trace_page
    scipy_page = text_of(site / "scipy.html")
    for name in ("minimize", "hessp", "least_squares", "curve_fit", "fsolve", "solve_ivp"):
        assert name in scipy_page
    assert "np.zeros_like(x, shape=...)" in scipy_page  # the rewrite, named in the prose
