"""The dashboard's domain: alerts and their rules, tasks, events, custom metrics, the fleet,
and the payload schemas of the API. Knows the store and the sample's shape; nothing of HTTP,
HTML or the event loop.
"""
