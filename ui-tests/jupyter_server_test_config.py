"""JupyterLab for the browser tests (ui-tests/global-setup.ts starts it with this file).

Galata's settings (no token, the galata helper extension, window.jupyterapp exposed), then ours:
loopback only, the port and root folder chosen by the global setup, no update or news checks. The
global setup points TMPDIR into its own folder, so the temporary folders Galata's helper makes go
with it.
Never use this configuration outside the tests: it switches the server's protections off.
"""

import os

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
configure_jupyter_server(c)

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = int(os.environ["IBKR_UI_LAB_PORT"])
c.ServerApp.port_retries = 0
c.ServerApp.allow_root = True  # containers and CI run as root
c.ServerApp.root_dir = os.environ["JUPYTERLAB_GALATA_ROOT_DIR"]
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.news_url = None
# Galata's tests delete their folders when they end: for good, not into ~/.local/share/Trash.
c.FileContentsManager.delete_to_trash = False
