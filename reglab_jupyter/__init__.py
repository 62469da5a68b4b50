"""The course's JupyterLab for students: nbgrader's Validate, readable.

A Jupyter server extension. Loaded (``make env`` and ``binder/postBuild``
enable it with ``jupyter server extension enable --sys-prefix
reglab_jupyter``), it makes the Validate button of nbgrader's notebook
toolbar use :class:`~reglab_jupyter.validate.ReadableValidator`, whose
report starts each failing test with the sentence that says what went
wrong, instead of the test cell's source. Nothing else is changed.

It is a package of its own, beside ``reglab``, so that the Jupyter server
does not import ``reglab`` (and with it PyTorch).
"""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "reglab_jupyter"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Make nbgrader's Validate handler build a ReadableValidator."""
    from nbgrader.server_extensions.validate_assignment import handlers

    from reglab_jupyter.validate import ReadableValidator

    handlers.Validator = ReadableValidator
    serverapp.log.info("reglab_jupyter: Validate lists each failing test's "
                       "sentence first")
