"""Gradio tab builders: one small function per tab, handlers of a few lines."""
