"""What produces host samples: the psutil sampler, the simulated host and the agent; and
``ask``, the command-line client of approvals that runs beside the agent on other machines.

The bottom layer beside the store: it imports nothing else of the app (``sample`` says what a
sample is, for the layers above to check).
"""
