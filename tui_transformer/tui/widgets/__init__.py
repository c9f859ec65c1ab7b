"""Widgets of the dashboard: charts, panels, the training form and the slider."""
