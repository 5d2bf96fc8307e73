"""Cases and the collectors' work on them: notes, callbacks, calls, promises and plans as a collector records them, assignment, queue priorities, and who may see which case."""
