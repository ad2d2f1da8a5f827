"""The ``pdfonto`` command: embedded single-process mode and one-shot processing."""
