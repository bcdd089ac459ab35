"""Print the layout's numbers: files and lines per package, import edges between packages (grimp), import circles.

    .venv/bin/python scripts/architecture_metrics.py > docs/architecture-metrics.txt

Edges count importing-module → imported-module pairs, deferred (in-function) imports included.
"""

import sys
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [p for p in ("kamaji_ui", "console", "tenants", "datastores", "audit", "localcluster", "benchmarks", "tests")
            if (ROOT / p / "__init__.py").exists()]
APPS = [p for p in PACKAGES if p != "tests"]
# Sub-packages one level down whose edges are worth reading separately.
SUBPACKAGES = ("tenants.services", "tenants.controller", "tenants.controlplane", "tenants.live", "tenants.views",
               "tenants.api", "datastores.drivers", "datastores.services", "datastores.api")


def sizes(package: str) -> tuple[int, int, int, int]:
    py = [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    html = list((ROOT / package).rglob("*.html"))
    lines = lambda files: sum(len(f.read_text().splitlines()) for f in files)  # noqa: E731
    return len(py), lines(py), len(html), lines(html)


def strongly_connected(nodes, edges) -> list[list[str]]:
    """Tarjan: the circles (components of more than one node, or a node importing itself)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]
    succ = {n: sorted({b for a, b in edges if a == n}) for n in nodes}
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def owner(module: str, groups) -> str:
    for g in sorted(groups, key=len, reverse=True):
        if module == g or module.startswith(g + "."):
            return g
    return module.split(".")[0]


COMPOSITION_ROOT = ("kamaji_ui.settings", "kamaji_ui.urls", "kamaji_ui.api_urls", "kamaji_ui.asgi", "kamaji_ui.wsgi")


def composition(group: str, module: str) -> str:
    return "kamaji_ui[root]" if module in COMPOSITION_ROOT else group


def main() -> None:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    pairs = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)]

    print("## Files and lines per package (Python, migrations left out; templates)")
    print(f"{'package':<14}{'py files':>9}{'py lines':>10}{'html':>6}{'html lines':>12}")
    for p in PACKAGES:
        f, n, h, hn = sizes(p)
        print(f"{p:<14}{f:>9}{n:>10}{h:>6}{hn:>12}")

    print("\n## Import edges between top-level packages (module pairs)")
    top = Counter((owner(a, [*APPS, "tests"]), owner(b, [*APPS, "tests"])) for a, b in pairs)
    cross = {k: v for k, v in top.items() if k[0] != k[1]}
    for (a, b), n in sorted(cross.items()):
        if a != "tests":
            print(f"{a:>12} -> {b:<12} {n}")
    print("  tests -> " + ", ".join(f"{b} {n}" for (a, b), n in sorted(cross.items()) if a == "tests"))
    app_edges = {k for k in cross if "tests" not in k}
    print(f"app-to-app edges (distinct directions): {len(app_edges)}; module pairs: "
          f"{sum(cross[k] for k in app_edges)}")
    circles = strongly_connected(APPS, app_edges)
    print("circles between apps:", circles or "none")
    # The project's composition root (settings, URLconfs, ASGI) names the apps it assembles; with it
    # counted apart from the plumbing that the apps share, what is left is the apps' own structure.
    root = Counter((composition(owner(a, APPS), a), composition(owner(b, APPS), b)) for a, b in pairs
                   if not a.startswith(("tests", "benchmarks")) and not b.startswith(("tests", "benchmarks")))
    root_edges = {k for k in root if k[0] != k[1]}
    nodes = {n for edge in root_edges for n in edge}
    print("circles with kamaji_ui's composition root (settings, urls, asgi) apart:",
          strongly_connected(nodes, root_edges) or "none")

    print("\n## Inside the apps: edges between sub-packages")
    groups = [*APPS, *(s for s in SUBPACKAGES if s in graph.modules)]
    sub = Counter((owner(a, groups), owner(b, groups)) for a, b in pairs
                  if not a.startswith("tests") and not b.startswith("tests"))
    sub = {k: v for k, v in sub.items() if k[0] != k[1]}
    circles = strongly_connected(set(groups), set(sub))
    print("circles between packages and sub-packages:", circles or "none")

    print("\n## Module-level import circles (files)")
    app_modules = {m for m in graph.modules if not m.startswith("tests")}
    module_edges = {(a, b) for a, b in pairs if a in app_modules and b in app_modules}
    # A package's __init__ importing its own submodule is not a circle worth reporting.
    circles = strongly_connected(app_modules, module_edges)
    print(f"{len(circles)} circle(s)")
    for c in circles:
        print("  " + " <-> ".join(c))


if __name__ == "__main__":
    main()
