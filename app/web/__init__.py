"""The HTTP face: Flask blueprints for the page and polls, the HTML stream, the JSON API
(``web/api/``), auth, operations, assets, the simulator, and the one error split.
"""
