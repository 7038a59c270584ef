"""Imported by the fork server the workers of `twb train --nproc-per-node N` are forked from (the
last of core.distributed.launch's WORKER_MODULES), and by nothing else: the server dies with the
launcher, and ends without the interpreter's teardown.

- It would otherwise outlive a launcher killed with SIGKILL, and so would the workers, training
  on, orphaned, to the end of the run: every worker holds the server's pipe open, and a worker
  learns that its parent died (core.commands.train_ddp) only when the server does.
- It exits once the launcher has (its pipe from the launcher closes), when every worker has
  ended and nothing is left to do; but tearing down an interpreter with torch imported took
  0.8 s of CPU here, with the job's output held open all the while (a `twb train ... | tee log`
  waited for it). The workers forked from the server inherit this exit handler but never run
  it: a forked worker ends with os._exit (multiprocessing.forkserver).
"""
import atexit
import os
import signal

from core.distributed.lifetime import signal_when_parent_dies

signal_when_parent_dies(signal.SIGKILL)
atexit.register(os._exit, 0)
