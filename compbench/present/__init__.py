"""Presentation: terminal and Markdown tables, charts, image grids, the HTML report."""
