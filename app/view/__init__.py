"""Rendering: what each region of a host's page shows (:class:`~app.view.regions.LiveView`),
rendered once per change, the inline SVG charts and the figures' formats. Jinja, no Flask.
"""
