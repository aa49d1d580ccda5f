"""What produces host samples: the psutil sampler, the simulated host and the agent.

The bottom layer beside the store: it imports nothing else of the app (``sample`` says what a
sample is, for the layers above to check).
"""
