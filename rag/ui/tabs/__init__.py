"""The app's tabs, one module each: its components (``*_tab``) and the events that wire them
to :class:`rag.ui.handlers.Handlers`. Every function takes Gradio as ``gr`` and is called
inside ``gr.Blocks`` by :func:`rag.ui.app.build_app`; importing them does not load Gradio.

Example (inside ``gr.Blocks``, with Gradio loaded):
    >>> from rag.ui.tabs.ask import ask_tab
    >>> ui = ask_tab(gr, handlers, limits)  # doctest: +SKIP
"""
