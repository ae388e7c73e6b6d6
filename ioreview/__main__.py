from ioreview.cli import run

run()
