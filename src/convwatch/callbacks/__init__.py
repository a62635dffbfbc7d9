"""Keras 3 callbacks that capture what a network learns and save it to a folder."""

from convwatch.callbacks.history_recorder import HistoryRecorder

__all__ = ["HistoryRecorder"]
