"""Imported by the fork server the workers of `twb train --nproc-per-node N` are forked from (the
last of core.distributed.launch's WORKER_MODULES), and by nothing else: it makes that server end
without the interpreter's teardown.

The server exits once the launcher has (its pipe from the launcher closes); by then every
worker has ended and the server has nothing left to do, but tearing down an interpreter with
torch imported took 0.8 s of CPU here, with the job's output held open all the while (a
`twb train ... | tee log` waited for it). The workers forked from the server inherit this exit
handler but never run it: a forked worker ends with os._exit (multiprocessing.forkserver).
"""
import atexit
import os

atexit.register(os._exit, 0)
