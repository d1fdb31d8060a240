"""jupyterlab-ibkr: a prebuilt JupyterLab extension; the Python package only ships it."""

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-ibkr"}]
