"""The notebook tutorial (docs/tutorials/notebook.ipynb) runs from top to bottom: executed with
nbclient on a kernel of this Python, in a temporary folder so that no results land in the
repository, it raises nowhere and shows the results as an HTML table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorials" / "notebook.ipynb"
KERNEL = "perksim-test"  # a kernel spec written for this test: this Python, whatever is installed


def _kernel(folder: Path) -> KernelManager:
    """A kernel manager whose only kernel runs ``sys.executable -m ipykernel_launcher``."""
    write_kernel_spec(folder / KERNEL, overrides={"display_name": "perksim test"})
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder)]))


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_the_notebook_runs_and_shows_the_results_table(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    client = NotebookClient(nb, km=_kernel(tmp_path / "kernels"), timeout=300,
                            resources={"metadata": {"path": str(work)}})
    temp = tmp_path / "tmp"  # the kernel's tempfile folder: the notebook saves its results there
    temp.mkdir()
    # raises CellExecutionError, with the cell and its traceback, if a cell fails
    client.execute(env={**os.environ, "TMPDIR": str(temp)})
    assert client.km.kernel_spec.argv[0] == sys.executable
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert '<div class="perksim-results">' in html and "<table" in html
    assert all(v in html for v in ("klout_63", "relevance", "lottery"))
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the matplotlib figure
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "User " in text and "courtside" in text  # the explained user
    assert not list(work.iterdir())  # nothing is written where the notebook runs
    assert len(list(temp.glob("*/klout_pout/*/manifest.json"))) == 1  # but in a temporary folder
