"""rcucheck's machinery, in layers whose dependencies point one way:

    cli → workflows → driver → interproc → engine → lower → frontend → build
                                     ↘ report          ↘ model
    (ir, the shared vocabulary of locations, events and findings, sits below all)

Nothing here imports `checkers/`: the CLI hands the checker classes to the driver.
"""

__version__ = "0.1.0"
