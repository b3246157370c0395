"""Executes a notebook headless with nbclient on a named kernel, writes the executed
notebook and its HTML export (nbconvert), and prints a JSON summary of every cell's
outputs (output type, MIME types, stderr text) for the Node test to check.

usage: run_notebook.py IN.ipynb OUT.ipynb OUT.html KERNEL TIMEOUT_S
"""
import json
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def main():
    src, out_nb, out_html, kernel, timeout = sys.argv[1:6]
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel, timeout=int(timeout), allow_errors=False,
                            resources={"metadata": {"path": sys.argv[6] if len(sys.argv) > 6 else "."}})
    started = time.time()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc)[-2000:]
    except Exception as exc:  # kernel death, timeouts: report, do not hide
        error = "%s: %s" % (type(exc).__name__, str(exc)[-2000:])
    seconds = time.time() - started
    nbformat.write(nb, out_nb)
    body, _ = HTMLExporter().from_notebook_node(nb)
    with open(out_html, "w", encoding="utf-8") as f:
        f.write(body)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            entry = {"type": o.output_type}
            if o.output_type in ("display_data", "execute_result"):
                entry["mime"] = sorted(o.get("data", {}).keys())
                entry["dashboard"] = "dralab-dashboard" in str(o.get("data", {}).get("text/html", ""))
            elif o.output_type == "stream":
                entry["name"] = o.name
                entry["text"] = o.text[-1500:]
            elif o.output_type == "error":
                entry["ename"] = o.ename
                entry["evalue"] = o.evalue
            outputs.append(entry)
        cells.append({"source": cell.source[:200], "outputs": outputs})
    print(json.dumps({"error": error, "seconds": seconds, "cells": cells}))


if __name__ == "__main__":
    main()
